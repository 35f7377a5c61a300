"""The dbt project as Dagster assets: staging → intermediate → marts, dbt tests as asset checks."""

import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject, dbt_assets

from .resources import ParSettingsResource

DBT_PROJECT_DIR = Path(__file__).resolve().parents[2] / "dbt_project"

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
# `dagster dev` re-parses on load; everywhere else (tests, CI, make run) build the manifest once here.
dbt_project.prepare_if_dev()
if not dbt_project.manifest_path.exists():
    dbt_project.preparer.prepare(dbt_project)


RANKING_MODEL = "par_ranking"


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
    exclude=RANKING_MODEL,
)
def par_dbt_assets(context: dg.AssetExecutionContext, dbt: DbtCliResource, par: ParSettingsResource):
    """`dbt build` of staging → intermediate → marts (KPIs, gaps, the gate) with the run's as-of date."""
    yield from _build(context, dbt, par)


@dbt_assets(
    manifest=dbt_project.manifest_path,
    dagster_dbt_translator=ParDbtTranslator(),
    name="par_ranking_dbt",
    select=RANKING_MODEL,
)
def par_ranking_assets(context: dg.AssetExecutionContext, dbt: DbtCliResource, par: ParSettingsResource):
    """The ranking runs as its own step, after the blocking gate check on marts/ranking_gate."""
    yield from _build(context, dbt, par)


def _build(context: dg.AssetExecutionContext, dbt: DbtCliResource, par: ParSettingsResource):
    settings = par.get()
    # dbt runs as a subprocess against the same DuckDB file: no connection of ours is open here.
    os.environ["PAR_WAREHOUSE"] = str(settings.warehouse.resolve())
    yield from dbt.cli(["build", "--vars", _vars_json(settings.dbt_vars())], context=context).stream()


def _vars_json(values: dict) -> str:
    import json

    return json.dumps(values)


# The dbt of this interpreter's environment (the venv), whatever PATH says.
DBT_EXECUTABLE = str(Path(sys.executable).with_name("dbt"))
dbt_resource = DbtCliResource(
    project_dir=dbt_project, profiles_dir=str(DBT_PROJECT_DIR), dbt_executable=DBT_EXECUTABLE
)
