"""The expectation suites (quality.md) as Dagster asset checks: real DuckDB, real GX, real dbt.

One small, clean source tree is written here (3 units of 3 ranking groups, 2 procedures, 25 months of
balanced dossier exports, payments, SIPAS surveys *with phone numbers*, self-report, national ranks),
ingested and built with dbt once. Every suite passes on it. Each fault test then copies that warehouse,
plants exactly one kind of fault in the table the suite reads, and asserts the exact counts; the gate
tests re-run dbt on a copy (a negative count; three more missing months) so that `marts.ranking_gate`
itself says what blocked.
"""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
from pathlib import Path

import dagster as dg
import pytest

os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")

from pipelines.ingest.pipeline import ingest  # noqa: E402
from pipelines.lib.config import FEEDS, REGISTERS, load_settings  # noqa: E402
from pipelines.lib.warehouse import connect  # noqa: E402
from pipelines.quality import FEED_FRAMES, FRAMES, read_frame, run_frame  # noqa: E402
from pipelines.quality.feed_groups import forget_groups  # noqa: E402
from pipelines.quality.gx import (  # noqa: E402
    PersonalDataError,
    list_suites,
    load_suite,
    suite_config,
    validate_frame,
)

ROOT = Path(__file__).resolve().parents[1]
DBT_DIR = ROOT / "dbt_project"
AS_OF = "2023-02-20"  # 2021 and 2022 are over; January 2023 is expected, the year is in progress
UNITS = [
    ("S01", "Sở Tư pháp", "tinh", "so_nganh", ""),
    ("H01", "UBND huyện Nghi Lộc", "huyen", "ubnd_huyen", ""),
    ("X01", "UBND xã Nghi Phong", "xa", "ubnd_xa", "H01"),
]
P1, P2 = "1.004227", "2.000001"
MONTHS = [f"{y}-{m:02d}" for y in (2021, 2022) for m in range(1, 13)] + ["2023-01"]
MISSING = ("X01", "2022-05")  # one unit-month never reported: completeness 11/12 for X01 in 2022
PHONES = [f"09{8700000 + i:08d}" for i in range(400)]
# What a changed raw.dossiers needs rebuilt for the gate and the ranking (dbt: downstream ∩ upstream).
GATE_MODELS = "stg_dossiers__rows+,+int_ranking__scores"
DOSSIER_COLUMNS = (
    "ky_bao_cao,ma_don_vi,ma_thu_tuc,ton_ky_truoc,tiep_nhan_truc_tuyen,tiep_nhan_truc_tiep,tiep_nhan_buu_chinh,"
    "da_giai_quyet_truoc_han,da_giai_quyet_dung_han,da_giai_quyet_qua_han,dang_giai_quyet_trong_han,"
    "dang_giai_quyet_qua_han,tra_lai_rut,ngay_xuat"
).split(",")


# --------------------------------------------------------------------------------------------------
# The clean warehouse
# --------------------------------------------------------------------------------------------------


