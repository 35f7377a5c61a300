"""The dbt project as Dagster assets: staging → intermediate → marts, dbt tests as asset checks."""

import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from functools import cached_property
from importlib.metadata import version as installed_version
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject, dbt_assets
from packaging import version

from pipelines.lib.config import today_local

from .resources import ParSettingsResource

DBT_PROJECT_DIR = Path(__file__).resolve().parents[2] / "dbt_project"
# The dbt of this interpreter's environment (the venv), whatever PATH says.
DBT_EXECUTABLE = str(Path(sys.executable).with_name("dbt"))

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)


def _project_fingerprint() -> str:
    """Hash of every file dbt parses: a manifest built from other files is stale."""
    digest = hashlib.sha256()
    for folder in ("models", "seeds", "macros", "tests"):
        for path in sorted((DBT_PROJECT_DIR / folder).rglob("*")):
            if path.is_file():
                digest.update(str(path.relative_to(DBT_PROJECT_DIR)).encode())
                digest.update(path.read_bytes())
    for name in ("dbt_project.yml", "profiles.yml"):
        digest.update((DBT_PROJECT_DIR / name).read_bytes())
    return digest.hexdigest()


def ensure_manifest() -> None:
    """Build target/manifest.json whenever the project's files changed since it was built — under
    `dagster dev` (on every code reload), in tests, CI and `make run` alike. dagster-dbt's own
    preparer only acts under `dagster dev` and looks for `dbt` on PATH; this uses the venv's dbt."""
    stamp = dbt_project.manifest_path.with_name("manifest.fingerprint")
    fingerprint = _project_fingerprint()
    if dbt_project.manifest_path.exists() and stamp.exists() and stamp.read_text() == fingerprint:
        return
    env = {
        "PAR_DBT_AS_OF": today_local().isoformat(),  # any date parses; a run sets its own
        **os.environ,
        "PAR_WAREHOUSE": os.environ.get("PAR_WAREHOUSE", "warehouse/par.duckdb"),
    }
    done = subprocess.run(
        [DBT_EXECUTABLE, "parse", "--quiet", "--profiles-dir", str(DBT_PROJECT_DIR)],
        cwd=DBT_PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0 or not dbt_project.manifest_path.exists():
        raise RuntimeError(f"dbt parse failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    stamp.write_text(fingerprint)


ensure_manifest()


class ParDbtTranslator(DagsterDbtTranslator):
    """Asset keys `<layer>/<model>` (sources keep `raw/<table>`, the ingestion assets' keys) and one
    group per layer, so the graph reads sources → raw → staging → marts."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        kind = dbt_resource_props["resource_type"]
        if kind == "source":
            return dg.AssetKey([dbt_resource_props["source_name"], dbt_resource_props["name"]])
        if kind == "seed":
            return dg.AssetKey(["reference", dbt_resource_props["name"]])
        layer = dbt_resource_props["fqn"][1] if len(dbt_resource_props["fqn"]) > 2 else "models"
        return dg.AssetKey([layer, dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "seed":
            return "reference"
        fqn = dbt_resource_props["fqn"]
        return fqn[1] if len(fqn) > 2 else "models"


@dbt_assets(
    manifest=dbt_project.manifest_path,
    dagster_dbt_translator=ParDbtTranslator(),
    name="par_dbt",
)
def par_dbt_assets(context: dg.AssetExecutionContext, dbt: DbtCliResource, par: ParSettingsResource):
    """`dbt build` of staging → intermediate → marts (KPIs, gaps, the gate, the ranking's scores) with the
    run's as-of date. The ranking reaches marts.par_ranking in its own step after the gate (ranking.py)."""
    settings = par.get()
    # dbt runs as a subprocess against the same DuckDB file: no connection of ours is open here.
    os.environ["PAR_WAREHOUSE"] = str(settings.warehouse.resolve())
    # The as-of date goes in the environment (macros/par_dates.sql): the vars stay the same from night
    # to night, so dbt re-parses only the files that use the date, not the whole project.
    os.environ["PAR_DBT_AS_OF"] = settings.as_of.isoformat()
    dbt_vars = {name: value for name, value in settings.dbt_vars().items() if name != "as_of"}
    # Unit tests check the SQL, not the data: they run in `make test` (tests/test_dbt.py), not nightly.
    args = ["build", "--exclude-resource-type", "unit_test", "--vars", json.dumps(dbt_vars)]
    invocation = dbt.cli(args, context=context)
    try:
        yield from invocation.stream()
        _keep_partial_parse(invocation.target_path)
    finally:
        # never leave dbt running (and holding the warehouse lock) after a failure of ours
        if invocation.process.poll() is None:
            invocation.process.terminate()
            invocation.process.wait(timeout=60)


def _keep_partial_parse(target_path: Path) -> None:
    """Offer this invocation's parse to the next one (dagster-dbt copies `target/partial_parse.msgpack`
    into each invocation's own target folder): the next run's build starts from it and, with the same vars
    and files, skips the full parse (~5 s); dbt itself re-parses whenever vars or files differ."""
    target_path = Path(target_path)
    if not target_path.is_absolute():  # dagster-dbt's target paths are relative to the project
        target_path = DBT_PROJECT_DIR / target_path
    produced = target_path / "partial_parse.msgpack"
    if produced.exists():
        shared = DBT_PROJECT_DIR / "target" / "partial_parse.msgpack"
        tmp = shared.with_name(f"partial_parse.msgpack.tmp{os.getpid()}")
        shutil.copyfile(produced, tmp)
        os.replace(tmp, shared)


class ParDbtCliResource(DbtCliResource):
    """dagster-dbt (pinned 0.29.27) with two start-up costs removed. It learns the dbt version by running
    `dbt --version` in a subprocess, again in every step (~2.5 s each: dbt's imports); the executable is
    this environment's dbt, so its version is the installed dbt-core's."""

    @cached_property
    def _cli_version(self) -> version.Version:
        return version.parse(installed_version("dbt-core"))

    def _initialize_dbt_core_adapter(self, args):
        """No dbt adapter in this process: dagster-dbt opens one only to fetch row counts and column
        metadata, which this project does not ask for (it cost ~1.4 s of imports and profile loading
        per run). The build itself runs in dbt's own process, as always."""
        return None


dbt_resource = ParDbtCliResource(
    project_dir=dbt_project, profiles_dir=str(DBT_PROJECT_DIR), dbt_executable=DBT_EXECUTABLE
)
