"""What each feed looks like, and the SQL that types and checks its rows (sources.md, quality.md).

Each export is read into a temporary table of text, `_text_<feed>` (the cells exactly as sent), and
checked at once by one SQL statement per feed: its rows go to the typed table `raw.<feed>` or, with a
reason, to `raw.quarantine_rows`. Every check reads one export and the registers only, so an export
is checked once, when it arrives, and stays checked while the feed's fingerprint (its checking SQL
and the content of the registers it reads) is unchanged; when the fingerprint changes every export
of the feed is read again from the archive and checked again. The result is a pure function of the
archive and the registers: re-running changes nothing, and a corrected register re-checks old rows.
Choosing between versions of the same period happens later, in dbt staging.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import duckdb

from pipelines.ingest.sql import (
    count_problem,
    count_value,
    decimal_value,
    local_timestamp,
    month_text,
    reason_columns,
    register_date,
    txt,
    valid_during,
)
from pipelines.lib.warehouse import table_exists

DOSSIER_COUNTS = (
    "ton_ky_truoc",
    "tiep_nhan_truc_tuyen",
    "tiep_nhan_truc_tiep",
    "tiep_nhan_buu_chinh",
    "da_giai_quyet_truoc_han",
    "da_giai_quyet_dung_han",
    "da_giai_quyet_qua_han",
    "dang_giai_quyet_trong_han",
    "dang_giai_quyet_qua_han",
    "tra_lai_rut",
)
HUMAN_TOTALS = ("tong_tiep_nhan", "tong_da_giai_quyet", "tong_dang_giai_quyet")
QUESTIONS = tuple(f"q{i}" for i in range(1, 11))
PAYMENT_CHANNELS = ("dvcqg", "cong_tinh", "truc_tiep")
PAYMENT_STATUSES = ("thanh_cong", "that_bai", "hoan_tien")
SURVEY_TYPES = ("sipas", "cqhc", "y_te", "giao_duc")
SURVEY_CHANNELS = ("truc_tuyen", "giay", "kiosk")
NATIONAL_INDICES = ("PAR_INDEX", "SIPAS", "PAPI", "PCI", "ICT_INDEX")
# Personal data: read past, never stored (quality.md).
PERSONAL_COLUMNS = frozenset({"so_dien_thoai"})


@dataclass(frozen=True)
class FeedSpec:
    name: str
    columns: tuple[str, ...]
    required: tuple[str, ...]
    key_column: str
    extensions: tuple[str, ...]
    date_columns: frozenset[str] = frozenset()


FEED_SPECS: dict[str, FeedSpec] = {
    "units": FeedSpec(
        "units",
        (
            "ma_don_vi",
            "ten_don_vi",
            "cap",
            "nhom_xep_hang",
            "ma_don_vi_cha",
            "hieu_luc_tu",
            "hieu_luc_den",
            "ma_don_vi_ke_thua",
            "ten_khac",
        ),
        ("ma_don_vi", "ten_don_vi", "cap"),
        "ma_don_vi",
        (".csv", ".json", ".xlsx"),
        frozenset({"hieu_luc_tu", "hieu_luc_den"}),
    ),
    "procedures": FeedSpec(
        "procedures",
        (
            "ma_thu_tuc",
            "ten_thu_tuc",
            "linh_vuc",
            "cap_thuc_hien",
            "co_nghia_vu_tai_chinh",
            "du_dieu_kien_truc_tuyen",
            "muc_do_truc_tuyen",
            "ngay_tich_hop_dvcqg",
            "ngay_tich_hop_tttt",
            "nam_don_gian_hoa",
            "hieu_luc_tu",
            "hieu_luc_den",
        ),
        ("ma_thu_tuc", "co_nghia_vu_tai_chinh"),
        "ma_thu_tuc",
        (".csv", ".json", ".xlsx"),
        frozenset({"ngay_tich_hop_dvcqg", "ngay_tich_hop_tttt", "hieu_luc_tu", "hieu_luc_den"}),
    ),
    "dossiers": FeedSpec(
        "dossiers",
        ("ky_bao_cao", "ma_don_vi", "ma_thu_tuc", *DOSSIER_COUNTS, "ngay_xuat", "ten_don_vi", *HUMAN_TOTALS),
        ("ky_bao_cao", "ma_don_vi", "ma_thu_tuc", *DOSSIER_COUNTS[:-1], "ngay_xuat"),
        "ma_don_vi",
        (".csv", ".json", ".jsonl", ".xlsx"),
        frozenset({"ngay_xuat"}),
    ),
    "payments": FeedSpec(
        "payments",
        ("ma_giao_dich", "ma_ho_so", "ma_thu_tuc", "ma_don_vi", "thoi_diem", "so_tien", "kenh", "trang_thai"),
        ("ma_giao_dich", "ma_thu_tuc", "ma_don_vi", "thoi_diem", "so_tien", "kenh", "trang_thai"),
        "ma_giao_dich",
        (".csv", ".jsonl", ".json", ".ndjson"),
        frozenset({"thoi_diem"}),
    ),
    "surveys": FeedSpec(
        "surveys",
        ("ma_phieu", "loai_khao_sat", "ma_don_vi", "linh_vuc", "ngay_khao_sat", "kenh", *QUESTIONS),
        ("ma_phieu", "loai_khao_sat", "ma_don_vi", "ngay_khao_sat"),
        "ma_phieu",
        (".csv", ".xlsx", ".json", ".jsonl"),
        frozenset({"ngay_khao_sat"}),
    ),
    "self_report": FeedSpec(
        "self_report",
        ("nam", "ma_don_vi", "ma_chi_tieu", "tu_so", "mau_so", "ghi_chu"),
        ("nam", "ma_don_vi", "ma_chi_tieu", "tu_so", "mau_so"),
        "ma_chi_tieu",
        (".csv", ".xlsx", ".json", ".jsonl"),
    ),
    "national_indices": FeedSpec(
        "national_indices",
        ("nam", "chi_so", "diem", "thu_hang", "so_tinh", "nguon"),
        ("nam", "chi_so", "thu_hang"),
        "chi_so",
        (".csv", ".xlsx", ".json", ".jsonl"),
    ),
}


def text_table(feed: str) -> str:
    return f"_text_{feed}"


def text_table_ddl(feed: str) -> str:
    """The temporary table one export's cells are read into, as text."""
    spec = FEED_SPECS[feed]
    cols = ", ".join(f"{c} VARCHAR" for c in spec.columns)
    extra = ", source_format VARCHAR" if feed == "dossiers" else ""
    return (
        f"CREATE OR REPLACE TEMP TABLE {text_table(feed)} "
        f"(export_id VARCHAR NOT NULL, row_number BIGINT NOT NULL{extra}, {cols}, "
        "file_name VARCHAR, sort_key VARCHAR, report_kind VARCHAR, report_period VARCHAR, report_date DATE)"
    )


