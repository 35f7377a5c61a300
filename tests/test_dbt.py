"""The dbt project itself: `dbt build` with every unit test (hand-worked KPI cases) and data test,
on a warehouse whose raw schema the real ingestion wrote from real files."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import duckdb
from builders import (
    DOSSIER_COLUMNS,
    PAYMENT_COLUMNS,
    dossier_row,
    write_bieu_ii06a,
    write_csv,
    write_registers,
)
from conftest import ingest_all

DBT_DIR = Path(__file__).resolve().parents[1] / "dbt_project"
DBT = str(Path(sys.executable).with_name("dbt"))


def write_registers_and_a_dossier_month(src: Path) -> None:
    """The registers, and one machine export of March 2024 for S01."""
    write_registers(src)
    write_csv(
        src / "dossiers" / "dossiers_2024-03.csv",
        DOSSIER_COLUMNS,
        [dossier_row("2024-03", "S01", "1.004227", (2, 5, 3, 0, 4, 2, 1, 2, 1, 0), "2024-04-05T08:00:00")],
    )


def test_dbt_build_with_unit_and_data_tests(make_settings, tmp_path):
    src = tmp_path / "sources"
    write_registers_and_a_dossier_month(src)
    write_bieu_ii06a(
        src / "dossiers" / "bieu_2024-03.xlsx", [("Công an tỉnh", 2, 1, 1, 0, 2, 2, 0, 0, 0, 0, 0)]
    )
    write_csv(
        src / "payments" / "payments_2024-03.csv",
        PAYMENT_COLUMNS,
        [["T1", "S01-1", "1.004227", "S01", "2024-03-01T10:00:00", "1000", "dvcqg", "thanh_cong"]],
    )
    settings = make_settings()
    ingest_all(settings)
    target = tmp_path / "dbt_target"
    env = {**os.environ, "PAR_WAREHOUSE": str(settings.warehouse), "DBT_TARGET_PATH": str(target)}
    done = subprocess.run(
        [DBT, "build", "--profiles-dir", str(DBT_DIR), "--vars", json.dumps(settings.dbt_vars())],
        cwd=DBT_DIR,
        env=env,
        capture_output=True,
        text=True,
    )
    results = json.loads((target / "run_results.json").read_text())["results"]
    failed = [
        (r["unique_id"], r["status"], r.get("message")) for r in results if r["status"] in ("fail", "error")
    ]
    assert done.returncode == 0 and not failed, f"{failed}\n{done.stdout[-4000:]}"
    unit_tests = [r for r in results if r["unique_id"].startswith("unit_test.")]
    data_tests = [r for r in results if r["unique_id"].startswith("test.")]
    assert len(unit_tests) >= 30 and all(r["status"] == "pass" for r in unit_tests)
    assert len(data_tests) >= 50


def test_the_dbt_resource_knows_the_version_of_the_dbt_it_runs():
    """The resource reads dbt-core's version from the package metadata instead of running `dbt --version`
    in every step: it must be the version the executable itself reports."""
    from pipelines.defs.dbt import DBT_EXECUTABLE, dbt_resource

    out = subprocess.run([DBT_EXECUTABLE, "--version"], capture_output=True, text=True, check=True).stdout
    installed = re.search(r"installed:\s*(\d+\.\d+\.\d+)", out)
    assert installed, out
    assert str(dbt_resource._cli_version) == installed.group(1)


def test_a_new_as_of_date_reaches_dbt_without_a_full_parse(make_settings, tmp_path, monkeypatch):
    """The nightly dbt step (Dagster, dagster-dbt) gets the as-of date from the environment: the marts
    follow the new date, and dbt re-parses only the files that use it (a changed var would re-parse
    the whole project every night)."""
    import dagster as dg

    from pipelines.defs.dbt import dbt_resource, par_dbt_assets
    from pipelines.defs.resources import ParSettingsResource

    src = tmp_path / "sources"
    write_registers_and_a_dossier_month(src)
    settings = make_settings()
    ingest_all(settings)
    monkeypatch.setenv("PAR_WAREHOUSE", str(settings.warehouse))
    monkeypatch.setenv("PAR_SOURCES", str(settings.sources))
    logs = []
    for as_of in ("2024-06-15", "2025-02-15"):
        monkeypatch.setenv("PAR_AS_OF", as_of)
        result = dg.materialize(
            [par_dbt_assets],
            resources={"dbt": dbt_resource, "par": ParSettingsResource()},
            raise_on_error=False,
        )
        assert result.success
        run_prefix = f"par_dbt-{result.run_id[:7]}-"
        (target,) = [p for p in (DBT_DIR / "target").iterdir() if p.name.startswith(run_prefix)]
        logs.append((target / "dbt.log").read_text())
        with duckdb.connect(str(settings.warehouse), read_only=True) as con:
            years = [
                r[0]
                for r in con.execute("SELECT DISTINCT year FROM marts.kpi_unit_year ORDER BY 1").fetchall()
            ]
        assert years[-1] == int(as_of[:4])  # marts hold the programme's years up to the as-of year
    assert "config vars, config profile, or config target have changed" not in logs[1]
    assert "Unable to do partial parsing" not in logs[1]
