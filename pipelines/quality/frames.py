"""The frames the expectation suites validate, read from the warehouse with SQL at each rule's grain.

GX's SQL datasource does not work on DuckDB here, and row-level frames of the big feeds (millions of
payment transactions) would not fit comfortably in pandas, so every frame is aggregated in DuckDB to the
grain its rule needs — export × unit × month (× category) for the feeds, unit × month for the dossier
rules, unit × year for reporting and surveys, year for the ranking gate — and only then handed to GX.

No frame selects a column that could hold personal data: `raw.surveys` never stores the phone number
(`so_dien_thoai`), and the frames list their columns explicitly; `pipelines.quality.gx` refuses any
frame that carries one all the same.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb
import numpy as np
import pandas as pd

from pipelines.quality.feed_groups import FeedGroups, kept_groups_current

RANKING_GROUPS = "('so_nganh', 'nganh_doc', 'ubnd_huyen', 'ubnd_xa')"
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
)
QUESTIONS = tuple(f"q{i}" for i in range(1, 11))


@dataclass(frozen=True)
class Frame:
    """One frame: the SQL that reads it, the suite (expectations/<suite>.json) that validates it, the
    columns that identify a row (shown for failing rows), and its grain in words."""

    name: str
    suite: str
    sql: str
    keys: tuple[str, ...]
    grain: str
    tables: tuple[str, ...] = field(default=())


def _unit_known(code: str) -> str:
    return f"({code} IN (SELECT ma_don_vi FROM raw.units))"


# --- 1. Schema and validity of each feed (on raw/<feed>) -------------------------------------------
# The big feeds (millions of dossier rows and payment transactions at province scale) are first grouped per
# export at the frame's grain (`FeedGroups`, pipelines/quality/feed_groups.py): every column of the frame
# is an aggregate that combines across exports, and a key twice in one export is a matter of that export
# alone. Ingestion keeps those groups for every loaded export (`raw.check_groups_<feed>`), so a night with
# one new export groups only that export's rows; the frame combines the groups and looks each unit up in the
# register once per group. When the kept groups do not match the loaded rows (or the registers and checks
# changed since), the frame is grouped from the rows themselves, which gives the same frame.

_DOSSIERS = FeedGroups(
    "dossiers",
    ("export_id", "ky_bao_cao", "ma_don_vi", "ma_thu_tuc"),
    {
        "file_name": "file_name",
        "export": "left(export_id, 12)",
        "unit_code": "ma_don_vi",
        "period": "ky_bao_cao",
        "source_format": "source_format",
    },
    (
        ("rows", "count(*)", "sum"),
        (
            "min_count",
            f"min(least({', '.join(DOSSIER_COUNTS)}, CASE WHEN source_format = 'machine' THEN tra_lai_rut END))",
            "min",
        ),
        (
            "missing_required_rows",
            f"""count(*) FILTER (WHERE ky_bao_cao IS NULL OR ma_don_vi IS NULL
            OR {" OR ".join(f"{c} IS NULL" for c in DOSSIER_COUNTS)}
            OR (source_format = 'machine' AND (ma_thu_tuc IS NULL OR ngay_xuat IS NULL OR tra_lai_rut IS NULL)))""",
            "sum",
        ),
        (
            "unknown_procedure_rows",
            "count(*) FILTER (WHERE ma_thu_tuc IS NOT NULL AND ma_thu_tuc NOT IN (SELECT ma_thu_tuc FROM raw.procedures))",
            "sum",
        ),
    ),
    f"""SELECT file_name, export, unit_code, period, source_format, rows, min_count, missing_required_rows,
    unknown_procedure_rows, duplicate_key_rows, {_unit_known("unit_code")} AS unit_known
FROM f
ORDER BY file_name, export, unit_code, period, source_format
""",
)

_PAYMENTS = FeedGroups(
    "payments",
    ("export_id", "ma_giao_dich"),
    {
        "file_name": "file_name",
        "export": "left(export_id, 12)",
        "unit_code": "ma_don_vi",
        "y": "year(thoi_diem)",
        "m": "month(thoi_diem)",
        "kenh": "kenh",
        "trang_thai": "trang_thai",
    },
    (
        ("rows", "count(*)", "sum"),
        ("min_amount", "min(so_tien)", "min"),
        (
            "missing_required_rows",
            """count(*) FILTER (WHERE ma_giao_dich IS NULL OR ma_thu_tuc IS NULL OR ma_don_vi IS NULL
            OR thoi_diem IS NULL OR so_tien IS NULL OR kenh IS NULL OR trang_thai IS NULL)""",
            "sum",
        ),
        (
            "unknown_procedure_rows",
            "count(*) FILTER (WHERE ma_thu_tuc IS NOT NULL AND ma_thu_tuc NOT IN (SELECT ma_thu_tuc FROM raw.procedures))",
            "sum",
        ),
    ),
    f"""SELECT file_name, export, unit_code, strftime(make_date(y, m, 1), '%Y-%m') AS period, kenh, trang_thai,
    rows, min_amount, missing_required_rows, unknown_procedure_rows, duplicate_key_rows,
    {_unit_known("unit_code")} AS unit_known