def _record_json(columns: tuple[str, ...], alias: str) -> str:
    """The row as sent, as JSON: only for quarantined rows (building it for millions of loaded rows
    cost more than all their checks)."""
    record = "to_json(struct_pack(" + ", ".join(f"{c} := {alias}.{c}" for c in columns) + "))::VARCHAR"
    return f"CASE WHEN {alias}.reason_code IS NOT NULL THEN {record} END"


def _parsed(feed: str) -> str:
    """The rows read (only readable exports leave rows), with their export's manifest fields."""
    return f"SELECT t.* FROM {text_table(feed)} t"


def _month_bounds(period: str) -> tuple[str, str]:
    start = f"CAST({period} || '-01' AS DATE)"
    return start, f"last_day({start})"


def _unit_checks(code: str, start: str, end: str, label: str) -> list[tuple[str, str, str]]:
    """Unknown unit codes and codes used outside the unit's validity (gap type unknown_unit)."""
    return [
        ("unknown_unit", f"{code} IS NULL", "'unit code is blank'"),
        (
            "unknown_unit",
            "u.u_code IS NULL",
            f"'unit code ' || {code} || ' is not in the unit register'",
        ),
        (
            "unknown_unit",
            f"NOT {valid_during('u', start, end)}",
            f"'unit ' || {code} || ' did not exist in {label} ' || {{period_text}}",
        ),
    ]


def _finish(feed: str, select_sql: str, typed_cols: dict[str, str], replace: bool) -> list[str]:
    """Statements that check the rows read into `_text_<feed>` and split them into `raw.<feed>`
    (replaced, or appended to) and the quarantine table. `_checked` keeps only what those two need:
    with every text and working column it was the widest table of the run, and writing it cost more
    than computing the checks. `typed_cols` maps each column of `raw.<feed>`, in order, to its SQL
    expression over the checked rows."""
    names = list(typed_cols)
    typed = [f"{expr} AS {name}" for name, expr in typed_cols.items()]
    keys = "export_id, row_number, file_name, sort_key"
    into = (
        f"CREATE OR REPLACE TABLE raw.{feed} AS" if replace else f"INSERT INTO raw.{feed}"
    ) + f" SELECT {keys}, {', '.join(names)} FROM _checked WHERE reason_code IS NULL"
    return [
        f"""CREATE OR REPLACE TEMP TABLE _checked AS
            SELECT {keys}, {", ".join(typed)}, reason_code, reason,
                   q_unit_code, unit_as_sent, q_period, q_version_ts, record
            FROM ({select_sql}) c""",
        into,
        f"""INSERT INTO raw.quarantine_rows
            SELECT '{feed}', export_id, file_name, row_number, reason_code, reason,
                   q_unit_code, unit_as_sent, q_period, q_version_ts, record
            FROM _checked WHERE reason_code IS NOT NULL""",
        "DROP TABLE _checked",
    ]