def _write(path: Path, header: list[str], rows: list[list]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


def write_sources(root: Path) -> None:
    _write(
        root / "registers" / "units.csv",
        "ma_don_vi,ten_don_vi,cap,nhom_xep_hang,ma_don_vi_cha,hieu_luc_tu,hieu_luc_den,ma_don_vi_ke_thua,ten_khac".split(
            ","
        ),
        [[code, name, level, group, parent, "", "", "", ""] for code, name, level, group, parent in UNITS],
    )
    _write(
        root / "registers" / "procedures.csv",
        (
            "ma_thu_tuc,ten_thu_tuc,linh_vuc,cap_thuc_hien,co_nghia_vu_tai_chinh,du_dieu_kien_truc_tuyen,"
            "muc_do_truc_tuyen,ngay_tich_hop_dvcqg,ngay_tich_hop_tttt,nam_don_gian_hoa,hieu_luc_tu,hieu_luc_den"
        ).split(","),
        [
            [
                P1,
                "Cấp bản sao",
                "tu_phap",
                "tinh;huyen;xa",
                1,
                1,
                "toan_trinh",
                "2021-01-01",
                "2021-01-01",
                2021,
                "",
                "",
            ],
            [
                P2,
                "Đăng ký khai sinh",
                "ho_tich",
                "tinh;huyen;xa",
                0,
                1,
                "mot_phan",
                "2021-01-01",
                "",
                "",
                "",
                "",
            ],
        ],
    )
    # Dossiers: balanced rows, 2 pending carried month to month, received 14/16/18 per unit-month.
    for i, month in enumerate(MONTHS):
        year, mon = int(month[:4]), int(month[5:])
        exported = f"{year + (mon == 12)}-{mon % 12 + 1:02d}-05T08:00:00"
        rows = []
        for unit, *_ in UNITS:
            if (unit, month) == MISSING:
                continue
            for proc, online, in_person, postal in ((P1, 4 + i % 3, 3, 1), (P2, 2 + i % 3, 4, 0)):
                opening = 0 if i == 0 else 2
                resolved = opening + online + in_person + postal - 2
                early, on_time = resolved // 2, resolved - resolved // 2 - 1
                rows.append(
                    [
                        month,
                        unit,
                        proc,
                        opening,
                        online,
                        in_person,
                        postal,
                        early,
                        on_time,
                        1,
                        2,
                        0,
                        0,
                        exported,
                    ]
                )
        _write(root / "dossiers" / f"dossiers_{month}.csv", DOSSIER_COLUMNS, rows)
    # Payments: 2022-01..03, per unit two successful online transactions and one at the desk.
    rows = []
    for unit, *_ in UNITS:
        for mon in (1, 2, 3):
            for k, channel in enumerate(("dvcqg", "cong_tinh", "truc_tiep"), start=1):
                rows.append(
                    [
                        f"T-{unit}-{mon}-{k}",
                        f"{unit}-22{mon:02d}10-{k:04d}",
                        P1,
                        unit,
                        f"2022-{mon:02d}-10T09:00:00",
                        50000,
                        channel,
                        "thanh_cong",
                    ]
                )
    _write(
        root / "payments" / "payments_2022.csv",
        "ma_giao_dich,ma_ho_so,ma_thu_tuc,ma_don_vi,thoi_diem,so_tien,kenh,trang_thai".split(","),
        rows,
    )
    # Surveys: 30 SIPAS and 2 CQHC responses per unit and year, each with a respondent phone number.
    rows = []
    n = 0
    for unit, *_ in UNITS:
        for year, day in ((2021, "2021-03-15"), (2022, "2022-03-15"), (2023, "2023-01-15")):
            for k in range(32):
                kind = "sipas" if k < 30 else "cqhc"
                answers = [3 + (k + q) % 3 for q in range(5)]
                rows.append(
                    [
                        f"P-{unit}-{year}-{k}",
                        kind,
                        unit,
                        "tu_phap" if kind == "sipas" else "",
                        day,
                        "giay",
                        *answers,
                        PHONES[n],
                    ]
                )
                n += 1
    _write(
        root / "surveys" / "surveys.csv",
        "ma_phieu,loai_khao_sat,ma_don_vi,linh_vuc,ngay_khao_sat,kenh,q1,q2,q3,q4,q5,so_dien_thoai".split(
            ","
        ),
        rows,
    )
    _write(
        root / "self_report" / "self_report_2022.csv",
        "nam,ma_don_vi,ma_chi_tieu,tu_so,mau_so,ghi_chu".split(","),
        [
            [2022, "S01", "legal_docs_implemented_rate", 49, 50, ""],
            [2022, "H01", "legal_docs_quality_on_time_rate", 9, 10, ""],
        ],
    )
    _write(
        root / "national_indices" / "national_ranks.csv",
        "nam,chi_so,diem,thu_hang,so_tinh,nguon".split(","),
        [
            [2021, "PAR_INDEX", "", 17, 63, "test"],
            [2022, "PAR_INDEX", "", 16, 63, "test"],
            [2022, "PAPI", "", 20, 63, "test"],
        ],
    )


def settings_for(warehouse: Path, **env):
    base = warehouse.parent
    return load_settings(
        {
            "PAR_SOURCES": str(base / "sources"),
            "PAR_WAREHOUSE": str(warehouse),
            "PAR_REPORTS": str(base / "reports"),
            "PAR_ARCHIVE": str(base / "archive"),
            "PAR_AS_OF": AS_OF,
            **env,
        }
    )


class Dbt:
    """dbt on a test warehouse, in process (dbtRunner: seconds saved per call), with its own target and log
    folders (never the project's); the same vars every time, so re-runs parse partially."""

    def __init__(self, scratch: Path):
        from dbt.cli.main import dbtRunner

        self.runner = dbtRunner()
        self.target = scratch / "dbt_target"
        self.logs = scratch / "dbt_logs"

    def __call__(self, warehouse: Path, *args: str) -> None:
        settings = settings_for(warehouse)
        command = [
            *args, "--vars", json.dumps(settings.dbt_vars()), "--profiles-dir", str(DBT_DIR),
            "--project-dir", str(DBT_DIR), "--target-path", str(self.target), "--log-path", str(self.logs), "-q",
        ]  # fmt: skip
        saved = os.environ.get("PAR_WAREHOUSE")
        os.environ["PAR_WAREHOUSE"] = str(warehouse)  # profiles.yml reads it
        try:
            result = self.runner.invoke(command)
        finally:
            _close_dbt_duckdb()
            if saved is None:
                os.environ.pop("PAR_WAREHOUSE", None)
            else:
                os.environ["PAR_WAREHOUSE"] = saved
        assert result.success, f"dbt {' '.join(args)} failed: {result.exception or result.result}"


def _close_dbt_duckdb() -> None:
    """dbt-duckdb keeps its DuckDB instance open in process after a run; close it so the checks can open
    the file read-only (a subprocess dbt would simply have exited)."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    with DuckDBConnectionManager._LOCK:
        if DuckDBConnectionManager._ENV is not None:
            DuckDBConnectionManager._ENV.close()
            DuckDBConnectionManager._ENV = None


@pytest.fixture(scope="module")
def scratch(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("quality")


@pytest.fixture(scope="module")
def dbt(scratch) -> Dbt:
    return Dbt(scratch)


@pytest.fixture(scope="module")
def clean_wh(scratch, dbt) -> Path:
    """Sources → ingest (every feed) → dbt seeds and models: the clean warehouse (never modified)."""
    warehouse = scratch / "clean" / "par.duckdb"
    write_sources(warehouse.parent / "sources")
    settings = settings_for(warehouse)
    with connect(warehouse) as con:
        for feed in (*REGISTERS, *FEEDS):
            result = ingest(settings, feed, con)
            assert result.rows_quarantined == 0, (feed, result.quarantine_reasons)
    dbt(warehouse, "build", "--resource-type", "seed", "--resource-type", "model")
    return warehouse


def copy_wh(clean: Path, tmp_path: Path) -> Path:
    target = tmp_path / "wh" / "par.duckdb"
    target.parent.mkdir(parents=True)
    shutil.copy(clean, target)
    return target


def execute(warehouse: Path, *statements: str) -> None:
    """Edit the warehouse by hand. Loaded rows edited in place: the kept check groups are forgotten, as
    docs/decisions.md asks of anyone who edits raw rows (pipelines/quality/feed_groups.py)."""
    with connect(warehouse) as con:
        for statement in statements:
            con.execute(statement)
        forget_groups(con)


def validate(warehouse: Path, name: str, **env):
    settings = settings_for(warehouse, **env)
    with connect(warehouse, read_only=True) as con:
        return run_frame(con, name, settings)


# --------------------------------------------------------------------------------------------------
# Suites as files
# --------------------------------------------------------------------------------------------------


def test_suites_are_gx_suites_one_per_frame():
    used = {frame.suite for frame in FRAMES.values()}
    assert set(list_suites()) == used
    for name in list_suites():
        config = suite_config(name)
        suite = load_suite(name)
        assert suite.name == name == config["name"]
        assert len(suite.expectations) == len(config["expectations"]) > 0
        assert config["meta"]["description"] and config["meta"]["asset"]
        for expectation in config["expectations"]:
            assert expectation["meta"]["label"]
            assert expectation["severity"] in ("critical", "warning")
    # Warnings never block: only the feed suites and the gate's checks 1, 3, 4 are critical.
    critical = {
        n for n in list_suites() for e in suite_config(n)["expectations"] if e["severity"] == "critical"
    }
    assert critical == {*(f.suite for f in FEED_FRAMES.values()), "ranking_gate", "kpi_bounds"}


# --------------------------------------------------------------------------------------------------
# Clean data
# --------------------------------------------------------------------------------------------------


def test_every_suite_passes_on_clean_data(clean_wh):
    expected_rows = {
        "feed_units": 3,
        "feed_procedures": 2,
        "feed_dossiers": 74,  # 25 months × 3 units − the missing unit-month (one export per month)
        "feed_payments": 27,  # 3 units × 3 months × 3 channels
        "feed_surveys": 18,  # 3 units × 3 years × (sipas, cqhc)
        "feed_self_report": 2,
        "feed_national_indices": 3,
        "dossier_balance": 74,
        "reporting_completeness": 9,  # 3 units × 3 years
        "survey_sample_size": 9,
        "cross_source": 9,  # 3 units × 3 months with online payments
        "ranking_gate": 3,
    }
    for name in FRAMES:
        df, result = validate(clean_wh, name)
        assert result.success, (name, result.as_dict())
        assert result.failed == 0 and result.evaluated > 0
        if name in expected_rows:
            assert result.rows == expected_rows[name], name
    df, result = validate(clean_wh, "received_outliers")
    assert result.rows > 40  # months with at least 6 months of history
    df, _ = validate(clean_wh, "reporting_completeness")
    x01 = df[(df.unit_code == "X01") & (df.year == 2022)].iloc[0]
    assert (x01.expected, x01.received) == (12, 11)  # 0.917 ≥ 0.9: passes


# --------------------------------------------------------------------------------------------------
# 1. Feeds: one fault each, in the loaded rows
# --------------------------------------------------------------------------------------------------


def test_feed_suites_fail_with_error_on_each_fault(clean_wh, tmp_path):
    from pipelines.defs.quality import suite_check_result

    wh = copy_wh(clean_wh, tmp_path)
    execute(
        wh,
        # a negative count (H01, 2022-04, P1) and a key twice in one export (S01, 2022-06, P2)
        f"UPDATE raw.dossiers SET tiep_nhan_truc_tuyen = -3 WHERE ma_don_vi = 'H01' AND ky_bao_cao = '2022-04' "
        f"AND ma_thu_tuc = '{P1}'",
        f"INSERT INTO raw.dossiers SELECT * FROM raw.dossiers WHERE ma_don_vi = 'S01' AND ky_bao_cao = '2022-06' "
        f"AND ma_thu_tuc = '{P2}'",
        "UPDATE raw.payments SET kenh = 'tien_mat' WHERE ma_giao_dich = 'T-X01-2-3'",
        "UPDATE raw.surveys SET q3 = 6 WHERE ma_phieu = 'P-S01-2022-7'",
        "INSERT INTO raw.self_report SELECT * FROM raw.self_report WHERE ma_don_vi = 'H01'",
        "UPDATE raw.national_indices SET thu_hang = 0 WHERE nam = 2022 AND chi_so = 'PAPI'",
        "UPDATE raw.units SET cap = 'thon' WHERE ma_don_vi = 'X01'",
    )
    _, r = validate(wh, "feed_dossiers")
    assert not r.success and r.failed == 2 and r.failing_rows == 2
    assert r.outcome("min_count").unexpected_count == 1 and r.outcome("min_count").sample == [-3]
    assert (
        r.outcome("min_count").rows[0]["unit_code"] == "H01"
        and r.outcome("min_count").rows[0]["period"] == "2022-04"
    )
    assert r.outcome("duplicate_key_rows").unexpected_count == 1 and r.outcome(
        "duplicate_key_rows"
    ).sample == [2]
    _, r = validate(wh, "feed_payments")
    assert (r.failed, r.outcome("kenh").unexpected_count, r.outcome("kenh").sample) == (1, 1, ["tien_mat"])
    _, r = validate(wh, "feed_surveys")
    assert (r.failed, r.outcome("max_answer").unexpected_count, r.outcome("max_answer").sample) == (1, 1, [6])
    _, r = validate(wh, "feed_self_report")
    unique = r.outcome("year × unit × indicator unique in an export")
    assert (r.failed, unique.unexpected_count) == (1, 2)  # both rows of the duplicated key
    _, r = validate(wh, "feed_national_indices")
    assert (r.failed, r.outcome("rank").unexpected_count, r.outcome("rank").sample) == (1, 1, [0])
    _, r = validate(wh, "feed_units")
    assert (r.failed, r.outcome("level").sample) == (1, ["thon"])
    _, r = validate(wh, "feed_procedures")
    assert r.success

    check = suite_check_result(
        "feed_dossiers", settings_for(wh), severity=dg.AssetCheckSeverity.ERROR,
        asset_key=dg.AssetKey(["raw", "dossiers"]), check_name="schema_validity",
    )  # fmt: skip
    assert not check.passed and check.severity == dg.AssetCheckSeverity.ERROR
    assert check.metadata["failing_rows"].value == 2 and check.metadata["rows_validated"].value == 74
    assert "-3" in check.metadata["expectations"].value


# --------------------------------------------------------------------------------------------------
# 2–6. Warnings
# --------------------------------------------------------------------------------------------------


def _warn(wh: Path, name: str, **env):
    from pipelines.defs.quality import suite_check_result

    check = suite_check_result(name, settings_for(wh, **env), severity=dg.AssetCheckSeverity.WARN)
    assert check.severity == dg.AssetCheckSeverity.WARN
    return check


# The dbt models that decide the balance rule from the winning rows (the check reads the second).
BALANCE_MODELS = "int_dossiers__unit_month int_dossiers__unit_month_balance"


def freeze_winning_rows(warehouse: Path) -> None:
    """The winning rows are a view over raw.dossiers: keep them as a table, so a test can alter exactly
    the rows the balance rule reads (then `rebuild_balance`)."""
    execute(
        warehouse,
        "CREATE TABLE intermediate.frozen AS SELECT * FROM intermediate.int_dossiers__winning_rows",
        "DROP VIEW intermediate.int_dossiers__winning_rows",
        "ALTER TABLE intermediate.frozen RENAME TO int_dossiers__winning_rows",
    )


def rebuild_balance(warehouse: Path, dbt) -> None:
    """After counts of frozen winning rows were edited: their balance flag follows the identity of
    sources.md (written out here, not taken from the staging model), and dbt rebuilds the unit-month
    tables the check reads from them."""
    execute(
        warehouse,
        "UPDATE intermediate.int_dossiers__winning_rows SET balance_ok = coalesce("
        "opening_pending + received_online + received_in_person + received_postal = resolved_early "
        "+ resolved_on_time + resolved_late + pending_in_time + pending_overdue + returned_withdrawn "
        "AND returned_withdrawn >= 0, false)",
    )
    dbt(warehouse, "run", "--select", BALANCE_MODELS)


def test_dossier_balance_and_stock_continuity_warn(clean_wh, tmp_path, dbt):
    wh = copy_wh(clean_wh, tmp_path)
    freeze_winning_rows(wh)
    execute(
        wh,
        # S01 2022-03: one row no longer balances; X01 2022-09: balanced, but its opening ≠ August's closing.
        f"UPDATE intermediate.int_dossiers__winning_rows SET returned_withdrawn = returned_withdrawn + 1 "
        f"WHERE unit_code = 'S01' AND period = '2022-03' AND procedure_code = '{P1}'",
        f"UPDATE intermediate.int_dossiers__winning_rows SET opening_pending = opening_pending + 1, "
        f"returned_withdrawn = returned_withdrawn + 1 WHERE unit_code = 'X01' AND period = '2022-09' "
        f"AND procedure_code = '{P2}'",
    )
    rebuild_balance(wh, dbt)
    _, r = validate(wh, "dossier_balance")
    assert r.outcome("unbalanced_rows").unexpected_count == 1
    assert r.outcome("unbalanced_rows").rows[0] == {
        "unbalanced_rows": 1,
        "unit_code": "S01",
        "period": "2022-03",
    }
    assert r.outcome("stock_breaks").unexpected_count == 1
    assert r.outcome("stock_breaks").rows[0]["unit_code"] == "X01"
    assert r.outcome("stock_breaks").rows[0]["period"] == "2022-09"
    check = _warn(wh, "dossier_balance")
    assert not check.passed
    assert check.metadata["failing_rows"].value == 2 and check.metadata["rows_validated"].value == 74
    assert check.metadata["failing_share"].value == pytest.approx(2 / 74, abs=1e-6)
    assert check.metadata["unit_months_unbalanced"].value == 1
    assert check.metadata["unit_months_stock_break"].value == 1
    assert check.metadata["share_unit_months_failing"].value == "2.7 %"
    assert _warn(clean_wh, "dossier_balance").passed


def test_stock_continuity_is_checked_per_procedure_not_on_totals(clean_wh, tmp_path, dbt):
    """The unit-month fingerprint only says "carried over unchanged"; any other month is compared procedure
    by procedure: stock moved between procedures (totals unchanged) breaks twice, a procedure's closing
    split over two rows of the same key (its sum unchanged) does not break."""
    wh = copy_wh(clean_wh, tmp_path)
    freeze_winning_rows(wh)
    table = "intermediate.int_dossiers__winning_rows"
    execute(
        wh,
        # X01 2022-09: one more pending carried in for P1, one less for P2 (both rows still balance)
        f"UPDATE {table} SET opening_pending = opening_pending + 1, returned_withdrawn = returned_withdrawn + 1 "
        f"WHERE unit_code = 'X01' AND period = '2022-09' AND procedure_code = '{P1}'",
        f"UPDATE {table} SET opening_pending = opening_pending - 1, resolved_on_time = resolved_on_time - 1 "
        f"WHERE unit_code = 'X01' AND period = '2022-09' AND procedure_code = '{P2}'",
        # H01 2022-05, P1: one pending moved to a second row of the same key (that row does not balance)
        f"UPDATE {table} SET pending_in_time = pending_in_time - 1, resolved_on_time = resolved_on_time + 1 "
        f"WHERE unit_code = 'H01' AND period = '2022-05' AND procedure_code = '{P1}'",
        f"INSERT INTO {table} SELECT * REPLACE (0 AS opening_pending, 0 AS received_online, 0 AS received_in_person, "
        f"0 AS received_postal, 0 AS resolved_early, 0 AS resolved_on_time, 0 AS resolved_late, 1 AS pending_in_time, "
        f"0 AS pending_overdue, 0 AS returned_withdrawn) FROM {table} "
        f"WHERE unit_code = 'H01' AND period = '2022-05' AND procedure_code = '{P1}'",
    )
    rebuild_balance(wh, dbt)
    df, r = validate(wh, "dossier_balance")
    by_key = df.set_index(["unit_code", "period"])
    assert by_key.loc[("X01", "2022-09"), "stock_breaks"] == 2
    assert by_key.loc[("X01", "2022-10"), "stock_breaks"] == 0
    assert by_key.loc[("H01", "2022-05"), "unbalanced_rows"] == 1
    assert by_key.loc[("H01", "2022-06"), "stock_breaks"] == 0
    assert r.outcome("stock_breaks").unexpected_count == 1


def test_reporting_completeness_warns_per_unit_below_threshold(clean_wh, tmp_path):
    wh = copy_wh(clean_wh, tmp_path)
    execute(
        wh,
        "UPDATE marts.reporting_completeness SET received = 10, on_time = 9, completeness = 10 / 12, "
        "timeliness = 9 / 12 WHERE unit_code = 'H01' AND year = 2021",
    )
    _, r = validate(wh, "reporting_completeness")
    assert r.outcome("completeness").unexpected_count == 1
    assert r.outcome("timeliness").unexpected_count == 1
    assert r.failing_rows == 1
    check = _warn(wh, "reporting_completeness")
    assert not check.passed
    assert check.metadata["units_below_completeness"].value == 1
    assert check.metadata["units_below_timeliness"].value == 1
    assert "| 2021 | 3 | 1 | 1 |" in check.metadata["per_year"].value
    # The threshold is the gate's (PAR_COMPLETENESS_THRESHOLD): at 95 %, X01's 11 of 12 in 2022 is low too.
    check = _warn(clean_wh, "reporting_completeness", PAR_COMPLETENESS_THRESHOLD="0.95")
    assert not check.passed and check.metadata["units_below_completeness"].value == 1
    assert "X01" in check.metadata["failing_rows_preview"].value
    assert _warn(clean_wh, "reporting_completeness").passed


def test_survey_sample_size_warns_below_30(clean_wh, tmp_path):
    wh = copy_wh(clean_wh, tmp_path)
    execute(wh, "DELETE FROM raw.surveys WHERE ma_phieu = 'P-H01-2022-0'")  # staging is a view over raw
    _, r = validate(wh, "survey_sample_size")
    outcome = r.outcome("sipas_responses")
    assert (outcome.unexpected_count, outcome.sample) == (1, [29])
    assert outcome.rows[0] == {"sipas_responses": 29, "year": 2022, "unit_code": "H01"}
    check = _warn(wh, "survey_sample_size")
    assert not check.passed and check.metadata["unit_years_below_30"].value == 1
    assert _warn(clean_wh, "survey_sample_size").passed


def test_cross_source_warns_on_payments_without_dossiers(clean_wh, tmp_path):
    wh = copy_wh(clean_wh, tmp_path)
    execute(
        wh, "DELETE FROM intermediate.int_dossiers__unit_month WHERE unit_code = 'S01' AND period = '2022-02'"
    )
    _, r = validate(wh, "cross_source")
    outcome = r.outcome("dossiers_received")
    assert (r.rows, outcome.unexpected_count, outcome.sample) == (9, 1, [0])
    assert outcome.rows[0] == {"dossiers_received": 0, "unit_code": "S01", "period": "2022-02"}
    check = _warn(wh, "cross_source")
    assert not check.passed and check.metadata["failing_rows"].value == 1
    # the SQL side (marts.reporting_gaps) was built before the fault was planted: it disagrees
    assert check.metadata["reporting_gaps_cross_source"].value == 0
    assert check.metadata["agrees_with_reporting_gaps"].value is False
    clean = _warn(clean_wh, "cross_source")
    assert clean.passed and clean.metadata["agrees_with_reporting_gaps"].value is True


def test_outlier_warns_on_a_spike(clean_wh, tmp_path):
    wh = copy_wh(clean_wh, tmp_path)
    execute(
        wh,
        "UPDATE intermediate.int_dossiers__unit_month SET received_total = 500 "
        "WHERE unit_code = 'S01' AND period = '2022-08'",
    )
    _, r = validate(wh, "received_outliers")
    outcome = r.outcome("abs_modified_z")
    assert (r.failed, r.failing_rows, outcome.unexpected_count) == (1, 1, 1)
    assert (outcome.rows[0]["unit_code"], outcome.rows[0]["period"]) == ("S01", "2022-08")
    check = _warn(wh, "received_outliers")
    assert not check.passed and check.metadata["failing_rows"].value == 1
    assert _warn(clean_wh, "received_outliers").metadata["agrees_with_reporting_gaps"].value is True


def test_outlier_rule_mad_meanad_and_flat_history(tmp_path):
    """quality.md's three branches, on a hand-made unit-month table."""
    series = {
        # 6 × 10 then 11: MAD = MeanAD = 0 and x ≠ median → flagged
        "A": [10] * 6 + [11],
        # 7 × 10 (flat, x = median: fine), then 40 (flat history, x ≠ median: flagged), then 30 against
        # 7 × 10 + 40: MAD = 0, MeanAD = 3.75, M = 0.7979 · 20 / 3.75 = 4.26 > 3.5 → flagged
        "B": [10] * 7 + [40, 30],
        # 20, 22, 24 twice, then 23 (M = 0.34: fine), then 40 (MAD 2, M = 6.07 → flagged)
        "C": [20, 22, 24, 20, 22, 24, 23, 40],
    }
    wh = tmp_path / "par.duckdb"
    with connect(wh) as con:
        con.execute("CREATE SCHEMA intermediate")
        con.execute(
            "CREATE TABLE intermediate.int_dossiers__unit_month (unit_code VARCHAR, period VARCHAR, "
            "month_start DATE, received_total HUGEINT)"
        )
        for unit, values in series.items():
            for i, x in enumerate(values):
                con.execute(
                    "INSERT INTO intermediate.int_dossiers__unit_month VALUES (?, ?, ?, ?)",
                    [unit, f"2021-{i + 1:02d}", f"2021-{i + 1:02d}-01", x],
                )
    df, r = validate(wh, "received_outliers")
    assert r.rows == 1 + 3 + 2
    flat = r.outcome("departs_from_flat_history")
    z = r.outcome("abs_modified_z")
    assert sorted((d["unit_code"], d["period"]) for d in flat.rows) == [("A", "2021-07"), ("B", "2021-08")]
    assert sorted((d["unit_code"], d["period"]) for d in z.rows) == [("B", "2021-09"), ("C", "2021-08")]
    b9 = df[(df.unit_code == "B") & (df.period == "2021-09")].iloc[0]
    assert (b9["mad"], b9["mean_ad"]) == (0, 3.75)
    assert b9["abs_modified_z"] == pytest.approx(0.7979 * 20 / 3.75)
    assert r.failing_rows == 4


# --------------------------------------------------------------------------------------------------
# 7. The ranking gate
# --------------------------------------------------------------------------------------------------


def _gate(wh: Path, **env):
    from pipelines.defs.quality import gate_verdict

    return gate_verdict(settings_for(wh, **env))


def test_gate_passes_on_clean_data(clean_wh):
    verdict = _gate(clean_wh)
    assert verdict.passed and not verdict.blocked_years and not verdict.unranked_years
    assert verdict.metadata["years_ranked"].value == "2021, 2022"
    assert verdict.metadata["years_over"].value == 2
    table = verdict.metadata["gate_by_year"].value
    assert "| 2022 | yes |  | ✓ | ✓ | ✓ | ✓ | ✓ |" in table
    assert "| 2023 | no (in progress) |" in table


def test_a_year_failing_the_gate_is_not_ranked_and_the_others_are(clean_wh, tmp_path, dbt):
    """quality.md: "the ranking for year Y is computed only when all of these hold; otherwise the ranking
    asset does not materialize for Y" — per year: a negative count in 2022 keeps 2022 out, 2021 stays."""
    wh = copy_wh(clean_wh, tmp_path)
    execute(
        wh,
        f"UPDATE raw.dossiers SET tiep_nhan_truc_tuyen = -3 WHERE ma_don_vi = 'H01' AND ky_bao_cao = '2022-04' "
        f"AND ma_thu_tuc = '{P1}'",
    )
    dbt(wh, "run", "--select", GATE_MODELS)
    verdict = _gate(wh)
    assert not verdict.passed and verdict.severity == dg.AssetCheckSeverity.WARN
    assert list(verdict.blocked_years) == [2022]
    assert any(
        "1 integrity" in reason and "negative count" in reason for reason in verdict.blocked_years[2022]
    )
    assert verdict.description.startswith("Ranking NOT computed for 2022")
    assert verdict.metadata["years_blocked"].value == "2022"
    assert verdict.metadata["years_ranked"].value == "2021"
    assert "| 2022 | yes |  | ✗ |" in verdict.metadata["gate_by_year"].value
    with connect(wh, read_only=True) as con:  # the ranking's SQL leaves the blocked year out by itself
        scores = "SELECT count(*) FROM intermediate.int_ranking__scores WHERE year = ?"
        assert con.execute(scores, [2022]).fetchone()[0] == 0
        assert con.execute(scores, [2021]).fetchone()[0] == 3

    # Through Dagster: the check fails with WARN, which blocks nothing downstream (2021 is still ranked).
    result = _run_quality_job(
        wh,
        tmp_path,
        checks=[
            dg.AssetCheckKey(dg.AssetKey(["marts", "ranking_gate"]), "ranking_gate"),
            dg.AssetCheckKey(dg.AssetKey(["raw", "dossiers"]), "schema_validity"),
        ],
    )
    evaluations = _evaluations(result)
    gate = evaluations[("marts/ranking_gate", "ranking_gate")]
    assert gate.passed is False and gate.severity == dg.AssetCheckSeverity.WARN
    assert gate.blocking is True
    assert evaluations[("raw/dossiers", "schema_validity")].passed is False


def test_gate_passes_naming_the_unranked_year_when_only_completeness_is_low(clean_wh, tmp_path, dbt):
    wh = copy_wh(clean_wh, tmp_path)
    # X01 misses three more months of 2022: 8 of 12, the province 32 of 36 = 88.9 % < 90 %.
    execute(
        wh,
        "DELETE FROM raw.dossiers WHERE ma_don_vi = 'X01' AND ky_bao_cao IN ('2022-06', '2022-07', '2022-08')",
    )
    dbt(wh, "run", "--select", GATE_MODELS)
    verdict = _gate(wh)
    assert verdict.passed
    assert list(verdict.unranked_years) == [2022] and not verdict.blocked_years
    assert "88.89 %" in verdict.unranked_years[2022]
    assert "NOT ranked" in verdict.description and "2022" in verdict.description
    assert verdict.metadata["years_ranked"].value == "2021"
    assert "**2022**" in verdict.metadata["years_not_ranked"].value
    assert "| 2022 | yes |  | ✓ | ✗ | ✓ | ✓ | ✗ |" in verdict.metadata["gate_by_year"].value

    # A year in PAR_FINAL_YEARS is ranked despite check 2, and the check says so.
    execute(wh, "UPDATE marts.ranking_gate SET is_final_year = true, year_is_ranked = true WHERE year = 2022")
    verdict = _gate(wh, PAR_FINAL_YEARS="2022")
    assert verdict.passed and not verdict.unranked_years and list(verdict.final_years_despite) == [2022]
    assert "Ranked despite low reporting completeness (PAR_FINAL_YEARS): 2022" in verdict.description
    assert verdict.metadata["years_ranked"].value == "2021, 2022"


def test_gate_rechecks_kpi_bounds_on_the_marts(clean_wh, tmp_path):
    wh = copy_wh(clean_wh, tmp_path)
    execute(
        wh,
        "UPDATE marts.kpi_unit_year SET numerator = denominator + 5, value = (denominator + 5) / denominator "
        "WHERE year = 2021 AND unit_code = 'S01' AND kpi_code = 'online_dossier_rate'",
    )
    verdict = _gate(wh)
    # the gate's SQL ranks 2021, its re-check on the marts finds it failing: the gate itself is not to be
    # trusted, so nothing is ranked (ERROR, blocking)
    assert not verdict.passed and list(verdict.blocked_years) == [2021]
    assert verdict.severity == dg.AssetCheckSeverity.ERROR
    assert (
        verdict.description.startswith("RANKING BLOCKED") and verdict.metadata["years_ranked"].value == "none"
    )
    assert verdict.metadata["kpi_bounds_violations"].value == 1
    assert "online_dossier_rate" in verdict.metadata["kpi_bounds_preview"].value


# --------------------------------------------------------------------------------------------------
# Dagster wiring, Data Docs, personal data
# --------------------------------------------------------------------------------------------------


def _run_quality_job(wh: Path, tmp_path: Path, with_docs: bool = False, checks: list | None = None):
    from pipelines.defs.quality import _DOCS_DEPS, DATA_DOCS_KEY, quality_assets, quality_checks
    from pipelines.defs.resources import ParSettingsResource

    selection = dg.AssetSelection.checks(*checks) if checks else dg.AssetSelection.all_asset_checks()
    if with_docs:
        selection = selection | dg.AssetSelection.assets(DATA_DOCS_KEY)
    keys = {*_DOCS_DEPS}
    for check in quality_checks:
        keys |= {spec.asset_key for spec in check.check_specs}
        keys |= {k for spec in check.check_specs for k in (d.asset_key for d in spec.additional_deps)}
    defs = dg.Definitions(
        assets=[*(dg.AssetSpec(k) for k in keys), *quality_assets],
        asset_checks=quality_checks,
        jobs=[dg.define_asset_job("quality", selection=selection)],
        resources={"par": ParSettingsResource(as_of=AS_OF)},
    )
    env = {
        "PAR_WAREHOUSE": str(wh),
        "PAR_REPORTS": str(tmp_path / "reports"),
        "PAR_SOURCES": str(wh.parent / "sources"),
        "PAR_COMPLETENESS_THRESHOLD": "0.9",
        "PAR_FINAL_YEARS": "",
    }
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        return defs.resolve_job_def("quality").execute_in_process(raise_on_error=False)
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _evaluations(result) -> dict:
    out = {}
    for event in result.all_events:
        if event.event_type_value == "ASSET_CHECK_EVALUATION":
            data = event.event_specific_data
            out[(data.asset_key.to_user_string(), data.check_name)] = data
    return out


def test_dagster_checks_and_data_docs_on_clean_data_without_personal_data(clean_wh, tmp_path, caplog, capfd):
    from pipelines.defs.quality import quality_checks

    specs = {(s.asset_key.to_user_string(), s.name): s for c in quality_checks for s in c.check_specs}
    assert {k: s.blocking for k, s in specs.items() if s.blocking} == {
        ("marts/ranking_gate", "ranking_gate"): True
    }
    assert len(specs) == 7 + 6

    result = _run_quality_job(clean_wh, tmp_path, with_docs=True)
    assert result.success
    evaluations = _evaluations(result)
    assert set(evaluations) == set(specs)
    for key, evaluation in evaluations.items():
        assert evaluation.passed, (key, evaluation.description)
        expected = (
            dg.AssetCheckSeverity.ERROR if key[0].startswith("raw/") or key[1] == "ranking_gate" else None
        )
        assert evaluation.severity == (expected or dg.AssetCheckSeverity.WARN), key
        assert "rows_validated" in evaluation.metadata or key[1] == "ranking_gate"

    docs = tmp_path / "reports" / "data_docs"
    assert (docs / "index.html").is_file()
    pages = [p for p in docs.rglob("*") if p.is_file() and p.suffix in (".html", ".json")]
    assert len([p for p in pages if "validations" in p.parts]) == len(FRAMES)
    text = "\n".join(p.read_text(encoding="utf-8", errors="replace") for p in pages)
    metadata_text = json.dumps(
        [(e.description, {k: str(v.value) for k, v in e.metadata.items()}) for e in evaluations.values()],
        ensure_ascii=False,
    )
    logs = caplog.text + "".join(capfd.readouterr())
    with connect(clean_wh, read_only=True) as con:
        columns = {c for (c,) in con.execute("SELECT column_name FROM information_schema.columns").fetchall()}
        frames = {name: read_frame(con, name) for name in FRAMES}
    assert "so_dien_thoai" not in columns
    assert not any("so_dien_thoai" in df.columns for df in frames.values())
    phones = re.compile("|".join(PHONES))
    for where, blob in (("Data Docs", text), ("check metadata", metadata_text), ("logs", logs)):
        assert "so_dien_thoai" not in blob, where
        assert not phones.search(blob), where
    assert not any(phones.search(df.to_csv()) for df in frames.values())


def test_data_docs_render_the_checks_validations_of_the_same_run(clean_wh, tmp_path):
    """The Data Docs asset reuses what the checks of its run validated (no second read or validation);
    another run, or no run, validates afresh; both give the same site."""
    from pipelines.defs.quality import build_gx_data_docs, gate_verdict, suite_check_result

    settings = settings_for(clean_wh, PAR_REPORTS=str(tmp_path / "reports"))
    for name in FRAMES:
        if name not in ("ranking_gate", "kpi_bounds"):
            suite_check_result(name, settings, severity=dg.AssetCheckSeverity.WARN, run_id="run-1")
    gate_verdict(settings, run_id="run-1")
    reused = build_gx_data_docs(settings, run_id="run-1")
    assert reused["reused"] == list(FRAMES) and not reused["skipped"]
    fresh = build_gx_data_docs(settings, run_id="run-2")
    assert fresh["reused"] == [] and fresh["outcome"] == reused["outcome"]
    assert set(reused["outcome"]) == {f.suite for f in FRAMES.values()}
    # a warehouse or threshold of its own is never served from another's results
    other = settings_for(clean_wh, PAR_COMPLETENESS_THRESHOLD="0.95", PAR_REPORTS=str(tmp_path / "r2"))
    assert build_gx_data_docs(other, run_id="run-1")["reused"] == []


def test_docs_results_are_what_a_summary_validation_returns():
    """The Data Docs show each validation as a SUMMARY run would have returned it, although the checks
    validate once with COMPLETE results: counts, percentages, the first unexpected values and their counts."""
    import great_expectations as gx
    import pandas as pd

    frame = pd.DataFrame(
        {
            "year": [2022] * 12,
            "unit_code": [f"U{i:02d}" for i in range(12)],
            "ranking_group": ["so_nganh"] * 11 + ["khac"],
            "sipas_responses": [29, 40, 12, 29, 31, 3, 12, 12, 50, 29, 7, 0],
        }
    )
    result = validate_frame(frame, "survey_sample_size", keys=("year", "unit_code"))
    assert not result.success
    context = gx.get_context(mode="ephemeral")
    batch = (
        context.data_sources.add_pandas("p")
        .add_dataframe_asset("a")
        .add_batch_definition_whole_dataframe("w")
        .get_batch(batch_parameters={"dataframe": frame})
    )
    summary = batch.validate(
        load_suite("survey_sample_size"),
        result_format={"result_format": "SUMMARY", "partial_unexpected_count": 5},
    )
    docs = result.docs_validation
    assert docs.success == summary.success and docs.statistics == summary.statistics
    for mine, theirs in zip(docs.results, summary.results, strict=True):
        expected = {k: v for k, v in theirs.result.items() if k != "partial_unexpected_index_list"}
        assert (mine.success, mine.result) == (theirs.success, expected)
    assert docs.meta["batch_parameters"] == {"dataframe": "<DATAFRAME>"} and "run_id" in docs.meta


def test_a_frame_with_a_phone_column_is_refused():
    import pandas as pd

    frame = pd.DataFrame({"unit_code": ["S01"], "so_dien_thoai": ["0912345678"]})
    with pytest.raises(PersonalDataError):
        validate_frame(frame, "survey_sample_size")
