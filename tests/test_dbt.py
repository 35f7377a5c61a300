"""The dbt project itself: `dbt build` with every unit test (hand-worked KPI cases) and data test,
on a warehouse whose raw schema the real ingestion wrote from real files."""

import json
import os
import subprocess
import sys
from pathlib import Path

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


def test_dbt_build_with_unit_and_data_tests(make_settings, tmp_path):
    src = tmp_path / "sources"
    write_registers(src)
    write_csv(
        src / "dossiers" / "dossiers_2024-03.csv",
        DOSSIER_COLUMNS,
        [dossier_row("2024-03", "S01", "1.004227", (2, 5, 3, 0, 4, 2, 1, 2, 1, 0), "2024-04-05T08:00:00")],
    )
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