def _dossiers_sql(replace: bool = False) -> list[str]:
    spec = FEED_SPECS["dossiers"]
    counts = [c for c in DOSSIER_COUNTS if c != "tra_lai_rut"]
    human_residual = (
        "(v_ton_ky_truoc + v_tiep_nhan_truc_tuyen + v_tiep_nhan_truc_tiep + v_tiep_nhan_buu_chinh"
        " - v_da_giai_quyet_truoc_han - v_da_giai_quyet_dung_han - v_da_giai_quyet_qua_han"
        " - v_dang_giai_quyet_trong_han - v_dang_giai_quyet_qua_han)"
    )
    values = ",\n".join(f"{count_value(c)} AS v_{c}" for c in (*counts, *HUMAN_TOTALS))
    machine_problems = "concat_ws('; ', " + ", ".join(count_problem(c, c) for c in DOSSIER_COUNTS) + ")"
    human_problems = (
        "concat_ws('; ', " + ", ".join(count_problem(c, c) for c in (*counts, *HUMAN_TOTALS)) + ")"
    )
    start, end = _month_bounds("period")
    unit = "unit_code_sent"
    checks: list[tuple[str, str, str]] = [
        (
            "bad_period",
            "period IS NULL",
            "'reporting period ' || coalesce(ky_bao_cao, '(blank)') || ' is not YYYY-MM'",
        ),
        (
            "unknown_unit",
            "is_human AND coalesce(n_match, 0) = 0",
            "'unit name ''' || coalesce(ten_don_vi, '') || ''' matches no unit of the register valid in ' || period",
        ),
        (
            "unknown_unit",
            "is_human AND n_match > 1",
            "'unit name ''' || ten_don_vi || ''' matches ' || n_match || ' units valid in ' || period || ': '"
            " || matched_codes",
        ),
        *[
            (code, f"NOT is_human AND ({cond})", reason.replace("{period_text}", "period"))
            for code, cond, reason in _unit_checks(unit, start, end, "in")
        ],
        ("missing_procedure", "NOT is_human AND p_code IS NULL", "'procedure code is blank'"),
        (
            "unknown_procedure",
            "NOT is_human AND p.p_found IS NULL",
            "'procedure ' || p_code || ' is not in the procedure catalogue'",
        ),
        ("bad_count", "count_problems <> ''", "count_problems"),
        (
            "bad_date",
            "NOT is_human AND version_ts IS NULL",
            "'ngay_xuat ''' || coalesce(ngay_xuat, '') || ''' is not a date-time'",
        ),
        (
            "total_mismatch",
            "is_human AND (v_tong_tiep_nhan <> v_tiep_nhan_truc_tuyen + v_tiep_nhan_truc_tiep + v_ton_ky_truoc"
            " OR v_tong_da_giai_quyet <> v_da_giai_quyet_truoc_han + v_da_giai_quyet_dung_han + v_da_giai_quyet_qua_han"
            " OR v_tong_dang_giai_quyet <> v_dang_giai_quyet_trong_han + v_dang_giai_quyet_qua_han)",
            "'Tổng số columns differ from the sum of their parts: (3)=' || v_tong_tiep_nhan || ' (7)='"
            " || v_tong_da_giai_quyet || ' (11)=' || v_tong_dang_giai_quyet",
        ),
        ("duplicate_key", "dup_count > 1", "'the same key appears ' || dup_count || ' times in this export'"),
    ]
    select = f"""
    WITH t AS ({_parsed("dossiers")}),
    typed AS (
        SELECT t.*, t.report_kind = 'human' AS is_human,
            CASE WHEN t.report_kind = 'human' THEN t.report_period ELSE {month_text("t.ky_bao_cao")} END AS period,
            CASE WHEN t.report_kind = 'human' THEN CAST(t.report_date AS TIMESTAMP)
                 ELSE {local_timestamp("t.ngay_xuat")} END AS version_ts,
            {txt("t.ma_don_vi")} AS unit_code_sent,
            {txt("t.ma_thu_tuc")} AS p_code,
            {values},
            CASE WHEN t.report_kind = 'human' THEN {human_problems} ELSE {machine_problems} END AS count_problems
        FROM t
    ),
    human_names AS (
        SELECT DISTINCT ten_don_vi, period FROM typed WHERE is_human AND period IS NOT NULL
    ),
    human_match AS (
        SELECT h.ten_don_vi AS hm_name, h.period AS hm_period, count(DISTINCT u.u_code) AS n_match,
               min(u.u_code) AS matched_code,
               string_agg(DISTINCT u.u_code, ', ' ORDER BY u.u_code) AS matched_codes
        FROM human_names h
        JOIN raw.unit_name_map m ON m.name_as_sent = h.ten_don_vi
        LEFT JOIN raw.unit_keys k ON k.name_key = m.name_key
        LEFT JOIN (SELECT ma_don_vi AS u_code, hieu_luc_tu, hieu_luc_den FROM raw.units) u ON u.u_code = k.unit_code
            AND {valid_during("u", "CAST(h.period || '-01' AS DATE)", "last_day(CAST(h.period || '-01' AS DATE))")}
        GROUP BY h.ten_don_vi, h.period
    ),
    resolved AS (
        SELECT typed.*, hm.n_match, hm.matched_codes,
            CASE WHEN is_human THEN (CASE WHEN hm.n_match = 1 THEN hm.matched_code END)
                 ELSE unit_code_sent END AS unit_code,
            CASE WHEN is_human THEN typed.ten_don_vi ELSE typed.ma_don_vi END AS unit_as_sent,
            coalesce(period, trim(ky_bao_cao), '') AS k_period,
            CASE WHEN is_human THEN coalesce(CASE WHEN hm.n_match = 1 THEN hm.matched_code END,
                                             'name:' || coalesce(typed.ten_don_vi, ''))
                 ELSE coalesce(unit_code_sent, '') END AS k_unit,
            coalesce(p_code, '') AS k_procedure
        FROM typed LEFT JOIN human_match hm ON hm.hm_name = typed.ten_don_vi AND hm.hm_period = typed.period
    ),
    dups AS (  -- the same unit × procedure × month twice in one export; a grouped count, not a window
        SELECT export_id, k_period, k_unit, k_procedure, count(*) AS dup_count
        FROM resolved GROUP BY ALL HAVING count(*) > 1
    ),
    checked AS (
        SELECT r.*, coalesce(dups.dup_count, 1) AS dup_count, {reason_columns(checks)}
        FROM resolved r
        LEFT JOIN dups USING (export_id, k_period, k_unit, k_procedure)
        LEFT JOIN (SELECT ma_don_vi AS u_code, hieu_luc_tu, hieu_luc_den FROM raw.units) u ON u.u_code = r.unit_code
        LEFT JOIN (SELECT ma_thu_tuc AS p_found FROM raw.procedures) p ON p.p_found = r.p_code
    )
    SELECT checked.*,
        CASE WHEN is_human THEN 'human' ELSE 'machine' END AS source_format_,
        CASE WHEN reason_code = 'unknown_unit' THEN NULL ELSE unit_code END AS q_unit_code,
        period AS q_period, version_ts AS q_version_ts,
        {_record_json(spec.columns, "checked")} AS record
    FROM checked
    """
    typed_cols = {
        "source_format": "source_format_",
        "ky_bao_cao": "period",
        "ma_don_vi": "unit_code",
        "ma_thu_tuc": "p_code",
        **{c: f"v_{c}" for c in counts},
        "tra_lai_rut": f"CASE WHEN is_human THEN {human_residual} ELSE {count_value('tra_lai_rut')} END",
        "ngay_xuat": "version_ts",
        "ten_don_vi_as_sent": "CASE WHEN is_human THEN ten_don_vi END",
    }
    return _finish("dossiers", select, typed_cols, replace)


