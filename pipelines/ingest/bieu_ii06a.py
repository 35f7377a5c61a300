"""Biểu số II.06a/VPCP/KSTT — the human dossier report units e-mail as XLSX (sources.md).

Title lines (report name, period, usually a date line), a two-row merged header, a numbering row,
one row per unit *named* (not coded), and a `Tổng cộng` row. Only rows whose STT is a positive
integer are data. The parser returns text cells; typing and checks happen in SQL like every feed.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from pipelines.ingest.readers import ExportFormatError
from pipelines.ingest.xlsx import (
    Uncomputed,
    cell_text,
    open_workbook,
    sheet_rows,
    visible_sheets,
)

# Columns (3)..(13) after STT (1) and Đơn vị (2), in the order of the form.
COUNT_COLUMNS = (
    "tong_tiep_nhan",
    "tiep_nhan_truc_tuyen",
    "tiep_nhan_truc_tiep",  # (5) in-person and postal together
    "ton_ky_truoc",
    "tong_da_giai_quyet",
    "da_giai_quyet_truoc_han",
    "da_giai_quyet_dung_han",
    "da_giai_quyet_qua_han",
    "tong_dang_giai_quyet",
    "dang_giai_quyet_trong_han",
    "dang_giai_quyet_qua_han",
)

# The form's Tổng số columns and the parts they add up: (3) = (4)+(5)+(6), (7) = (8)+(9)+(10),
# (11) = (12)+(13).
TOTAL_PARTS = {
    "tong_tiep_nhan": ("tiep_nhan_truc_tuyen", "tiep_nhan_truc_tiep", "ton_ky_truoc"),
    "tong_da_giai_quyet": ("da_giai_quyet_truoc_han", "da_giai_quyet_dung_han", "da_giai_quyet_qua_han"),
    "tong_dang_giai_quyet": ("dang_giai_quyet_trong_han", "dang_giai_quyet_qua_han"),
}


def _total_from_formula(total: object, parts: list[object]) -> object:
    """A Tổng số cell left as an uncomputed formula (e.g. `=D9+E9+F9` written by a tool that does not
    calculate) is only a cross-check of its parts: take it as their sum instead of refusing the report.
    A part left as an uncomputed formula is still refused (cell_text): nobody computed that count."""
    if not isinstance(total, Uncomputed):
        return total
    if all(isinstance(p, int | float) and not isinstance(p, bool) or p is None for p in parts):
        return sum(p or 0 for p in parts)
    return total


_PERIOD_MONTH = re.compile(r"kỳ\s*báo\s*cáo\s*:?\s*tháng\s*(\d{1,2})\s*(?:/|-|\.|năm)\s*(\d{4})")
_PERIOD_RANGE = re.compile(
    r"từ\s*ngày\s*(\d{1,2})\s*/\s*(\d{1,2})\s*/\s*(\d{4})\s*đến\s*ngày\s*(\d{1,2})\s*/\s*(\d{1,2})\s*/\s*(\d{4})"
)
_DATE_LINE = re.compile(r"ngày\s*(\d{1,2})\s*tháng\s*(\d{1,2})\s*năm\s*(\d{4})")


@dataclass
class HumanReport:
    period: str  # YYYY-MM
    report_date: dt.date | None
    rows: list[dict[str, str | None]] = field(default_factory=list)


def _norm(value: object) -> str:
    text = "" if value is None else str(value)
    return re.sub(r"\s+", " ", unicodedata.normalize("NFC", text)).strip().lower()


def _positive_int(value: object) -> int | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return value if value > 0 else None
    if isinstance(value, float):
        return int(value) if value.is_integer() and value > 0 else None
    text = str(value).strip().rstrip(".")
    return int(text) if text.isdigit() and int(text) > 0 else None


def parse_period(title: str) -> str:
    match = _PERIOD_MONTH.search(title)
    if match:
        month, year = int(match.group(1)), int(match.group(2))
    else:
        match = _PERIOD_RANGE.search(title)
        if not match:
            raise ExportFormatError(
                "Biểu II.06a: no reporting period in the title ('Kỳ báo cáo: tháng MM/YYYY')"
            )
        d1, m1, y1, d2, m2, y2 = (int(g) for g in match.groups())
        try:
            start, end = dt.date(y1, m1, d1), dt.date(y2, m2, d2)
        except ValueError as exc:
            raise ExportFormatError(f"Biểu II.06a: reporting period is not a date: {match.group(0)}") from exc
        last = calendar.monthrange(y1, m1)[1]
        if start.day != 1 or end != dt.date(y1, m1, last):
            raise ExportFormatError(
                f"Biểu II.06a: reporting period {start:%d/%m/%Y}–{end:%d/%m/%Y} is not one calendar month"
            )
        month, year = m1, y1
    if not 1 <= month <= 12:
        raise ExportFormatError(f"Biểu II.06a: reporting month {month} does not exist")
    return f"{year:04d}-{month:02d}"


def parse_report_date(title: str) -> dt.date | None:
    """The date line (`Nghệ An, ngày 05 tháng 4 năm 2024`): the report's export date."""
    for match in _DATE_LINE.finditer(title):
        day, month, year = (int(g) for g in match.groups())
        try:
            return dt.date(year, month, day)
        except ValueError:
            continue
    return None


def parse(path: Path) -> HumanReport:
    with open_workbook(path) as workbook:  # formulas saved without a value come as Uncomputed
        for sheet in visible_sheets(workbook):
            report = _parse_sheet(sheet_rows(sheet))
            if report is not None:
                return report
    raise ExportFormatError("Biểu II.06a: no sheet with an 'STT | Đơn vị' header row")


def _parse_sheet(rows) -> HumanReport | None:
    title_lines: list[str] = []
    header_at: int | None = None
    for _ in range(40):
        row = next(rows, None)
        if row is None:
            return None
        cells = [_norm(v) for v in row]
        for i, cell in enumerate(cells[:-1]):
            # the header row (STT | Đơn vị), or failing that the numbering row (1) | (2)
            if (cell == "stt" and "đơn vị" in cells[i + 1]) or (cell == "(1)" and cells[i + 1] == "(2)"):
                header_at = i
                break
        if header_at is not None:
            break
        title_lines.extend(c for c in (_norm(v) for v in row) if c)
    if header_at is None:
        return None
    title = " | ".join(title_lines)
    report = HumanReport(period=parse_period(title), report_date=parse_report_date(title))
    footer_lines: list[str] = []
    for number, row in enumerate(rows, start=1):
        if row is None or len(row) <= header_at:
            continue
        if _positive_int(row[header_at]) is None:
            # second header row, numbering row, Tổng cộng, notes, signatures
            footer_lines.extend(c for c in (_norm(v) for v in row) if c)
            continue
        cells = list(row[header_at + 1 : header_at + 2 + len(COUNT_COLUMNS)])
        cells += [None] * (1 + len(COUNT_COLUMNS) - len(cells))
        record: dict[str, str | None] = {"_row": str(number), "stt": cell_text(row[header_at])}
        record["ten_don_vi"] = cell_text(cells[0])
        values = dict(zip(COUNT_COLUMNS, cells[1:], strict=True))
        for total, parts in TOTAL_PARTS.items():
            values[total] = _total_from_formula(values[total], [values[p] for p in parts])
        for name, value in values.items():
            record[name] = cell_text(value)
        report.rows.append(record)
    if report.report_date is None:
        # some units put the place-and-date line above the signature, below the table
        report.report_date = parse_report_date(" | ".join(footer_lines))
    return report