FROM f
ORDER BY file_name, export, unit_code, period, kenh, trang_thai
""",
)

# Survey answers: the smallest and largest answer of each group (blank = not answered).
_SURVEYS = FeedGroups(
    "surveys",
    ("export_id", "ma_phieu"),
    {
        "file_name": "file_name",
        "export": "left(export_id, 12)",
        "unit_code": "ma_don_vi",
        "y": "year(ngay_khao_sat)",
        "m": "month(ngay_khao_sat)",
        "loai_khao_sat": "loai_khao_sat",
        "kenh": "kenh",
    },
    (
        ("responses", "count(*)", "sum"),
        ("min_answer", f"min(least({', '.join(QUESTIONS)}))", "min"),
        ("max_answer", f"max(greatest({', '.join(QUESTIONS)}))", "max"),
        (
            "missing_required_rows",
            "count(*) FILTER (WHERE ma_phieu IS NULL OR loai_khao_sat IS NULL OR ma_don_vi IS NULL "
            "OR ngay_khao_sat IS NULL)",
            "sum",
        ),
    ),
    f"""SELECT file_name, export, unit_code, strftime(make_date(y, m, 1), '%Y-%m') AS period, loai_khao_sat, kenh,
    responses, min_answer, max_answer, missing_required_rows, duplicate_key_rows,
    {_unit_known("unit_code")} AS unit_known
FROM f
ORDER BY file_name, export, unit_code, period, loai_khao_sat, kenh
""",
)
FEED_GROUPS: dict[str, FeedGroups] = {g.feed: g for g in (_DOSSIERS, _PAYMENTS, _SURVEYS)}

_SELF_REPORT = f"""
SELECT file_name, left(export_id, 12) AS export, nam AS year, ma_don_vi AS unit_code, ma_chi_tieu AS kpi_code,
    tu_so AS numerator, mau_so AS denominator,
    {_unit_known("ma_don_vi")} AS unit_known,
    ma_chi_tieu IN (SELECT kpi_code FROM raw.self_report_indicators) AS known_indicator
FROM raw.self_report
ORDER BY file_name, export, year, unit_code, kpi_code
"""

_NATIONAL_INDICES = """
SELECT file_name, left(export_id, 12) AS export, nam AS year, chi_so AS index_code, thu_hang AS rank,
    so_tinh AS provinces, diem AS score
FROM raw.national_indices
ORDER BY file_name, export, year, index_code
"""

_UNITS = """
SELECT ma_don_vi AS unit_code, ten_don_vi AS unit_name, cap AS level, nhom_xep_hang AS ranking_group,
    date_diff('day', hieu_luc_tu, hieu_luc_den) AS validity_days,
    CASE WHEN ma_don_vi_ke_thua IS NOT NULL
         THEN ma_don_vi_ke_thua IN (SELECT ma_don_vi FROM raw.units) END AS successor_known,
    CASE WHEN ma_don_vi_cha IS NOT NULL
         THEN ma_don_vi_cha IN (SELECT ma_don_vi FROM raw.units) END AS parent_known
FROM raw.units
ORDER BY unit_code
"""

_PROCEDURES = """
SELECT ma_thu_tuc AS procedure_code, linh_vuc AS field, co_nghia_vu_tai_chinh AS fee_bearing,
    du_dieu_kien_truc_tuyen AS online_eligible, muc_do_truc_tuyen AS online_level,
    nam_don_gian_hoa AS simplified_year,
    date_diff('day', hieu_luc_tu, hieu_luc_den) AS validity_days