def _payments_sql(replace: bool = False) -> list[str]:
    spec = FEED_SPECS["payments"]
    # a transaction's period is its own day: the unit must exist on the day it was paid
    start = end = "CAST(ts AS DATE)"
    amount_ok = r"regexp_full_match(amount_text, '\+?[0-9]+(\.0*)?')"
    checks: list[tuple[str, str, str]] = [
        ("missing_id", "txn_id IS NULL", "'ma_giao_dich is blank'"),
        ("bad_date", "ts IS NULL", "'thoi_diem ''' || coalesce(thoi_diem, '') || ''' is not a date-time'"),
        *[
            (c, cond, r.replace("{period_text}", "CAST(CAST(ts AS DATE) AS VARCHAR)"))
            for c, cond, r in _unit_checks("unit_code", start, end, "on")
        ],
        ("missing_procedure", "p_code IS NULL", "'procedure code is blank'"),
        (
            "unknown_procedure",
            "p.p_found IS NULL",
            "'procedure ' || p_code || ' is not in the procedure catalogue'",
        ),
        (
            "bad_amount",
            "amount_text IS NULL OR regexp_full_match(amount_text, '-[0-9.]+') OR regexp_full_match(amount_text, '0+(\\.0*)?')",
            "'amount so_tien=' || coalesce(amount_text, '(blank)') || ' is not above 0'",
        ),
        (
            "bad_amount",
            f"NOT {amount_ok} OR amount IS NULL",
            "'amount so_tien=' || amount_text || ' is not a whole number of VND'",
        ),
        (
            "unknown_channel",
            f"channel IS NULL OR channel NOT IN {PAYMENT_CHANNELS}",
            "'unknown channel kenh=' || coalesce(kenh, '(blank)')",
        ),
        (
            "unknown_status",
            f"status IS NULL OR status NOT IN {PAYMENT_STATUSES}",
            "'unknown status trang_thai=' || coalesce(trang_thai, '(blank)')",
        ),
        (
            "duplicate_key",
            "dup_count > 1",
            "'ma_giao_dich ' || txn_id || ' appears ' || dup_count || ' times in this export'",
        ),
    ]
    select = f"""
    WITH typed AS (
        SELECT t.*, {txt("t.ma_giao_dich")} AS txn_id, {local_timestamp("t.thoi_diem")} AS ts,
            {txt("t.ma_don_vi")} AS unit_code, {txt("t.ma_thu_tuc")} AS p_code,
            {txt("t.so_tien")} AS amount_text, {count_value("t.so_tien", blank_is_zero=False)} AS amount,
            lower({txt("t.kenh")}) AS channel, lower({txt("t.trang_thai")}) AS status
        FROM ({_parsed("payments")}) t
    ),
    dups AS (  -- a grouped count, not a window: far cheaper over millions of rows
        SELECT export_id, txn_id, count(*) AS n FROM typed GROUP BY export_id, txn_id HAVING count(*) > 1
    ),
    keyed AS (
        SELECT typed.*, strftime(ts, '%Y-%m') AS period, coalesce(dups.n, 1) AS dup_count
        FROM typed LEFT JOIN dups USING (export_id, txn_id)
    ),
    checked AS (
        SELECT k.*, {reason_columns(checks)}
        FROM keyed k
        LEFT JOIN (SELECT ma_don_vi AS u_code, hieu_luc_tu, hieu_luc_den FROM raw.units) u ON u.u_code = k.unit_code
        LEFT JOIN (SELECT ma_thu_tuc AS p_found FROM raw.procedures) p ON p.p_found = k.p_code
    )
    SELECT checked.*,
        CASE WHEN reason_code = 'unknown_unit' THEN NULL ELSE unit_code END AS q_unit_code,
        ma_don_vi AS unit_as_sent, period AS q_period, ts AS q_version_ts,
        {_record_json(spec.columns, "checked")} AS record
    FROM checked
    """
    typed_cols = {
        "ma_giao_dich": "txn_id",
        "ma_ho_so": txt("ma_ho_so"),
        "ma_thu_tuc": "p_code",
        "ma_don_vi": "unit_code",
        "thoi_diem": "ts",
        "so_tien": "amount",
        "kenh": "channel",
        "trang_thai": "status",
    }
    return _finish("payments", select, typed_cols, replace)


