"""The reports people read: the follow-up report (báo cáo đôn đốc) and the annual ranking report
(xếp hạng CCHC), Excel + self-contained HTML per programme year, and an index of all years.

Layout under PAR_REPORTS:
    index.html
    <Y>/bao_cao_don_doc_<Y>.xlsx, <Y>/bao_cao_don_doc_<Y>.html
    <Y>/xep_hang_cchc_<Y>.xlsx,  <Y>/xep_hang_cchc_<Y>.html

Every file is written to a temporary name and renamed into place.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pipelines.lib.config import Settings

from .annual import annual_paths, write_annual, write_index
from .data import AnnualData, FollowupData, Warehouse, annual_data, followup_data, load_warehouse, year_status
from .followup import followup_paths, write_followup


@dataclass
class ReportRun:
    files: list[Path] = field(default_factory=list)
    followups: list[FollowupData] = field(default_factory=list)
    annuals: list[AnnualData] = field(default_factory=list)


def write_followup_reports(settings: Settings, wh: Warehouse | None = None) -> ReportRun:
    wh = wh or load_warehouse(settings)
    run = ReportRun()
    for year in wh.years:
        d = followup_data(wh, year)
        run.files += write_followup(d, settings.reports)
        run.followups.append(d.summary())  # the year's detail rows are written: let them go
    run.files.append(write_index(settings.reports, [year_status(wh, y) for y in wh.years], wh.as_of))
    return run


def write_annual_reports(settings: Settings, wh: Warehouse | None = None) -> ReportRun:
    wh = wh or load_warehouse(settings)
    run = ReportRun()
    for year in wh.years:
        d = annual_data(wh, year)
        run.annuals.append(d)
        run.files += write_annual(d, settings.reports)
    run.files.append(write_index(settings.reports, [a.status for a in run.annuals], wh.as_of))
    return run


def write_all(settings: Settings) -> ReportRun:
    """Both reports for every programme year, reading the warehouse once."""
    wh = load_warehouse(settings)
    a = write_followup_reports(settings, wh)
    b = write_annual_reports(settings, wh)
    return ReportRun(files=sorted(set(a.files + b.files)), followups=a.followups, annuals=b.annuals)


__all__ = [
    "ReportRun",
    "annual_paths",
    "followup_paths",
    "load_warehouse",
    "write_all",
    "write_annual_reports",
    "write_followup_reports",
]