FROM raw.procedures
ORDER BY procedure_code
"""

_EXPORT_KEYS = ("file_name", "export", "unit_code", "period")

FEED_FRAMES: dict[str, Frame] = {
    "units": Frame("feed_units", "feed_units", _UNITS, ("unit_code",), "unit (register row)", ("raw.units",)),
    "procedures": Frame(
        "feed_procedures",
        "feed_procedures",
        _PROCEDURES,
        ("procedure_code",),
        "procedure (catalogue row)",
        ("raw.procedures",),
    ),
    "dossiers": Frame(
        "feed_dossiers",
        "feed_dossiers",
        _DOSSIERS.frame_sql(),
        (*_EXPORT_KEYS, "source_format"),
        "export × unit × month (× machine/human format)",
        ("raw.dossiers",),
    ),
    "payments": Frame(
        "feed_payments",
        "feed_payments",
        _PAYMENTS.frame_sql(),
        (*_EXPORT_KEYS, "kenh", "trang_thai"),
        "export × unit × month × channel × status",
        ("raw.payments",),
    ),
    "surveys": Frame(
        "feed_surveys",
        "feed_surveys",
        _SURVEYS.frame_sql(),
        (*_EXPORT_KEYS, "loai_khao_sat", "kenh"),
        "export × unit × month × survey type × channel",
        ("raw.surveys",),
    ),
    "self_report": Frame(
        "feed_self_report",
        "feed_self_report",
        _SELF_REPORT,
        ("file_name", "export", "year", "unit_code", "kpi_code"),
        "export × year × unit × indicator",
        ("raw.self_report",),
    ),
    "national_indices": Frame(
        "feed_national_indices",
        "feed_national_indices",
        _NATIONAL_INDICES,
        ("file_name", "export", "year", "index_code"),
        "export × year × index",
        ("raw.national_indices",),
    ),
}

FEED_GROUPS_BY_FRAME: dict[str, FeedGroups] = {FEED_FRAMES[feed].name: g for feed, g in FEED_GROUPS.items()}

# --- 2. Dossier balance identity and stock continuity (unit × month) -------------------------------
# The rule of gap type `inconsistent` (quality.md): a row balances when ton_ky_truoc + received = resolved
# + pending + tra_lai_rut (tra_lai_rut ≥ 0); for two consecutive months that both have rows, the earlier
# month's closing pending equals the later month's ton_ky_truoc — per unit-procedure, or per unit when
# either month came from a Biểu II.06a. It is computed once, by dbt, per unit-month
# (intermediate.int_dossiers__unit_month_balance, which the gaps read too): the suite validates that table
# instead of grouping the 5.7 M winning rows (province scale) a second time with a second implementation.
_DOSSIER_BALANCE = """
SELECT unit_code, period, CAST(data_rows AS BIGINT) AS rows,
    CAST(unbalanced_rows AS BIGINT) AS unbalanced_rows,
    CAST(stock_breaks AS BIGINT) AS stock_breaks,
    from_human_report
FROM intermediate.int_dossiers__unit_month_balance
ORDER BY unit_code, period
"""

# --- 3. Reporting completeness and timeliness per unit-year -----------------------------------------
_COMPLETENESS = """
SELECT c.year, c.unit_code, u.unit_name, c.expected, c.received, c.on_time, c.completeness, c.timeliness
FROM marts.reporting_completeness AS c
LEFT JOIN staging.stg_registers__units AS u ON u.unit_code = c.unit_code
WHERE c.feed = 'dossiers' AND c.expected > 0
ORDER BY c.year, c.unit_code
"""

# --- 4. Survey sample size: SIPAS responses per ranking-group unit-year -----------------------------
_SURVEY_SAMPLE = f"""
WITH s AS (
    SELECT unit_code, year, count(*) AS responses
    FROM staging.stg_surveys__responses WHERE survey_type = 'sipas'
    GROUP BY unit_code, year
)
SELECT c.year, c.unit_code, c.ranking_group, CAST(coalesce(s.responses, 0) AS BIGINT) AS sipas_responses
FROM intermediate.int_calendar__unit_years AS c
LEFT JOIN s ON s.unit_code = c.unit_code AND s.year = c.year
WHERE c.ranking_group IN {RANKING_GROUPS}
ORDER BY c.year, c.unit_code
"""

# --- 5. Cross-source consistency: unit-months with a successful online payment ----------------------
_CROSS_SOURCE = """
SELECT p.unit_code, p.period, CAST(p.successful_online AS BIGINT) AS successful_online_payments,
    CAST(coalesce(d.received_total, 0) AS BIGINT) AS dossiers_received