def _surveys_sql(replace: bool = False) -> list[str]:
    spec = FEED_SPECS["surveys"]
    # a response's period is its survey day: the unit must exist on that day
    start = end = "ts"
    answer_values = ",\n".join(f"{count_value('t.' + q, blank_is_zero=False)} AS a_{q}" for q in QUESTIONS)
    bad_answers = " OR ".join(
        f"({txt(q)} IS NOT NULL AND (a_{q} IS NULL OR a_{q} NOT BETWEEN 1 AND 5))" for q in QUESTIONS
    )
    which_bad = (
        "concat_ws(', ', "
        + ", ".join(
            f"CASE WHEN {txt(q)} IS NOT NULL AND (a_{q} IS NULL OR a_{q} NOT BETWEEN 1 AND 5) "
            f"THEN '{q}=' || trim({q}) END"
            for q in QUESTIONS
        )
        + ")"
    )
    checks: list[tuple[str, str, str]] = [
        ("missing_id", "resp_id IS NULL", "'ma_phieu is blank'"),
        ("bad_date", "ts IS NULL", "'ngay_khao_sat ''' || coalesce(ngay_khao_sat, '') || ''' is not a date'"),
        *[
            (c, cond, r.replace("{period_text}", "CAST(ts AS VARCHAR)"))
            for c, cond, r in _unit_checks("unit_code", start, end, "on")
        ],
        (
            "unknown_survey_type",
            f"stype IS NULL OR stype NOT IN {SURVEY_TYPES}",
            "'unknown survey type loai_khao_sat=' || coalesce(loai_khao_sat, '(blank)')",
        ),
        (
            "unknown_channel",
            f"channel IS NOT NULL AND channel NOT IN {SURVEY_CHANNELS}",
            "'unknown channel kenh=' || kenh",
        ),
        ("bad_answer", bad_answers, "'answers outside 1–5: ' || " + which_bad),
        (
            "duplicate_key",
            "dup_count > 1",
            "'ma_phieu ' || resp_id || ' appears ' || dup_count || ' times in this export'",
        ),
    ]
    select = f"""
    WITH typed AS (
        SELECT t.*, {txt("t.ma_phieu")} AS resp_id, CAST({local_timestamp("t.ngay_khao_sat")} AS DATE) AS ts,
            {txt("t.ma_don_vi")} AS unit_code, lower({txt("t.loai_khao_sat")}) AS stype,
            lower({txt("t.kenh")}) AS channel, lower({txt("t.linh_vuc")}) AS field,
            {answer_values}
        FROM ({_parsed("surveys")}) t
    ),
    dups AS (  -- a grouped count, not a window: far cheaper over millions of rows
        SELECT export_id, resp_id, count(*) AS n FROM typed GROUP BY export_id, resp_id HAVING count(*) > 1
    ),
    keyed AS (
        SELECT typed.*, strftime(ts, '%Y-%m') AS period, coalesce(dups.n, 1) AS dup_count
        FROM typed LEFT JOIN dups USING (export_id, resp_id)
    ),
    checked AS (
        SELECT k.*, {reason_columns(checks)}
        FROM keyed k LEFT JOIN (SELECT ma_don_vi AS u_code, hieu_luc_tu, hieu_luc_den FROM raw.units) u ON u.u_code = k.unit_code
    )
    SELECT checked.*,
        CASE WHEN reason_code = 'unknown_unit' THEN NULL ELSE unit_code END AS q_unit_code,
        ma_don_vi AS unit_as_sent, period AS q_period, CAST(ts AS TIMESTAMP) AS q_version_ts,
        {_record_json(spec.columns, "checked")} AS record
    FROM checked
    """
    typed_cols = {
        "ma_phieu": "resp_id",
        "loai_khao_sat": "stype",
        "ma_don_vi": "unit_code",
        "linh_vuc": "field",
        "ngay_khao_sat": "ts",
        "kenh": "channel",
        **{q: f"CAST(a_{q} AS TINYINT)" for q in QUESTIONS},
    }
    return _finish("surveys", select, typed_cols, replace)


