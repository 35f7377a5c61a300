"""Report assets: the follow-up report (báo cáo đôn đốc) and the annual ranking report, every programme
year, as Excel + self-contained HTML under PAR_REPORTS (pipelines/reports)."""

from pathlib import Path

import dagster as dg

from pipelines.reports import write_annual_reports, write_followup_reports
from pipelines.reports.data import FEEDS, GAP_TYPES, RANKING_GROUPS
from pipelines.reports.render import fmt_num, fmt_pct

from .resources import ParSettingsResource


def _key(*parts: str) -> dg.AssetKey:
    return dg.AssetKey(list(parts))


FOLLOWUP_DEPS = [
    _key("marts", "reporting_gaps"),
    _key("marts", "reporting_completeness"),
    _key("marts", "dim_units"),
    _key("marts", "ranking_gate"),
    _key("raw", "exports"),
    _key("raw", "quarantine_rows"),
]
ANNUAL_DEPS = [
    _key("marts", "reporting_gaps"),
    _key("marts", "par_ranking"),
    _key("marts", "kpi_province_year"),
    _key("marts", "dim_kpis"),
    _key("marts", "ranking_gate"),
    _key("marts", "reporting_completeness"),
    _key("marts", "dim_units"),
    _key("reference", "ranking_method"),
    _key("raw", "exports"),
    _key("raw", "quarantine_rows"),
]


def _relative(files: list[Path], root: Path) -> list[str]:
    out = []
    for f in files:
        try:
            out.append(f.resolve().relative_to(root.resolve()).as_posix())
        except ValueError:
            out.append(str(f))
    return out


def _files_metadata(files: list[Path], reports: Path) -> dict:
    return {
        "reports_dir": dg.MetadataValue.path(str(reports.resolve())),
        "index": dg.MetadataValue.path(str((reports / "index.html").resolve())),
        "files_written": dg.MetadataValue.json(_relative(files, reports)),
        "file_count": dg.MetadataValue.int(len(files)),
    }


@dg.asset(
    key=_key("reports", "followup"),
    group_name="reports",
    deps=FOLLOWUP_DEPS,
    kinds={"python", "excel", "html"},
    description="Báo cáo đôn đốc per year: <PAR_REPORTS>/<Y>/bao_cao_don_doc_<Y>.xlsx and .html — completeness "
    "and timeliness by ranking group, gap counts by type, the units to chase (missing and late months) and "
    "every gap per feed with its detail, unreadable files and quarantined rows.",
)
def followup_report(context: dg.AssetExecutionContext, par: ParSettingsResource) -> dg.MaterializeResult:
    settings = par.get()
    run = write_followup_reports(settings)
    latest = run.followups[-1] if run.followups else None
    lines = [
        "| năm | đầy đủ | đúng hạn | đơn vị cần đôn đốc | vấn đề (lỗi) |",
        "|---|---|---|---|---|",
    ]
    for d in run.followups:
        errors = sum(r["total"] for r in d.gap_counts if r["severity"] == "error")
        lines.append(
            f"| {d.year} | {fmt_pct(d.province['completeness'])} | {fmt_pct(d.province['timeliness'])} | "
            f"{len(d.units)} | {d.gap_total} ({errors}) |"
        )
    if latest is not None:
        lines += ["", f"**{latest.year}** — số vấn đề theo loại:", "", "| loại | " + " | ".join(FEEDS) + " |"]
        lines.append("|---" * (len(FEEDS) + 1) + "|")
        for r in latest.gap_counts:
            if r["total"]:
                lines.append(
                    f"| {r['gap_type']} | " + " | ".join(str(r["counts"].get(f, 0)) for f in FEEDS) + " |"
                )
    context.log.info(f"follow-up reports: {len(run.files)} files under {settings.reports}")
    return dg.MaterializeResult(
        metadata={
            **_files_metadata(run.files, settings.reports),
            "years": dg.MetadataValue.json([d.year for d in run.followups]),
            "gap_rows": dg.MetadataValue.int(sum(d.gap_total for d in run.followups)),
            "gap_rows_by_type": dg.MetadataValue.json(
                {
                    gt: sum(r["total"] for d in run.followups for r in d.gap_counts if r["gap_type"] == gt)
                    for gt in GAP_TYPES
                }
            ),
            "units_to_chase_latest_year": dg.MetadataValue.int(len(latest.units) if latest else 0),
            "preview": dg.MetadataValue.md("\n".join(lines)),
        }
    )


@dg.asset(
    key=_key("reports", "par_annual"),
    group_name="reports",
    deps=ANNUAL_DEPS,
    kinds={"python", "excel", "html"},
    description="Annual PAR report per year: <PAR_REPORTS>/<Y>/xep_hang_cchc_<Y>.xlsx and .html — the ranking "
    "per group with points per component and points lost, KPIs against targets and trajectory (inline SVG "
    "charts), gap summary and the ranking method; a year that is not ranked says why. Also "
    "<PAR_REPORTS>/index.html.",
)
def par_annual_report(context: dg.AssetExecutionContext, par: ParSettingsResource) -> dg.MaterializeResult:
    settings = par.get()
    run = write_annual_reports(settings)
    lines = ["| năm | tình trạng | đơn vị xếp hạng | đứng đầu mỗi nhóm |", "|---|---|---|---|"]
    ranked_rows = 0
    for d in run.annuals:
        heads = []
        n = 0
        for g in d.groups if d.status.ranked else []:
            n += len(g["ranked"])
            if g["ranked"]:
                top = g["ranked"][0]
                heads.append(f"{RANKING_GROUPS[g['group']]}: {top['unit_name']} {fmt_num(top['score'])}")
        ranked_rows += n
        status = {
            "ranked": "đã xếp hạng",
            "final_override": "đã xếp hạng (PAR_FINAL_YEARS)",
            "blocked": "chưa xếp hạng: " + ", ".join(c["check_name"] for c in d.status.failed),
            "in_progress": "đang thực hiện",
        }[d.status.kind]
        lines.append(f"| {d.year} | {status} | {n} | {'; '.join(heads)} |")
    context.log.info(f"annual reports: {len(run.files)} files under {settings.reports}")
    return dg.MaterializeResult(
        metadata={
            **_files_metadata(run.files, settings.reports),
            "years": dg.MetadataValue.json([d.year for d in run.annuals]),
            "ranked_years": dg.MetadataValue.json([d.year for d in run.annuals if d.status.ranked]),
            "not_ranked": dg.MetadataValue.json(
                {str(d.year): d.status.text for d in run.annuals if not d.status.ranked}
            ),
            "ranked_units": dg.MetadataValue.int(ranked_rows),
            "preview": dg.MetadataValue.md("\n".join(lines)),
        }
    )


report_assets: list = [followup_report, par_annual_report]