FROM intermediate.int_payments__unit_month AS p
LEFT JOIN intermediate.int_dossiers__unit_month AS d ON d.unit_code = p.unit_code AND d.period = p.period
WHERE p.successful_online >= 1
ORDER BY p.unit_code, p.period
"""

# --- 6. Outliers: modified z-score of a unit's monthly total received (quality.md, `outlier`) -------
# History: the same unit's months m−12 … m−1 that have loaded rows, at least 6 of them.
# M = 0.6745·(x − median)/MAD; when MAD = 0, 0.7979·(x − median)/MeanAD; both 0: x ≠ median flags.
_OUTLIERS = """
WITH um AS (
    SELECT unit_code, period, month_start, CAST(received_total AS DOUBLE) AS x
    FROM intermediate.int_dossiers__unit_month
),
history AS (
    SELECT cur.unit_code, cur.period, cur.x, h.x AS xi
    FROM um AS cur
    JOIN um AS h ON h.unit_code = cur.unit_code
        AND h.month_start BETWEEN cur.month_start - INTERVAL 12 MONTH AND cur.month_start - INTERVAL 1 MONTH
),
med AS (
    SELECT unit_code, period, any_value(x) AS x, count(*) AS n, quantile_cont(xi, 0.5) AS median
    FROM history GROUP BY unit_code, period HAVING count(*) >= 6
),
spread AS (
    SELECT m.unit_code, m.period, m.x, m.n, m.median,
        quantile_cont(abs(h.xi - m.median), 0.5) AS mad, avg(abs(h.xi - m.median)) AS mean_ad
    FROM med AS m JOIN history AS h ON h.unit_code = m.unit_code AND h.period = m.period
    GROUP BY m.unit_code, m.period, m.x, m.n, m.median
)
SELECT unit_code, period, x AS received_total, CAST(n AS BIGINT) AS history_months, median, mad, mean_ad,
    CASE WHEN mad <> 0 THEN abs(0.6745 * (x - median) / mad)
         WHEN mean_ad <> 0 THEN abs(0.7979 * (x - median) / mean_ad) END AS abs_modified_z,
    CASE WHEN mad = 0 AND mean_ad = 0 THEN CAST(x <> median AS INTEGER) END AS departs_from_flat_history
FROM spread
ORDER BY unit_code, period
"""

# --- 7. The ranking gate: the four checks per year (marts.ranking_gate) and KPI bounds again --------
_GATE = """
SELECT year,
    bool_or(year_is_over) AS year_is_over,
    bool_or(is_final_year) AS is_final_year,
    bool_or(year_is_ranked) AS year_is_ranked,
    bool_and(passed) FILTER (WHERE check_id = 1) AS integrity,
    bool_and(passed) FILTER (WHERE check_id = 2) AS reporting_completeness,
    bool_and(passed) FILTER (WHERE check_id = 3) AS unit_coverage,
    bool_and(passed) FILTER (WHERE check_id = 4) AS kpi_bounds,
    any_value(detail) FILTER (WHERE check_id = 1) AS integrity_detail,
    any_value(detail) FILTER (WHERE check_id = 2) AS reporting_completeness_detail,
    any_value(detail) FILTER (WHERE check_id = 3) AS unit_coverage_detail,
    any_value(detail) FILTER (WHERE check_id = 4) AS kpi_bounds_detail