def _self_report_sql(replace: bool = False) -> list[str]:
    spec = FEED_SPECS["self_report"]
    start, end = "make_date(year_value, 1, 1)", "make_date(year_value, 12, 31)"
    checks: list[tuple[str, str, str]] = [
        ("bad_year", "year_value IS NULL", "'nam ''' || coalesce(nam, '') || ''' is not a year'"),
        *[
            (c, cond, r.replace("{period_text}", "CAST(year_value AS VARCHAR)"))
            for c, cond, r in _unit_checks("unit_code", start, end, "in")
        ],
        (
            "unknown_indicator",
            "k.kpi_code IS NULL",
            "'ma_chi_tieu ' || coalesce(kpi, '(blank)') || ' is not a self-reported programme target'",
        ),
        (
            "bad_number",
            "num IS NULL OR num < 0",
            "'tu_so ''' || coalesce(tu_so, '') || ''' is not a number ≥ 0'",
        ),
        (
            "bad_number",
            "den IS NULL OR den < 0",
            "'mau_so ''' || coalesce(mau_so, '') || ''' is not a number ≥ 0'",
        ),
        ("numerator_above_denominator", "num > den", "'tu_so ' || tu_so || ' is above mau_so ' || mau_so"),
        (
            "duplicate_key",
            "dup_count > 1",
            "'year × unit × indicator appears ' || dup_count || ' times in this export'",
        ),
    ]
    select = f"""
    WITH typed AS (
        SELECT t.*, CASE WHEN regexp_full_match({txt("t.nam")}, '[0-9]{{4}}(\\.0*)?')
                         THEN CAST(left({txt("t.nam")}, 4) AS INTEGER) END AS year_value,
            {txt("t.ma_don_vi")} AS unit_code, {txt("t.ma_chi_tieu")} AS kpi,
            {decimal_value("t.tu_so")} AS num, {decimal_value("t.mau_so")} AS den
        FROM ({_parsed("self_report")}) t
    ),
    keyed AS (
        SELECT typed.*, CAST(year_value AS VARCHAR) AS period,
            count(*) OVER (PARTITION BY export_id, trim(nam), unit_code, kpi) AS dup_count
        FROM typed
    ),
    checked AS (
        SELECT r.*, {reason_columns(checks)}
        FROM keyed r
        LEFT JOIN (SELECT ma_don_vi AS u_code, hieu_luc_tu, hieu_luc_den FROM raw.units) u ON u.u_code = r.unit_code
        LEFT JOIN raw.self_report_indicators k ON k.kpi_code = r.kpi
    )
    SELECT checked.*,
        CASE WHEN reason_code = 'unknown_unit' THEN NULL ELSE unit_code END AS q_unit_code,
        ma_don_vi AS unit_as_sent, period AS q_period, NULL::TIMESTAMP AS q_version_ts,
        {_record_json(spec.columns, "checked")} AS record
    FROM checked
    """
    typed_cols = {
        "nam": "year_value",
        "ma_don_vi": "unit_code",
        "ma_chi_tieu": "kpi",
        "tu_so": "num",
        "mau_so": "den",
        "ghi_chu": txt("ghi_chu"),
    }
    return _finish("self_report", select, typed_cols, replace)


