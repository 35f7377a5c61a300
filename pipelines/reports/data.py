"""Warehouse → plain Python/pandas structures for the reports (one read-only connection, closed at once).

Everything the reports show comes from the marts (plus `raw.exports` for files that could not be read,
`raw.quarantine_rows` for the unit names/codes as sent and the rows that were set aside, and the
`reference.ranking_method` seed). Labels are Vietnamese: the reports are read by the Department of Home
Affairs and by the units it chases.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

import pandas as pd

from pipelines.lib.config import Settings
from pipelines.lib.warehouse import connect

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


@dataclass
class Warehouse:
    """Every table the reports read, for all programme years."""

    as_of: date
    years: list[int]
    final_years: frozenset[int]
    units: pd.DataFrame
    completeness: pd.DataFrame
    gaps: pd.DataFrame
    unreadable: pd.DataFrame
    quarantine: pd.DataFrame
    gate: pd.DataFrame
    ranking: pd.DataFrame
    kpis: pd.DataFrame
    dim_kpis: pd.DataFrame
    method: pd.DataFrame
    completeness_threshold: float = 0.9
    tables_missing: list[str] = field(default_factory=list)


_QUERIES: dict[str, str] = {
    "units": """SELECT unit_code, unit_name, unit_level, ranking_group, valid_from, valid_to
                FROM marts.dim_units""",
    "completeness": """SELECT c.year, c.unit_code, c.feed, c.expected, c.received, c.on_time, c.completeness,
                              c.timeliness, u.unit_name, u.ranking_group
                       FROM marts.reporting_completeness c
                       LEFT JOIN marts.dim_units u USING (unit_code)""",
    "gaps": """SELECT g.feed, g.unit_code, g.period, g.gap_type, g.severity, g.detail,
                      try_cast(left(g.period, 4) AS INTEGER) AS year,
                      coalesce(g.unit_name, u.unit_name) AS unit_name,
                      coalesce(g.ranking_group, u.ranking_group) AS ranking_group
               FROM marts.reporting_gaps g
               LEFT JOIN marts.dim_units u USING (unit_code)""",
    "unreadable": """SELECT feed, file_name, parse_reason, arrived_at, origin
                     FROM raw.exports WHERE parse_status = 'quarantined'""",
    # never the `record` column: it is the row as sent and the reports have no use for it
    "quarantine": """SELECT q.feed, q.file_name, q.row_number, q.reason_code, q.reason, q.unit_code,
                            q.unit_as_sent, q.period, u.unit_name, u.ranking_group
                     FROM raw.quarantine_rows q
                     LEFT JOIN marts.dim_units u USING (unit_code)""",
    "gate": "SELECT * FROM marts.ranking_gate",
    "ranking": "SELECT * FROM marts.par_ranking",
    "kpis": "SELECT * FROM marts.kpi_province_year",
    "dim_kpis": "SELECT * FROM marts.dim_kpis",
    "method": "SELECT * FROM reference.ranking_method",
}


def load_warehouse(settings: Settings) -> Warehouse:
    """Read everything the reports need with one read-only connection, closed before returning."""
    frames: dict[str, pd.DataFrame] = {}
    missing: list[str] = []
    with connect(settings.warehouse, read_only=True) as con:
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
    gaps_by_feed: dict[str, list[dict]]  # feed → gap rows (plus unreadable files)
    quarantine_rows: list[dict]
    quarantine_total: int
    threshold: float

    @property
    def gap_total(self) -> int:
        return sum(len(v) for v in self.gaps_by_feed.values())


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


def _year_gaps(wh: Warehouse, year: int) -> pd.DataFrame:
    """The year's gap rows, files that could not be read taken from raw.exports (with their reason).

    A file whose name carries no period belongs to no year: it is listed in the report of the year in
    progress (the as-of year), the one the Department is chasing now."""
    cols = ["feed", "unit_code", "unit_name", "ranking_group", "period", "gap_type", "severity", "detail"]
    g = wh.gaps
    if len(g):
        unreadable_rows = (
            (g["gap_type"] == "invalid")
            & g["unit_code"].isna()
            & g["detail"].fillna("").str.contains(_UNREADABLE_DETAIL)
        )
        g = g[~unreadable_rows & (g["year"] == year)][cols].copy()
    else:
        g = pd.DataFrame(columns=cols)
    files = []
    for r in records(wh.unreadable):
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
            }
        )
    if files:
        g = pd.concat([g, pd.DataFrame(files)], ignore_index=True)
    return g


def _as_sent(wh: Warehouse, year: int) -> dict[tuple[str, str | None], list[str]]:
    """(feed, period) → the unknown unit codes/names exactly as sent, from the quarantined rows."""
    q = wh.quarantine
    out: dict[tuple[str, str | None], list[str]] = {}
    if not len(q):
        return out
    q = q[(q["reason_code"] == "unknown_unit") & (q["period"].fillna("").str[:4] == str(year))]
    for r in records(q):
        key = (r["feed"], r["period"] or None)
        sent = r["unit_as_sent"] if r["unit_as_sent"] not in (None, "") else "(để trống)"
        if sent not in out.setdefault(key, []):
            out[key].append(sent)
    return out


def _gap_sort_key(r: dict):
    return (
        _group_order(r.get("ranking_group")),
        r.get("unit_code") or "~",
        list(GAP_TYPES).index(r["gap_type"]) if r["gap_type"] in GAP_TYPES else 99,
        r.get("period") or "",
    )


def followup_data(wh: Warehouse, year: int) -> FollowupData:
    by_group, province = _completeness_by_group(wh, year)
    gaps = _year_gaps(wh, year)
    as_sent = _as_sent(wh, year)
    gap_rows = records(gaps)
    for r in gap_rows:
        r["group_label"] = group_label(r.get("ranking_group")) if r.get("unit_code") else "—"
        r["gap_label"] = GAP_TYPES.get(r["gap_type"], r["gap_type"])
        r["severity_label"] = SEVERITIES.get(r["severity"], r["severity"])
        r["period_label"] = period_label(r.get("period"))
        r["as_sent"] = (
            "; ".join(as_sent.get((r["feed"], r.get("period")), []))
            if r["gap_type"] == "unknown_unit"
            else ""
        )
        r.setdefault("file_name", None)
    gap_rows.sort(key=_gap_sort_key)
    gaps_by_feed: dict[str, list[dict]] = {f: [] for f in FEEDS}
    for r in gap_rows:
        gaps_by_feed.setdefault(r["feed"], []).append(r)

    # counts by type × feed
    feeds_present = [f for f in gaps_by_feed if f in FEEDS or gaps_by_feed[f]]
    gap_counts = []
    for gt, label in GAP_TYPES.items():
        counts = {f: sum(1 for r in gaps_by_feed[f] if r["gap_type"] == gt) for f in feeds_present}
        severity = "error" if gt in ERROR_GAP_TYPES else "warning"
        gap_counts.append(
            {
                "gap_type": gt,
                "label": label,
                "severity": severity,
                "severity_label": SEVERITIES[severity],
                "counts": counts,
                "total": sum(counts.values()),
            }
        )

    units = _chase_list(wh, year, gap_rows)

    q = wh.quarantine
    if len(q):
        q = q[q["period"].fillna("").str[:4] == str(year)].sort_values(["feed", "file_name", "row_number"])
    quarantine_total = len(q)
    q_rows = records(q.head(QUARANTINE_ROWS_LIMIT)) if len(q) else []
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
        gap_count_feeds=feeds_present,
        units=units,
        gaps_by_feed=gaps_by_feed,
        quarantine_rows=q_rows,
        quarantine_total=quarantine_total,
        threshold=wh.completeness_threshold,
    )


QUARANTINE_ROWS_LIMIT = 20000


def _months(periods: list[str]) -> str:
    """['2024-01', '2024-03'] → '01, 03'."""
    return ", ".join(p[5:] for p in sorted(set(periods)) if p and len(p) == 7)


def _chase_list(wh: Warehouse, year: int, gap_rows: list[dict]) -> list[dict]:
    """One row per unit that has a gap in the year or did not send every expected dossiers report."""
    c = wh.completeness
    comp = {r["unit_code"]: r for r in records(c[c["year"] == year])} if len(c) else {}
    per_unit: dict[str, list[dict]] = {}
    for r in gap_rows:
        if r.get("unit_code"):
            per_unit.setdefault(r["unit_code"], []).append(r)
    names = {r["unit_code"]: r for r in records(wh.units)} if len(wh.units) else {}
    codes = set(per_unit) | {u for u, r in comp.items() if (r["received"] or 0) < (r["expected"] or 0)}
    rows = []
    for code in codes:
        gs = per_unit.get(code, [])
        cr = comp.get(code, {})
        unit = names.get(code, {})
        group = unit.get("ranking_group") or cr.get("ranking_group")
        missing = [g["period"] for g in gs if g["gap_type"] == "missing" and g["feed"] == "dossiers"]
        late = [g["period"] for g in gs if g["gap_type"] == "late" and g["feed"] == "dossiers"]
        others: dict[str, int] = {}
        for g in gs:
            if g["gap_type"] in ("missing", "late"):
                continue
            key = f"{GAP_TYPES.get(g['gap_type'], g['gap_type'])} ({feed_label(g['feed'])})"
            others[key] = others.get(key, 0) + 1
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
                "missing_count": len(missing),
                "late_months": _months(late),
                "late_count": len(late),
                "errors": sum(1 for g in gs if g["severity"] == "error"),
                "warnings": sum(1 for g in gs if g["severity"] == "warning"),
                "other_gaps": "; ".join(f"{k}: {n}" for k, n in sorted(others.items())),
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
        followup=followup or followup_data(wh, year),
        method=method,
        grades=_grades(wh),
        years=wh.years,
    )
