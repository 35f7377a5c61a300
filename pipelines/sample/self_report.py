"""Self-reported programme indicators (the ``self_report`` rows of program_targets.csv), one file per year.

Who reports what follows how the province collects them: province-wide figures come from the lead
department (Sở Tư pháp for legal documents, Sở Nội vụ for staffing, Sở Tài chính for public-unit finance,
Sở Thông tin và Truyền thông — Sở Khoa học và Công nghệ after 2025 — for IT, the Provincial People's
Committee Office for reporting), per-unit figures from each department, district or commune.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from .common import CsvOut, deadline, rng_for
from .context import Context
from .xlsx_reports import write_table_xlsx

SELF_REPORT_COLUMNS = ["nam", "ma_don_vi", "ma_chi_tieu", "tu_so", "mau_so", "ghi_chu"]
XLSX_YEAR = 2023
NO_NOTE_YEAR = 2021  # that year's template had no ghi_chu column

# kpi_code: (who reports, ratio in 2021, ratio in 2025, ratio in 2026, denominator range or fixed)
KPIS: dict[str, tuple[str, float, float, float, tuple[float, float]]] = {
    "legal_docs_quality_on_time_rate": ("S02", 0.93, 0.985, 0.99, (40, 70)),
    "legal_docs_implemented_rate": ("depts", 0.9, 0.98, 1.0, (3, 15)),
    "internal_procedures_published_rate": ("depts", 0.75, 1.0, 1.0, (2, 12)),
    "public_units_reduction_rate": ("S01", 0.01, 0.106, 0.02, (1846, 1846)),
    "budget_staff_reduction_rate": ("S01", 0.015, 0.105, 0.015, (67420, 67420)),
    "staff_structure_compliant_rate": ("depts+districts", 0.8, 0.97, 0.99, (3, 20)),
    "self_financing_units_rate": ("S04", 0.08, 0.19, 0.21, (1650, 1846)),
    "economic_units_converted_rate": ("S04", 0.42, 0.96, 1.0, (24, 24)),
    "direct_budget_spending_reduction_rate": ("S04", 0.02, 0.09, 0.1, (4215.6, 4215.6)),
    "agencies_it_infrastructure_rate": ("S10", 0.88, 1.0, 1.0, (520, 520)),
    "eid_authenticated_users_rate": ("S10", 0.3, 0.97, 0.99, (350000, 1800000)),
    "national_db_connected_rate": ("S10", 0.6, 1.0, 1.0, (8, 8)),
    "open_db_departments_connected_rate": ("S10", 0.38, 0.81, 0.86, (21, 21)),
    "periodic_reports_on_system_rate": ("S21", 0.7, 1.0, 1.0, (65, 65)),
    "online_meeting_ready_units_rate": ("districts+new", 0.6, 1.0, 1.0, (10, 40)),
    "work_records_online_rate_province": ("depts", 0.7, 0.93, 0.95, (2000, 15000)),
    "work_records_online_rate_district": ("districts", 0.55, 0.85, 0.9, (5000, 30000)),
    "work_records_online_rate_commune": ("communes", 0.3, 0.7, 0.8, (500, 4000)),
    "level4_services_multichannel_rate": ("S10", 0.5, 0.96, 1.0, (700, 1200)),
}
FALLBACK_REPORTER = ("S21", "S01", "S02")


def self_report_years(ctx: Context) -> list[int]:
    """Completed years, plus the running year once its mid-year report is due (ghi_chu says so)."""
    years = [y for y in range(2021, ctx.as_of.year + 1) if deadline((y, 12)) < ctx.as_of]
    if ctx.as_of.year not in years and ctx.as_of >= date(ctx.as_of.year, 7, 20) and ctx.as_of.year >= 2021:
        years.append(ctx.as_of.year)
    return years


def _ratio(spec: tuple, year: int, rng) -> float:
    _, r21, r25, r26, _ = spec
    if year <= 2025:
        base = r21 + (r25 - r21) * (year - 2021) / 4
    else:
        base = r26
    return max(0.0, min(1.0, base + rng.uniform(-0.02, 0.02)))


def generate_self_report(ctx: Context) -> None:
    for year in self_report_years(ctx):
        _self_report_year(ctx, year)


def _self_report_year(ctx: Context, year: int) -> None:
    reg = ctx.reg
    rng = rng_for(ctx.seed, "self_report", year)
    first = date(year, 1, 1)
    partial = deadline((year, 12)) >= ctx.as_of  # the running year: its mid-year report
    end = date(year, 6, 30) if partial else date(year, 12, 31)
    note_default = "Số liệu 6 tháng đầu năm" if partial else ""

    def long_enough(u) -> bool:
        lo, hi = max(first, u.start or first), min(end, u.end or end)
        return (hi - lo).days + 1 >= 150

    def reporter(code: str) -> str | None:
        for c in (code, *FALLBACK_REPORTER):
            u = reg.current(c, end) if c in reg.by_code else None
            if u is not None:
                return u.code
        depts = [u.code for u in reg.units if u.kind == "dept" and u.valid_on(end)]
        return depts[0] if depts else None

    rows: list[list[object]] = []
    for kpi, spec in KPIS.items():
        who = spec[0]
        if who.startswith("S"):
            r = reporter(who)
            units = [r] if r else []
        else:
            kinds = {
                "depts": ("dept",),
                "depts+districts": ("dept", "district"),
                "districts": ("district",),
                "districts+new": ("district", "new_commune"),
                "communes": ("commune", "new_commune"),
            }[who]
            units = [u.code for u in reg.units if u.kind in kinds and long_enough(u)]
        lo, hi = spec[4]
        for code in units:
            u = reg.by_code[code]
            ratio = _ratio(spec, year, rng)
            if kpi == "online_meeting_ready_units_rate" and u.kind == "new_commune":
                mau: float = 1
                tu: float = 1 if rng.random() < 0.95 else 0
            elif kpi == "online_meeting_ready_units_rate":
                mau = sum(1 for v in reg.units if v.parent == code) or rng.randint(10, 40)
                tu = round(mau * ratio)
            elif kpi == "eid_authenticated_users_rate":
                mau = int(lo + (hi - lo) * (year - 2021) / 5)
                tu = round(mau * ratio)
            elif kpi == "direct_budget_spending_reduction_rate":
                mau = lo
                tu = round(mau * ratio, 2)
            elif lo == hi:
                mau = int(lo)
                tu = round(mau * ratio)
            else:
                mau = rng.randint(int(lo), int(hi))
                tu = round(mau * ratio)
            if partial and kpi.startswith("work_records"):
                mau, tu = mau // 2, min(tu // 2, mau // 2)
            tu = min(tu, mau)
            note = note_default
            if not note and rng.random() < 0.08:
                note = rng.choice(
                    ["Số liệu ước tính", "Đã rà soát", "Theo báo cáo của các đơn vị trực thuộc"]
                )
            rows.append([year, code, kpi, tu, mau, note])
    ext = "xlsx" if year == XLSX_YEAR else "csv"
    path = ctx.out / "self_report" / f"self_report_{year}.{ext}"
    header = SELF_REPORT_COLUMNS if year != NO_NOTE_YEAR else SELF_REPORT_COLUMNS[:5]
    if ctx.faults:
        rows = ctx.faults.self_report_rows(year, rows, ctx.rel(path))
        ctx.faults.note_self_report(year, SELF_REPORT_COLUMNS, rows, path)
    if ext == "xlsx":
        n = write_table_xlsx(
            path,
            header,
            (r[: len(header)] for r in rows),
            created=datetime.combine(min(end + timedelta(days=15), ctx.as_of - timedelta(days=1)), time(9)),
            sheet="ChiTieu",
        )
    else:
        with CsvOut(path, header, bom=year % 2 == 0) as out:
            for r in rows:
                out.write(r[: len(header)])
            n = out.rows
    ctx.add_file("self_report", path, n)