def _national_indices_sql(replace: bool = False) -> list[str]:
    spec = FEED_SPECS["national_indices"]
    checks: list[tuple[str, str, str]] = [
        ("bad_year", "year_value IS NULL", "'nam ''' || coalesce(nam, '') || ''' is not a year'"),
        (
            "unknown_index",
            f"idx IS NULL OR idx NOT IN {NATIONAL_INDICES}",
            "'unknown index chi_so=' || coalesce(chi_so, '(blank)')",
        ),
        (
            "bad_count",
            "rank IS NULL OR rank < 1",
            "'thu_hang ''' || coalesce(thu_hang, '') || ''' is not a rank ≥ 1'",
        ),
        (
            "bad_count",
            f"{txt('so_tinh')} IS NOT NULL AND provinces IS NULL",
            "'so_tinh ''' || so_tinh || ''' is not a whole number'",
        ),
        (
            "bad_number",
            f"{txt('diem')} IS NOT NULL AND score IS NULL",
            "'diem ''' || diem || ''' is not a number'",
        ),
        ("duplicate_key", "dup_count > 1", "'year × index appears ' || dup_count || ' times in this export'"),
    ]
    select = f"""
    WITH typed AS (
        SELECT t.*, CASE WHEN regexp_full_match({txt("t.nam")}, '[0-9]{{4}}(\\.0*)?')
                         THEN CAST(left({txt("t.nam")}, 4) AS INTEGER) END AS year_value,
            upper({txt("t.chi_so")}) AS idx, {count_value("t.thu_hang", blank_is_zero=False)} AS rank,
            {count_value("t.so_tinh", blank_is_zero=False)} AS provinces, {decimal_value("t.diem")} AS score
        FROM ({_parsed("national_indices")}) t
    ),
    checked AS (
        SELECT k.*, count(*) OVER (PARTITION BY export_id, year_value, idx) AS dup_count
        FROM typed k
    ),
    checked2 AS (SELECT c.*, {reason_columns(checks)} FROM checked c)
    SELECT checked2.*, NULL AS q_unit_code, NULL AS unit_as_sent, CAST(year_value AS VARCHAR) AS q_period,
        NULL::TIMESTAMP AS q_version_ts,
        {_record_json(spec.columns, "checked2")} AS record
    FROM checked2
    """
    typed_cols = {
        "nam": "year_value",
        "chi_so": "idx",
        "diem": "score",
        "thu_hang": "rank",
        "so_tinh": "provinces",
        "nguon": txt("nguon"),
    }
    return _finish("national_indices", select, typed_cols, replace)


def _flag(col: str) -> str:
    return f"(CASE WHEN lower({txt(col)}) IN ('1', '1.0', 'true', 'x', 'có', 'co', 'yes') THEN 1 ELSE 0 END)"


def _register_sql(feed: str, replace: bool = True) -> list[str]:
    """The newest register export wins as a whole (a register is a full snapshot): every register
    export is read again each run (they are small) and the table replaced."""
    spec = FEED_SPECS[feed]
    if feed == "units":
        key = "ma_don_vi"
        typed = {
            "ma_don_vi": txt("ma_don_vi"),
            "ten_don_vi": txt("ten_don_vi"),
            "cap": f"lower({txt('cap')})",
            "nhom_xep_hang": f"lower({txt('nhom_xep_hang')})",
            "ma_don_vi_cha": txt("ma_don_vi_cha"),
            "hieu_luc_tu": "tu",
            "hieu_luc_den": "den",
            "ma_don_vi_ke_thua": txt("ma_don_vi_ke_thua"),
            "ten_khac": txt("ten_khac"),
        }
        extra_checks: list[tuple[str, str, str]] = []
    else:
        key = "ma_thu_tuc"
        typed = {
            "ma_thu_tuc": txt("ma_thu_tuc"),
            "ten_thu_tuc": txt("ten_thu_tuc"),
            "linh_vuc": f"lower({txt('linh_vuc')})",
            "cap_thuc_hien": f"lower({txt('cap_thuc_hien')})",
            "co_nghia_vu_tai_chinh": _flag("co_nghia_vu_tai_chinh"),
            "du_dieu_kien_truc_tuyen": _flag("du_dieu_kien_truc_tuyen"),
            "muc_do_truc_tuyen": f"coalesce(lower({txt('muc_do_truc_tuyen')}), 'khong')",
            "ngay_tich_hop_dvcqg": "dvcqg",
            "ngay_tich_hop_tttt": "tttt",
            "nam_don_gian_hoa": "simplified",
            "hieu_luc_tu": "tu",
            "hieu_luc_den": "den",
        }
        extra_checks = [
            (
                "bad_date",
                f"({txt('ngay_tich_hop_dvcqg')} IS NOT NULL AND dvcqg IS NULL) OR "
                f"({txt('ngay_tich_hop_tttt')} IS NOT NULL AND tttt IS NULL)",
                "'integration date is not a date'",
            ),
            (
                "bad_year",
                f"{txt('nam_don_gian_hoa')} IS NOT NULL AND simplified IS NULL",
                "'nam_don_gian_hoa ''' || nam_don_gian_hoa || ''' is not a year'",
            ),
        ]
    checks = [
        ("missing_id", f"{txt(key)} IS NULL", f"'{key} is blank'"),
        (
            "bad_date",
            f"({txt('hieu_luc_tu')} IS NOT NULL AND tu IS NULL) OR ({txt('hieu_luc_den')} IS NOT NULL AND den IS NULL)",
            "'hieu_luc_tu/hieu_luc_den is not a date'",
        ),
        *extra_checks,
        (
            "duplicate_key",
            "dup_count > 1",
            f"'{key} ' || trim({key}) || ' appears ' || dup_count || ' times'",
        ),
    ]
    proc_extra = (
        f", {register_date('t.ngay_tich_hop_dvcqg')} AS dvcqg, {register_date('t.ngay_tich_hop_tttt')} AS tttt, "
        f"CASE WHEN regexp_full_match({txt('t.nam_don_gian_hoa')}, '[0-9]{{4}}(\\.0*)?') "
        f"THEN CAST(left({txt('t.nam_don_gian_hoa')}, 4) AS INTEGER) END AS simplified"
        if feed == "procedures"
        else ""
    )
    select = f"""
    WITH latest AS (
        SELECT export_id FROM raw.exports
        WHERE feed = '{feed}' AND parse_status = 'parsed' ORDER BY sort_key DESC, export_id DESC LIMIT 1
    ),
    typed AS (
        SELECT t.*, {register_date("t.hieu_luc_tu")} AS tu, {register_date("t.hieu_luc_den")} AS den{proc_extra},
            count(*) OVER (PARTITION BY t.export_id, {txt("t." + key)}) AS dup_count
        FROM ({_parsed(feed)}) t WHERE t.export_id IN (SELECT export_id FROM latest)
    )
    , checked AS (SELECT typed.*, {reason_columns(checks)} FROM typed)
    SELECT checked.*,
        NULL AS q_unit_code, {txt(key)} AS unit_as_sent, NULL AS q_period, NULL::TIMESTAMP AS q_version_ts,
        {_record_json(spec.columns, "checked")} AS record
    FROM checked
    """
    return _finish(feed, select, typed, replace=True)