FROM marts.ranking_gate
GROUP BY year
ORDER BY year
"""

# Gate check 4 once more, outside SQL: every KPI value except the national ranks within [0, 1] and
# denominator ≥ numerator ≥ 0, for the years that are over (those the ranking could be computed for).
_KPI_BOUNDS = """
WITH over AS (SELECT DISTINCT year FROM marts.ranking_gate WHERE year_is_over)
SELECT 'unit' AS grain, k.year, k.unit_code, k.kpi_code, k.numerator, k.denominator, k.value
FROM marts.kpi_unit_year AS k WHERE k.year IN (SELECT year FROM over)
UNION ALL
SELECT 'province', p.year, '(tỉnh)', p.kpi_code, p.numerator, p.denominator, p.value
FROM marts.kpi_province_year AS p
WHERE p.year IN (SELECT year FROM over) AND p.kpi_code NOT LIKE '%national_rank'
ORDER BY 1, 2, 3, 4
"""

FRAMES: dict[str, Frame] = {
    **{f.name: f for f in FEED_FRAMES.values()},
    "dossier_balance": Frame(
        "dossier_balance",
        "dossier_balance",
        _DOSSIER_BALANCE,
        ("unit_code", "period"),
        "unit × month",
        ("intermediate.int_dossiers__unit_month_balance",),
    ),
    "reporting_completeness": Frame(
        "reporting_completeness",
        "reporting_completeness",
        _COMPLETENESS,
        ("year", "unit_code"),
        "unit × year (units with expected monthly reports)",
        ("marts.reporting_completeness", "staging.stg_registers__units"),
    ),
    "survey_sample_size": Frame(
        "survey_sample_size",
        "survey_sample_size",
        _SURVEY_SAMPLE,
        ("year", "unit_code"),
        "ranking-group unit × year",
        ("staging.stg_surveys__responses", "intermediate.int_calendar__unit_years"),
    ),
    "cross_source": Frame(
        "cross_source",
        "cross_source",
        _CROSS_SOURCE,
        ("unit_code", "period"),
        "unit × month with at least one successful online payment",
        ("intermediate.int_payments__unit_month", "intermediate.int_dossiers__unit_month"),
    ),
    "received_outliers": Frame(
        "received_outliers",
        "received_outliers",
        _OUTLIERS,
        ("unit_code", "period"),
        "unit × month with at least 6 months of history",
        ("intermediate.int_dossiers__unit_month",),
    ),
    "ranking_gate": Frame(
        "ranking_gate", "ranking_gate", _GATE, ("year",), "programme year", ("marts.ranking_gate",)
    ),
    "kpi_bounds": Frame(
        "kpi_bounds",
        "kpi_bounds",
        _KPI_BOUNDS,
        ("grain", "year", "unit_code", "kpi_code"),
        "KPI × unit × year (and province × year) of the years that are over",
        ("marts.kpi_unit_year", "marts.kpi_province_year", "marts.ranking_gate"),
    ),
}


class MissingTableError(RuntimeError):
    """A table a frame reads does not exist (its asset was never materialized)."""


def missing_tables(con: duckdb.DuckDBPyConnection, frame: Frame) -> list[str]:
    present = {
        f"{s}.{t}"
        for s, t in con.execute("SELECT table_schema, table_name FROM information_schema.tables").fetchall()
    }
    return [t for t in frame.tables if t not in present]


def read_frame(con: duckdb.DuckDBPyConnection, name: str) -> pd.DataFrame:
    """The frame `name` as a pandas DataFrame with plain (numpy/object) dtypes."""
    frame = FRAMES[name]
    missing = missing_tables(con, frame)
    if missing:
        raise MissingTableError(f"{name}: table(s) {', '.join(missing)} not in the warehouse")
    sql = frame.sql
    groups = FEED_GROUPS_BY_FRAME.get(name)
    if groups is not None and kept_groups_current(con, groups):
        sql = groups.frame_sql(groups.kept_table)
    return plain_dtypes(con.execute(sql).df())


def plain_dtypes(df: pd.DataFrame) -> pd.DataFrame:
    """DuckDB hands back pandas' nullable dtypes (Int64, boolean with <NA>); GX and JSON want plain ones:
    integers without nulls stay int64, with nulls become float64; booleans and strings become objects
    holding True/False/None."""
    out = {}
    for column in df.columns:
        s = df[column]
        if pd.api.types.is_integer_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype):
            out[column] = s.astype("float64") if s.isna().any() else s.astype("int64")
        elif pd.api.types.is_float_dtype(s.dtype):
            out[column] = s.astype("float64")
        elif pd.api.types.is_bool_dtype(s.dtype) or isinstance(s.dtype, pd.StringDtype) or s.dtype == object:
            out[column] = _plain_objects(s)
        elif pd.api.types.is_datetime64_any_dtype(s.dtype):
            out[column] = s.dt.strftime("%Y-%m-%d").astype(object).where(s.notna(), None)
        else:
            out[column] = s
    return pd.DataFrame(out, index=df.index)


def _plain_objects(s: pd.Series) -> pd.Series:
    """True/False/None or strings/None as Python objects. Columns of plain strings or booleans (nearly all) are
    converted at once; anything else value by value."""
    kind = pd.api.types.infer_dtype(s, skipna=True)
    if kind in ("string", "boolean", "empty"):
        values = s.astype(object)
        if kind == "boolean":  # numpy booleans become Python booleans
            values = pd.Series(
                [bool(v) if isinstance(v, np.bool_) else v for v in values], index=s.index, dtype=object
            )
        return values.where(s.notna(), None).astype(object)
    return pd.Series(
        [
            None if pd.isna(v) else (bool(v) if isinstance(v, bool | np.bool_) else v)
            for v in s.astype(object)
        ],
        index=s.index,
        dtype=object,
    )
