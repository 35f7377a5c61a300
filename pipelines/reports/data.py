"""Warehouse → plain Python/pandas structures for the reports (read-only connections, each closed at once:
one for the small tables and the counts, then one per year for that year's detail rows).

Everything the reports show comes from the marts (plus `raw.exports` for files that could not be read,
`raw.quarantine_rows` for the unit names/codes as sent and the rows that were set aside, and the
`reference.ranking_method` seed). Labels are Vietnamese: the reports are read by the Department of Home
Affairs and by the units it chases.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd

from pipelines.lib.config import Settings
from pipelines.lib.warehouse import connect, memory_limit

RANKING_GROUPS: dict[str, str] = {
    "so_nganh": "Sở, ban, ngành",
    "nganh_doc": "Cơ quan ngành dọc",
    "ubnd_huyen": "UBND cấp huyện",
    "ubnd_xa": "UBND cấp xã",
}
OTHER_GROUP = "Khác / không xác định"

FEEDS: dict[str, str] = {
    "dossiers": "Hồ sơ TTHC",
    "payments": "Thanh toán trực tuyến",
    "surveys": "Khảo sát hài lòng",
    "self_report": "Tự đánh giá",
    "national_indices": "Chỉ số quốc gia",
}
OTHER_FEEDS: dict[str, str] = {"units": "Danh mục đơn vị", "procedures": "Danh mục TTHC"}

GAP_TYPES: dict[str, str] = {
    "missing": "Chưa gửi báo cáo",
    "late": "Gửi báo cáo muộn",
    "invalid": "Dữ liệu không hợp lệ (bị loại)",
    "unreadable": "Tệp không đọc được",
    "unknown_unit": "Đơn vị không xác định",
    "inconsistent": "Số liệu không cân đối",
    "outlier": "Số liệu bất thường",
    "small_sample": "Mẫu khảo sát nhỏ (dưới 30 phiếu)",
    "cross_source": "Không khớp giữa các nguồn",
    "revised": "Có bản sửa đổi",
}
SEVERITIES: dict[str, str] = {"error": "Lỗi", "warning": "Cảnh báo"}
ERROR_GAP_TYPES = frozenset({"invalid", "unreadable", "unknown_unit"})

GATE_CHECKS: dict[str, str] = {
    "integrity": "Toàn vẹn của dữ liệu đã nạp",
    "reporting_completeness": "Tỷ lệ báo cáo đầy đủ toàn tỉnh so với ngưỡng",
    "unit_coverage": "Số liệu chỉ tiêu của mọi đơn vị tồn tại đủ năm",
    "kpi_bounds": "Giới hạn hợp lệ của giá trị chỉ tiêu",
}

GRADE_LABELS_DEFAULT = {"A": "Xuất sắc", "B": "Tốt", "C": "Khá", "D": "Trung bình"}

_PERIOD_IN_NAME = re.compile(r"([0-9]{4}-[0-9]{2}|[0-9]{4})")
_UNREADABLE_DETAIL = re.compile(r"^Tệp .* không đọc được")


def group_label(code: str | None) -> str:
    return RANKING_GROUPS.get(code or "", OTHER_GROUP)


def feed_label(feed: str | None) -> str:
    return FEEDS.get(feed or "", OTHER_FEEDS.get(feed or "", feed or "—"))


def period_label(period: str | None) -> str:
    """`2024-03` → `03/2024`; `2024` stays; blank → `—`."""
    if not period:
        return "—"
    if re.fullmatch(r"\d{4}-\d{2}", period):
        return f"{period[5:]}/{period[:4]}"
    return period


def _none(value):
    """NaN / NA / NaT → None, numpy scalars → Python scalars."""
    if value is None:
        return None
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        return value
    if hasattr(value, "item"):
        return value.item()
    return value


def records(df: pd.DataFrame) -> list[dict]:
    """DataFrame rows as dicts of plain Python values (None for missing)."""
    return [{k: _none(v) for k, v in row.items()} for row in df.to_dict("records")]


def _group_order(code: str | None) -> int:
    keys = list(RANKING_GROUPS)
    return keys.index(code) if code in keys else len(keys)


# --------------------------------------------------------------------------------------------------
# Loading
#
# The small marts (units, completeness, gate, ranking, KPIs, method: a few thousand rows at province
# scale) are read once into pandas. The two tables that grow with the data — `marts.reporting_gaps` and
# `raw.quarantine_rows` (millions of rows when a province export goes bad) — are never read whole: DuckDB
# filters, labels, sorts, counts and limits them, and Python only receives one year's rows to print.


@dataclass
class Warehouse:
    """The small tables the reports read for all programme years, and where to read the large ones."""

    as_of: date
    years: list[int]
    final_years: frozenset[int]
    units: pd.DataFrame
    completeness: pd.DataFrame
    unreadable: pd.DataFrame
    gate: pd.DataFrame
    ranking: pd.DataFrame
    kpis: pd.DataFrame
    dim_kpis: pd.DataFrame
    method: pd.DataFrame
    gap_counts: list[tuple]  # (year, feed, gap_type, rows, first sort key of the feed in the year)
    quarantine_totals: dict[int, int]  # year → quarantined rows
    path: Path | None = None  # the warehouse file, reopened read-only for one year's detail rows
    has_quarantine: bool = True  # raw.quarantine_rows exists (not before the first ingestion)
    completeness_threshold: float = 0.9
    tables_missing: list[str] = field(default_factory=list)

    @contextlib.contextmanager
    def connection(self) -> Iterator[duckdb.DuckDBPyConnection | None]:
        if self.path is None:
            yield None
            return
        with connect(self.path, read_only=True) as con:
            con.execute(f"SET memory_limit = '{memory_limit()}'")
            yield con


_QUERIES: dict[str, str] = {
    "units": """SELECT unit_code, unit_name, unit_level, ranking_group, valid_from, valid_to
                FROM marts.dim_units""",
    "completeness": """SELECT c.year, c.unit_code, c.feed, c.expected, c.received, c.on_time, c.completeness,
                              c.timeliness, u.unit_name, u.ranking_group
                       FROM marts.reporting_completeness c
                       LEFT JOIN marts.dim_units u USING (unit_code)""",
    "unreadable": """SELECT feed, file_name, parse_reason, arrived_at, origin
                     FROM raw.exports WHERE parse_status = 'quarantined'""",
    "gate": "SELECT * FROM marts.ranking_gate",
    "ranking": "SELECT * FROM marts.par_ranking",
    "kpis": "SELECT * FROM marts.kpi_province_year",
    "dim_kpis": "SELECT * FROM marts.dim_kpis",
    "method": "SELECT * FROM reference.ranking_method",
}


def _lit(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _case(expr: str, mapping: dict[str, object], default: str) -> str:
    """SQL for `mapping.get(expr, default)` (the mapping's values are strings or integers)."""
    whens = " ".join(
        f"WHEN {_lit(k)} THEN {v if isinstance(v, int) else _lit(str(v))}" for k, v in mapping.items()
    )
    return f"(CASE {expr} {whens} ELSE {default} END)"


_GROUP_ORDER_SQL = _case(
    "ranking_group", {g: i for i, g in enumerate(RANKING_GROUPS)}, str(len(RANKING_GROUPS))
)
_TYPE_ORDER_SQL = _case("gap_type", {g: i for i, g in enumerate(GAP_TYPES)}, "99")
_HAS_UNIT_SQL = "coalesce(unit_code, '') <> ''"

# The gap rows as the follow-up report lists them:
# the mart's own rows for files that could not be read are left out (they come from raw.exports, with
# their reason), unit names and groups completed from dim_units, and `sort_key` orders them as
# `_gap_sort_key` does.
_YEAR_GAPS_SQL = f"""
    SELECT *,
           [lpad({_GROUP_ORDER_SQL}::VARCHAR, 2, '0'), coalesce(nullif(unit_code, ''), '~'),
            lpad({_TYPE_ORDER_SQL}::VARCHAR, 2, '0'), coalesce(period, '')] AS sort_key
    FROM (
        SELECT g.feed, g.unit_code, g.period, g.gap_type, g.severity, g.detail,
               try_cast(left(g.period, 4) AS INTEGER) AS year,
               coalesce(g.unit_name, u.unit_name) AS unit_name,
               coalesce(g.ranking_group, u.ranking_group) AS ranking_group,
               g.rowid AS gap_rowid
        FROM marts.reporting_gaps g
        LEFT JOIN marts.dim_units u USING (unit_code)
        WHERE NOT coalesce(g.gap_type = 'invalid' AND g.unit_code IS NULL
                           AND regexp_matches(coalesce(g.detail, ''), {_lit(_UNREADABLE_DETAIL.pattern)}), false)
    )
"""

_GAP_COUNTS_SQL = f"""
    SELECT year, feed, gap_type, count(*) AS n, min(sort_key) AS first_key
    FROM ({_YEAR_GAPS_SQL})
    WHERE year IS NOT NULL
    GROUP BY ALL
"""

_QUARANTINE_TOTALS_SQL = """
    SELECT substr(period, 1, 4) AS y, count(*) AS n
    FROM raw.quarantine_rows
    GROUP BY ALL
"""

# One year's gap rows, labelled for people, in report order. `as_sent`: the unknown codes/names exactly
# as sent (first seen first), from the quarantined rows of the same feed and period.
_SENT_SQL = """
        SELECT feed, period, coalesce(nullif(unit_as_sent, ''), '(để trống)') AS sent, min(rowid) AS first
        FROM raw.quarantine_rows
        WHERE reason_code = 'unknown_unit' AND starts_with(period, $year_text)
        GROUP BY ALL
"""
_NO_SENT_SQL = """
        SELECT NULL::VARCHAR AS feed, NULL::VARCHAR AS period, NULL::VARCHAR AS sent, 0 AS first
        WHERE $year_text IS NULL
"""
_GAP_ROWS_SQL = f"""
    WITH sent AS ({{sent}}), sent_by_period AS (
        SELECT feed, nullif(period, '') AS period, string_agg(sent, '; ' ORDER BY first) AS as_sent
        FROM sent GROUP BY ALL
    )
    SELECT g.feed, g.unit_code, g.unit_name, g.ranking_group, g.period, g.gap_type, g.severity, g.detail,
           CASE WHEN {_HAS_UNIT_SQL.replace("unit_code", "g.unit_code")}
                THEN {_case("g.ranking_group", RANKING_GROUPS, _lit(OTHER_GROUP))} ELSE '—' END AS group_label,
           {_case("g.gap_type", GAP_TYPES, "g.gap_type")} AS gap_label,
           {_case("g.severity", SEVERITIES, "g.severity")} AS severity_label,
           CASE WHEN coalesce(g.period, '') = '' THEN '—'
                WHEN regexp_full_match(g.period, '[0-9]{{4}}-[0-9]{{2}}')
                THEN substr(g.period, 6, 2) || '/' || substr(g.period, 1, 4)
                ELSE g.period END AS period_label,
           CASE WHEN g.gap_type = 'unknown_unit' THEN coalesce(s.as_sent, '') ELSE '' END AS as_sent,
           NULL::VARCHAR AS file_name
    FROM ({_YEAR_GAPS_SQL}) g
    LEFT JOIN sent_by_period s ON s.feed = g.feed AND s.period = g.period AND g.gap_type = 'unknown_unit'
    WHERE g.year = $year
    QUALIFY row_number() OVER (PARTITION BY g.feed ORDER BY g.sort_key, g.gap_rowid) <= $limit
    ORDER BY g.sort_key, g.gap_rowid
"""

# The chase list's per-unit part of the gaps (`_chase_list`): months missing/late, errors, warnings and
# the other gaps counted by kind and feed.
_FEED_LABEL_SQL = _case("feed", {**FEEDS, **OTHER_FEEDS}, "coalesce(nullif(feed, ''), '—')")
_OTHER_KEY_SQL = f"{_case('gap_type', GAP_TYPES, 'gap_type')} || ' (' || {_FEED_LABEL_SQL} || ')'"
_CHASE_SQL = f"""
    WITH g AS (
        SELECT * FROM ({_YEAR_GAPS_SQL}) WHERE year = $year AND {_HAS_UNIT_SQL}
    ), per_unit AS (
        SELECT unit_code,
               list(period) FILTER (WHERE gap_type = 'missing' AND feed = 'dossiers') AS missing,
               list(period) FILTER (WHERE gap_type = 'late' AND feed = 'dossiers') AS late,
               count(*) FILTER (WHERE severity = 'error') AS errors,
               count(*) FILTER (WHERE severity = 'warning') AS warnings
        FROM g GROUP BY ALL
    ), others AS (
        SELECT unit_code, string_agg(k || ': ' || n, '; ' ORDER BY k) AS other_gaps
        FROM (SELECT unit_code, {_OTHER_KEY_SQL} AS k, count(*) AS n
              FROM g WHERE gap_type NOT IN ('missing', 'late') GROUP BY ALL)
        GROUP BY ALL
    )
    SELECT p.unit_code, coalesce(p.missing, []) AS missing, coalesce(p.late, []) AS late, p.errors,
           p.warnings, coalesce(o.other_gaps, '') AS other_gaps
    FROM per_unit p LEFT JOIN others o USING (unit_code)
"""

# (the first rows of the year only — a top-N, cheap even over millions of rows — then their unit names)
_QUARANTINE_ROWS_SQL = """
    SELECT q.feed, q.file_name, q.row_number, q.reason_code, q.reason, q.unit_code, q.unit_as_sent, q.period,
           u.unit_name, u.ranking_group
    FROM (SELECT feed, file_name, row_number, reason_code, reason, unit_code, unit_as_sent, period
          FROM raw.quarantine_rows
          WHERE starts_with(period, $year_text)
          ORDER BY feed, file_name, row_number
          LIMIT $limit) q
    LEFT JOIN marts.dim_units u USING (unit_code)
    ORDER BY q.feed, q.file_name, q.row_number
"""


def _fetch(con: duckdb.DuckDBPyConnection, sql: str, params: dict | None = None) -> list[dict]:
    """Rows as dicts of plain Python values (DuckDB gives None for NULL)."""
    cur = con.execute(sql, params or {})
    names = [c[0] for c in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def load_warehouse(settings: Settings) -> Warehouse:
    """Read the small tables and the counts the reports need with one read-only connection, closed
    before returning; a year's detail rows are read when its follow-up report is written."""
    frames: dict[str, pd.DataFrame] = {}
    missing: list[str] = []
    gap_counts: list[tuple] = []
    quarantine_totals: dict[int, int] = {}
    with connect(settings.warehouse, read_only=True) as con:
        con.execute(f"SET memory_limit = '{memory_limit()}'")
        existing = {
            f"{s}.{t}"
            for s, t in con.execute(
                "SELECT table_schema, table_name FROM information_schema.tables"
            ).fetchall()
        }
        for name, sql in _QUERIES.items():
            tables = set(re.findall(r"\b(?:marts|raw|reference)\.[a-z_]+", sql))
            absent = sorted(tables - existing)
            if absent:
                missing.extend(absent)
                frames[name] = pd.DataFrame()
                continue
            frames[name] = con.execute(sql).df()
        for table in ("marts.reporting_gaps", "raw.quarantine_rows"):
            if table not in existing:
                missing.append(table)
        has_gaps = "marts.reporting_gaps" in existing
        has_quarantine = "raw.quarantine_rows" in existing
        if has_gaps:
            gap_counts = [tuple(r) for r in con.execute(_GAP_COUNTS_SQL).fetchall()]
        if has_quarantine:
            quarantine_totals = {
                int(y): int(n) for y, n in con.execute(_QUARANTINE_TOTALS_SQL).fetchall() if y and y.isdigit()
            }
    if any(t.startswith("marts.") for t in missing):
        raise RuntimeError(
            f"the warehouse {settings.warehouse} lacks {', '.join(sorted(set(missing)))}: "
            "run dbt (the marts) before the reports"
        )
    return Warehouse(
        as_of=settings.as_of,
        years=list(settings.years),
        final_years=settings.final_years,
        completeness_threshold=settings.completeness_threshold,
        tables_missing=sorted(set(missing)),
        gap_counts=gap_counts,
        quarantine_totals=quarantine_totals,
        path=Path(settings.warehouse) if has_gaps else None,
        has_quarantine=has_quarantine,
        **frames,
    )


# --------------------------------------------------------------------------------------------------
# Follow-up report (báo cáo đôn đốc)


@dataclass
class FollowupData:
    year: int
    as_of: date
    year_in_progress: bool
    by_group: list[dict]  # group, units, expected, received, on_time, completeness, timeliness
    province: dict  # the same totals for the whole province
    gap_counts: list[dict]  # gap_type, label, severity, per feed counts, total
    gap_count_feeds: list[str]
    units: list[dict]  # the chase list: one row per unit with a gap or an incomplete year
    gaps_by_feed: dict[str, list[dict]]  # feed → gap rows (plus unreadable files); empty in a summary
    quarantine_rows: list[dict]
    quarantine_total: int
    threshold: float
    gap_total: int = 0  # every gap row of the year (also when the rows themselves were not read)
    gap_feed_totals: dict[str, int] = field(default_factory=dict)  # feed → its gap rows (listed or not)

    def gaps_capped(self, feed: str) -> bool:
        """The feed has more gap rows than its sheet lists (GAP_ROWS_LIMIT)."""
        return self.gap_feed_totals.get(feed, 0) > len(self.gaps_by_feed.get(feed, []))

    def summary(self) -> FollowupData:
        """The same report without its detail rows (what the Dagster metadata and the annual report use)."""
        return replace(self, gaps_by_feed={f: [] for f in self.gaps_by_feed}, quarantine_rows=[])


def _ratio(num, den):
    return None if not den else num / den


def _completeness_by_group(wh: Warehouse, year: int) -> tuple[list[dict], dict]:
    c = wh.completeness
    c = c[c["year"] == year] if len(c) else c
    rows = []
    if len(c):
        c = c.assign(group=c["ranking_group"].where(c["ranking_group"].isin(list(RANKING_GROUPS)), None))
        for code in [*RANKING_GROUPS, None]:
            part = c[c["group"].isna()] if code is None else c[c["group"] == code]
            if not len(part):
                continue
            exp, rec, ont = (int(part[k].sum()) for k in ("expected", "received", "on_time"))
            rows.append(
                {
                    "group": code,
                    "group_label": group_label(code),
                    "units": int(part["unit_code"].nunique()),
                    "expected": exp,
                    "received": rec,
                    "on_time": ont,
                    "completeness": _ratio(rec, exp),
                    "timeliness": _ratio(ont, exp),
                }
            )
    exp = sum(r["expected"] for r in rows)
    rec = sum(r["received"] for r in rows)
    ont = sum(r["on_time"] for r in rows)
    province = {
        "group": None,
        "group_label": "Toàn tỉnh",
        "units": sum(r["units"] for r in rows),
        "expected": exp,
        "received": rec,
        "on_time": ont,
        "completeness": _ratio(rec, exp),
        "timeliness": _ratio(ont, exp),
    }
    return rows, province


def _unreadable_files(wh: Warehouse, year: int) -> list[dict]:
    """Files that could not be read, as gap rows of the year (reason from raw.exports).

    A file whose name carries no period belongs to no year: it is listed in the report of the year in
    progress (the as-of year), the one the Department is chasing now."""
    files = []
    for r in records(wh.unreadable) if len(wh.unreadable) else []:
        m = _PERIOD_IN_NAME.search(r["file_name"] or "")
        period = m.group(1) if m else None
        file_year = int(period[:4]) if period else wh.as_of.year
        if file_year != year:
            continue
        files.append(
            {
                "feed": r["feed"],
                "unit_code": None,
                "unit_name": None,
                "ranking_group": None,
                "period": period,
                "gap_type": "unreadable",
                "severity": "error",
                "detail": f"Tệp {r['file_name']} không đọc được: {r['parse_reason'] or 'không rõ lý do'}",
                "file_name": r["file_name"],
                "group_label": "—",
                "gap_label": GAP_TYPES["unreadable"],
                "severity_label": SEVERITIES["error"],
                "period_label": period_label(period),
                "as_sent": "",
            }
        )
    return files


def _gap_sort_key(r: dict):
    return (
        _group_order(r.get("ranking_group")),
        r.get("unit_code") or "~",
        list(GAP_TYPES).index(r["gap_type"]) if r["gap_type"] in GAP_TYPES else 99,
        r.get("period") or "",
    )


def _sql_sort_key(r: dict) -> list[str]:
    """`_gap_sort_key` in the form the SQL computes it (`sort_key` of _YEAR_GAPS_SQL)."""
    g, u, t, p = _gap_sort_key(r)
    return [f"{g:02d}", u, f"{t:02d}", p]


def _gap_counts(wh: Warehouse, year: int, files: list[dict]) -> tuple[list[dict], list[str], dict[str, int]]:
    """Gap rows by type × feed (the year's mart rows counted by DuckDB, plus the unreadable files), the
    feeds shown (every feed of FEEDS, then any other feed with gaps, in report order) and the total."""
    counts: dict[tuple[str, str], int] = {}
    first: dict[str, list[str]] = {}
    for y, feed, gap_type, n, first_key in wh.gap_counts:
        if y != year:
            continue
        counts[(feed, gap_type)] = counts.get((feed, gap_type), 0) + n
        first[feed] = min(first.get(feed, first_key), first_key)
    for r in files:
        counts[(r["feed"], r["gap_type"])] = counts.get((r["feed"], r["gap_type"]), 0) + 1
        key = _sql_sort_key(r)
        first[r["feed"]] = min(first.get(r["feed"], key), key)
    others = sorted((f for f in first if f not in FEEDS), key=lambda f: first[f])
    feeds = [*FEEDS, *others]
    gap_counts = []
    for gt, label in GAP_TYPES.items():
        by_feed = {f: counts.get((f, gt), 0) for f in feeds}
        severity = "error" if gt in ERROR_GAP_TYPES else "warning"
        gap_counts.append(
            {
                "gap_type": gt,
                "label": label,
                "severity": severity,
                "severity_label": SEVERITIES[severity],
                "counts": by_feed,
                "total": sum(by_feed.values()),
            }
        )
    per_feed = {f: 0 for f in feeds}
    for (feed, _), n in counts.items():
        per_feed[feed] += n
    return gap_counts, feeds, per_feed


def followup_data(wh: Warehouse, year: int, *, details: bool = True) -> FollowupData:
    """The follow-up report of a year. `details=False`: totals and counts only (no gap, chase or
    quarantine rows read) — what the annual report shows."""
    by_group, province = _completeness_by_group(wh, year)
    files = _unreadable_files(wh, year)
    gap_counts, feeds, feed_totals = _gap_counts(wh, year, files)
    gaps_by_feed: dict[str, list[dict]] = {f: [] for f in feeds}
    units: list[dict] = []
    q_rows: list[dict] = []
    if details:
        with wh.connection() as con:
            sql = _GAP_ROWS_SQL.replace("{sent}", _SENT_SQL if wh.has_quarantine else _NO_SENT_SQL)
            params = {"year": year, "year_text": str(year), "limit": GAP_ROWS_LIMIT}
            gap_rows = _fetch(con, sql, params) if con else []
            per_unit = {r["unit_code"]: r for r in _fetch(con, _CHASE_SQL, {"year": year})} if con else {}
            if con is not None and wh.has_quarantine:
                q_rows = _fetch(
                    con, _QUARANTINE_ROWS_SQL, {"year_text": str(year), "limit": QUARANTINE_ROWS_LIMIT}
                )
        if files:  # rare: a few rows merged into the sorted list (stable: mart rows first on ties)
            gap_rows = sorted(gap_rows + files, key=_gap_sort_key)
        for r in gap_rows:
            rows = gaps_by_feed[r["feed"]]
            if len(rows) < GAP_ROWS_LIMIT:
                rows.append(r)
        units = _chase_list(wh, year, per_unit)
        for r in q_rows:
            r["feed_label"] = feed_label(r["feed"])
            r["period_label"] = period_label(r.get("period"))
    return FollowupData(
        year=year,
        as_of=wh.as_of,
        year_in_progress=year == wh.as_of.year and not _year_over(wh, year),
        by_group=by_group,
        province=province,
        gap_counts=gap_counts,
        gap_count_feeds=feeds,
        units=units,
        gaps_by_feed=gaps_by_feed,
        quarantine_rows=q_rows,
        quarantine_total=wh.quarantine_totals.get(year, 0),
        threshold=wh.completeness_threshold,
        gap_total=sum(feed_totals.values()),
        gap_feed_totals=feed_totals,
    )


QUARANTINE_ROWS_LIMIT = 5000  # rows of the quarantined-rows sheet (all of them: quality.quarantine_rows)
GAP_ROWS_LIMIT = 20000  # rows of each feed's gap sheet (all of them: marts.reporting_gaps)


def _months(periods: list[str]) -> str:
    """['2024-01', '2024-03'] → '01, 03'."""
    return ", ".join(p[5:] for p in sorted(set(periods)) if p and len(p) == 7)


def _chase_list(wh: Warehouse, year: int, per_unit: dict[str, dict]) -> list[dict]:
    """One row per unit that has a gap in the year or did not send every expected dossiers report."""
    c = wh.completeness
    comp = {r["unit_code"]: r for r in records(c[c["year"] == year])} if len(c) else {}
    names = {r["unit_code"]: r for r in records(wh.units)} if len(wh.units) else {}
    codes = set(per_unit) | {u for u, r in comp.items() if (r["received"] or 0) < (r["expected"] or 0)}
    rows = []
    for code in codes:
        gs = per_unit.get(code, {})
        cr = comp.get(code, {})
        unit = names.get(code, {})
        group = unit.get("ranking_group") or cr.get("ranking_group")
        missing = [p for p in gs.get("missing", []) if p is not None]
        late = [p for p in gs.get("late", []) if p is not None]
        rows.append(
            {
                "unit_code": code,
                "unit_name": unit.get("unit_name") or cr.get("unit_name") or code,
                "ranking_group": group,
                "group_label": group_label(group),
                "expected": cr.get("expected"),
                "received": cr.get("received"),
                "on_time": cr.get("on_time"),
                "completeness": cr.get("completeness"),
                "timeliness": cr.get("timeliness"),
                "missing_months": _months(missing),
                "missing_count": len(gs.get("missing", [])),
                "late_months": _months(late),
                "late_count": len(gs.get("late", [])),
                "errors": gs.get("errors", 0),
                "warnings": gs.get("warnings", 0),
                "other_gaps": gs.get("other_gaps", ""),
            }
        )
    rows.sort(
        key=lambda r: (
            _group_order(r["ranking_group"]),
            -(r["errors"] + r["missing_count"]),
            -r["late_count"],
            r["unit_code"],
        )
    )
    return rows


def _year_over(wh: Warehouse, year: int) -> bool:
    g = wh.gate
    if len(g):
        rows = g[g["year"] == year]
        if len(rows):
            return bool(rows["year_is_over"].iloc[0])
    # December's deadline (10 January of the next year) is before the as-of date
    return date(year + 1, 1, 10) < wh.as_of


# --------------------------------------------------------------------------------------------------
# Annual report (xếp hạng CCHC)


@dataclass
class Component:
    code: str
    name_vi: str
    max_points: float
    kpis: list[str]
    full_points_at: list[str]


@dataclass
class YearStatus:
    year: int
    over: bool
    ranked: bool
    final_override: bool  # ranked only because the year is in PAR_FINAL_YEARS
    failed: list[dict]  # failed gate checks: check_id, check_name, label, detail
    checks: list[dict]  # every gate check of the year
    text: str  # one sentence for people

    @property
    def kind(self) -> str:
        if not self.over:
            return "in_progress"
        if not self.ranked:
            return "blocked"
        return "final_override" if self.final_override else "ranked"


@dataclass
class AnnualData:
    year: int
    as_of: date
    status: YearStatus
    components: list[Component]
    groups: list[dict]  # group, label, rows (ranked + listed units), ranked (rows with a rank)
    kpis: list[dict]  # the year's KPI rows with names and targets
    kpi_series: list[dict]  # per KPI: name, measure, points over the years, targets, trajectory
    followup: FollowupData
    method: list[dict]
    grades: list[dict]  # code, min_score, name_vi
    years: list[int]


def year_status(wh: Warehouse, year: int) -> YearStatus:
    g = wh.gate
    rows = records(g[g["year"] == year].sort_values("check_id")) if len(g) else []
    for r in rows:
        r["label"] = GATE_CHECKS.get(r["check_name"], r["check_name"])
    over = bool(rows[0]["year_is_over"]) if rows else _year_over(wh, year)
    ranked = bool(rows[0]["year_is_ranked"]) if rows else False
    is_final = bool(rows[0]["is_final_year"]) if rows else year in wh.final_years
    failed = [r for r in rows if not r["passed"]]
    override = ranked and is_final and any(r["check_name"] == "reporting_completeness" for r in failed)
    if not over:
        text = (
            f"Năm {year} đang thực hiện: số liệu lũy kế đến ngày {wh.as_of:%d/%m/%Y}. Chưa xếp hạng — "
            f"chỉ xếp hạng khi năm đã kết thúc (hạn báo cáo tháng 12 là 10/01/{year + 1})."
        )
    elif not rows:
        text = f"Năm {year} chưa có kết quả kiểm tra điều kiện xếp hạng (ranking_gate): chưa xếp hạng."
    elif not ranked:
        reasons = "; ".join(f"{r['label']} — {r['detail']}" for r in failed)
        text = f"Năm {year} chưa được xếp hạng vì không đạt điều kiện xếp hạng: {reasons}."
    elif override:
        detail = next(r["detail"] for r in failed if r["check_name"] == "reporting_completeness")
        text = (
            f"Năm {year} được xếp hạng theo danh sách năm chốt số liệu (PAR_FINAL_YEARS) dù tỷ lệ báo cáo "
            f"đầy đủ toàn tỉnh dưới ngưỡng ({detail}). Kết quả cần được đọc cùng danh sách đơn vị thiếu báo cáo."
        )
    else:
        text = f"Năm {year} đã được xếp hạng: mọi điều kiện xếp hạng đều đạt."
    return YearStatus(year, over, ranked, override, failed, rows, text)


def method_components(wh: Warehouse) -> list[Component]:
    m = wh.method
    comps: dict[str, Component] = {}
    for r in records(m[m["kind"] == "component"]) if len(m) else []:
        c = comps.get(r["code"])
        if c is None:
            c = comps[r["code"]] = Component(
                r["code"], r.get("name_vi") or r["code"], float(r["max_points"] or 0), [], []
            )
        c.kpis.append(r["kpi_code"])
        c.full_points_at.append(str(r["full_points_at"]))
    return list(comps.values())


def _grades(wh: Warehouse) -> list[dict]:
    m = wh.method
    if not len(m):
        return [{"code": k, "name_vi": v, "min_score": None} for k, v in GRADE_LABELS_DEFAULT.items()]
    g = records(m[m["kind"] == "grade"].sort_values("min_score", ascending=False))
    return [{"code": r["code"], "name_vi": r.get("name_vi"), "min_score": r["min_score"]} for r in g]


def _ranking_groups(wh: Warehouse, year: int, comps: list[Component]) -> list[dict]:
    r = wh.ranking
    r = r[r["year"] == year] if len(r) else r
    groups = []
    codes = [g for g in RANKING_GROUPS if len(r) and (r["ranking_group"] == g).any()]
    for code in codes:
        part = r[r["ranking_group"] == code].copy()
        part["_ranked"] = part["rank"].notna()
        part = part.sort_values(
            ["_ranked", "rank", "score", "unit_code"], ascending=[False, True, False, True]
        )
        rows = []
        for row in records(part.drop(columns=["_ranked"])):
            row["components"] = []
            lost_total = 0.0
            for c in comps:
                pts = row.get(f"points_{c.code}")
                applicable = pts is not None
                # max − points, float noise removed (points are stored unrounded)
                lost = round(c.max_points - pts, 9) if applicable else None
                if lost is not None:
                    lost_total += lost
                row["components"].append(
                    {"code": c.code, "name": c.name_vi, "max": c.max_points, "points": pts, "lost": lost}
                )
                row[f"lost_{c.code}"] = lost
            row["points_total"] = sum(x["points"] or 0 for x in row["components"])
            row["lost_total"] = lost_total
            rows.append(row)
        groups.append(
            {
                "group": code,
                "label": RANKING_GROUPS[code],
                "rows": rows,
                "ranked": [x for x in rows if x.get("rank") is not None],
                "listed": [x for x in rows if x.get("rank") is None],
            }
        )
    return groups


def _kpi_rows(wh: Warehouse) -> pd.DataFrame:
    k = wh.kpis.merge(wh.dim_kpis, on="kpi_code", how="left", suffixes=("", "_dim"))
    k["_order"] = k["target_id"].fillna("T99")
    return k.sort_values(["_order", "kpi_code", "year"])


def _target_note(r: dict) -> str:
    """Words for a target that is not a number, or for a KPI without a target."""
    written = r.get("target_2030_as_written")
    if r.get("year", 0) > 2025 and written == "improve_vs_2025":
        return "Cải thiện thứ hạng so với năm 2025" + (
            "" if r.get("target") is not None else " (chưa có hạng 2025)"
        )
    if r.get("target_id") is None:
        return "Không có mục tiêu trong Chương trình (chỉ tiêu theo dõi)"
    if r.get("target") is None:
        return f"Chương trình không đặt mục tiêu cho mốc {r.get('target_year') or ''}".strip()
    return ""


def annual_data(wh: Warehouse, year: int, followup: FollowupData | None = None) -> AnnualData:
    comps = method_components(wh)
    k = _kpi_rows(wh)
    kpis = records(k[k["year"] == year])
    for r in kpis:
        r["target_note"] = _target_note(r)
    series = []
    for code, part in k.groupby("kpi_code", sort=False):
        rows = records(part)
        first = rows[0]
        points = [(r["year"], r["value"]) for r in rows if r["value"] is not None]
        series.append(
            {
                "kpi_code": code,
                "target_id": first.get("target_id"),
                "name_vi": first.get("name_vi") or code,
                "measure": first.get("measure") or "fraction",
                "points": points,
                "target_2025": first.get("target_2025"),
                "target_2030": first.get("target_2030"),
                "target_2030_as_written": first.get("target_2030_as_written"),
                "expected": [(r["year"], r["expected_on_trajectory"]) for r in rows],
                "has_data": bool(points),
            }
        )
    method = records(wh.method) if len(wh.method) else []
    return AnnualData(
        year=year,
        as_of=wh.as_of,
        status=year_status(wh, year),
        components=comps,
        groups=_ranking_groups(wh, year, comps),
        kpis=kpis,
        kpi_series=series,
        followup=followup or followup_data(wh, year, details=False),
        method=method,
        grades=_grades(wh),
        years=wh.years,
    )