CHECK_SQL = {
    "units": lambda replace=True: _register_sql("units"),
    "procedures": lambda replace=True: _register_sql("procedures"),
    "dossiers": _dossiers_sql,
    "payments": _payments_sql,
    "surveys": _surveys_sql,
    "self_report": _self_report_sql,
    "national_indices": _national_indices_sql,
}
# what each feed's checks read besides the export itself (the fingerprint covers their content);
# the names sent in Biểu II.06a reports are resolved by name_key, whose code is hashed instead
CHECK_INPUTS = {
    "dossiers": ("raw.units", "raw.procedures", "raw.unit_keys"),
    "payments": ("raw.units", "raw.procedures"),
    "surveys": ("raw.units",),
    "self_report": ("raw.units", "raw.self_report_indicators"),
    "national_indices": (),
}
NAMES_MODULE = Path(__file__).resolve().parents[1] / "lib" / "names.py"


def fingerprint(con: duckdb.DuckDBPyConnection, feed: str) -> str:
    """Hash of the feed's checking SQL and of the content of the registers its checks read."""
    digest = hashlib.sha256("\n".join(CHECK_SQL[feed]()).encode())
    if feed == "dossiers":
        digest.update(NAMES_MODULE.read_bytes())
    for table in CHECK_INPUTS.get(feed, ()):
        content = con.execute(
            f"SELECT coalesce(md5(string_agg(CAST(r AS VARCHAR), '\n' ORDER BY CAST(r AS VARCHAR))), '') "
            f"FROM {table} r"
        ).fetchone()[0]
        digest.update(f"|{table}:{content}".encode())
    return digest.hexdigest()


def is_current(con: duckdb.DuckDBPyConnection, feed: str, fp: str) -> bool:
    """True when `raw.<feed>` was checked against this fingerprint and every export it came from is
    still a parsed export of the feed: then only exports not checked yet need reading."""
    stored = con.execute("SELECT fingerprint FROM raw.check_fingerprints WHERE feed = ?", [feed]).fetchone()
    if not table_exists(con, "raw", feed) or stored is None or stored[0] != fp:
        return False
    gone = con.execute(
        """SELECT count(*) FROM raw.checked_exports c
           LEFT JOIN raw.exports e ON e.export_id = c.export_id AND e.feed = c.feed
           WHERE c.feed = ? AND e.parse_status IS DISTINCT FROM 'parsed'""",
        [feed],
    ).fetchone()[0]
    return gone == 0


def reset(con: duckdb.DuckDBPyConnection, feed: str, fp: str) -> None:
    """Forget every check of the feed (an empty `raw.<feed>`, no quarantine rows, nothing checked) and
    record the fingerprint the exports are about to be checked against."""
    con.execute(text_table_ddl(feed))
    check(con, feed, replace=True)
    con.execute("DELETE FROM raw.quarantine_rows WHERE feed = ?", [feed])
    con.execute("DELETE FROM raw.checked_exports WHERE feed = ?", [feed])
    con.execute("INSERT OR REPLACE INTO raw.check_fingerprints VALUES (?, ?)", [feed, fp])


def check(con: duckdb.DuckDBPyConnection, feed: str, *, replace: bool = False) -> None:
    """Check the rows in `_text_<feed>` and append them to `raw.<feed>` / the quarantine (or replace
    `raw.<feed>`: registers, and the empty table a reset starts from)."""
    for statement in CHECK_SQL[feed](replace):
        con.execute(statement)
