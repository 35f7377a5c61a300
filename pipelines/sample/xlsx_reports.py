"""XLSX writers: the Biểu số II.06a/VPCP/KSTT human report and plain tabular exports (surveys, self-report).

Determinism: xlsxwriter stamps zip members with a fixed 1980 date; the document properties get a fixed
``created`` date (derived from the report's own date), so two runs give byte-identical workbooks.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path

import xlsxwriter
from xlsxwriter.utility import xl_col_to_name

BIEU_FORM = "Biểu số II.06a/VPCP/KSTT"
BIEU_HEADER_1 = ["STT", "Đơn vị", "Tiếp nhận", "Đã giải quyết", "Đang giải quyết"]
BIEU_HEADER_2 = [
    "Tổng số",
    "Trong kỳ: Trực tuyến",
    "Trong kỳ: Trực tiếp, dịch vụ bưu chính",
    "Kỳ trước chuyển sang",
    "Tổng số",
    "Trước hạn",
    "Đúng hạn",
    "Quá hạn",
    "Tổng số",
    "Trong hạn",
    "Quá hạn",
]
TOTAL_LABEL = "Tổng cộng"


def write_bieu_ii06a(
    path: Path,
    *,
    scope: str,
    period_line: str,
    date_line: str | None,
    reporter: str,
    rows: Sequence[Sequence[object]],
    created: datetime,
    float_counts: bool = False,
    formulas: bool = False,
) -> None:
    """One Biểu II.06a workbook as a unit e-mails it.

    ``rows`` are ``[STT, name, (3) … (13)]``; ``None`` leaves a cell blank (the form reads blank as 0).
    ``float_counts`` stores the data counts as ``4.0`` (what many spreadsheet tools save), ``formulas``
    computes the ``Tổng cộng`` row with SUM formulas (cached values included).
    """
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True})
    wb.set_properties({"title": "Biểu II.06a", "author": reporter, "created": created})
    ws = wb.add_worksheet("II.06a")
    bold_c = wb.add_format({"bold": True, "align": "center", "valign": "vcenter", "text_wrap": True})
    head = wb.add_format(
        {
            "bold": True,
            "align": "center",
            "valign": "vcenter",
            "text_wrap": True,
            "border": 1,
            "font_size": 10,
        }
    )
    center = wb.add_format({"align": "center", "italic": True})
    txt = wb.add_format({"border": 1})
    num = wb.add_format({"border": 1, "align": "right"})
    tot = wb.add_format({"border": 1, "bold": True})
    ws.set_column(0, 0, 6)
    ws.set_column(1, 1, 38)
    ws.set_column(2, 12, 11)

    ws.merge_range(0, 0, 0, 5, "ỦY BAN NHÂN DÂN TỈNH NGHỆ AN", bold_c)
    ws.merge_range(0, 7, 0, 12, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", bold_c)
    ws.merge_range(1, 0, 1, 5, reporter.upper(), bold_c)
    ws.merge_range(1, 7, 1, 12, "Độc lập - Tự do - Hạnh phúc", bold_c)
    ws.write(2, 0, BIEU_FORM)
    ws.merge_range(3, 0, 3, 12, f"TÌNH HÌNH, KẾT QUẢ GIẢI QUYẾT THỦ TỤC HÀNH CHÍNH TẠI {scope}", bold_c)
    ws.merge_range(4, 0, 4, 12, period_line, center)
    if date_line:
        ws.merge_range(5, 7, 5, 12, date_line, center)
    ws.write(6, 0, "Đơn vị nhận báo cáo: Văn phòng UBND tỉnh Nghệ An")
    ws.write(6, 10, "Đơn vị tính: Số hồ sơ TTHC")

    h1, h2, nr = 8, 9, 10
    ws.merge_range(h1, 0, h2, 0, "STT", head)
    ws.merge_range(h1, 1, h2, 1, "Đơn vị", head)
    ws.merge_range(h1, 2, h1, 5, "Tiếp nhận", head)
    ws.merge_range(h1, 6, h1, 9, "Đã giải quyết", head)
    ws.merge_range(h1, 10, h1, 12, "Đang giải quyết", head)
    for j, label in enumerate(BIEU_HEADER_2):
        ws.write(h2, 2 + j, label, head)
    for j in range(13):
        ws.write(nr, j, f"({j + 1})", head)

    first = nr + 1
    float_rows: set[int] = set()
    for i, row in enumerate(rows):
        r = first + i
        for j, v in enumerate(row):
            if v is None:
                ws.write_blank(r, j, None, num if j >= 2 else txt)
            elif j >= 2 and isinstance(v, int | float) and not isinstance(v, bool):
                ws.write_number(r, j, v, num)
            elif j == 0 and isinstance(v, int):
                ws.write_number(r, j, v, txt)
            else:
                ws.write_string(r, j, str(v), txt)
        if float_counts:
            float_rows.add(r + 1)
    tr = first + len(rows)
    ws.write_blank(tr, 0, None, tot)
    ws.write_string(tr, 1, TOTAL_LABEL, tot)
    for j in range(2, 13):
        total = 0.0
        for row in rows:
            v = row[j] if j < len(row) else None
            if isinstance(v, int | float) and not isinstance(v, bool):
                total += v
        value = int(total) if float(total).is_integer() else total
        if formulas and rows:
            col = xl_col_to_name(j)
            ws.write_formula(tr, j, f"=SUM({col}{first + 1}:{col}{tr})", tot, value)
        else:
            ws.write_number(tr, j, value, tot)
    ws.write(tr + 2, 1, "NGƯỜI LẬP BIỂU", bold_c)
    ws.write(tr + 2, 9, "THỦ TRƯỞNG ĐƠN VỊ", bold_c)
    ws.write(tr + 3, 9, "(Ký, ghi rõ họ tên, đóng dấu)", center)
    wb.close()
    data = buf.getvalue()
    if float_rows:
        data = _floatify(data, float_rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


_NUM_CELL = re.compile(rb'(<c r="[C-M](\d+)"[^>]*>)<v>(-?\d+)</v>')


def _floatify(data: bytes, rows: set[int]) -> bytes:
    """Rewrites integral count cells of ``rows`` as ``N.0`` so readers get floats, as from many tools."""

    def repl(m: re.Match[bytes]) -> bytes:
        if int(m.group(2)) in rows:
            return m.group(1) + b"<v>" + m.group(3) + b".0</v>"
        return m.group(0)

    zin = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zout:
        for info in zin.infolist():
            content = zin.read(info.filename)
            if info.filename.startswith("xl/worksheets/sheet"):
                content = _NUM_CELL.sub(repl, content)
            zout.writestr(info, content)
    return out.getvalue()


def write_table_xlsx(
    path: Path,
    header: Sequence[str],
    rows: Iterable[Sequence[object]],
    *,
    created: datetime,
    sheet: str = "Sheet1",
    text_columns: Iterable[str] = (),
) -> int:
    """A plain export: header on the first row, one record per row (streamed: constant memory)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_numbers": False})
    wb.set_properties({"created": created})
    ws = wb.add_worksheet(sheet)
    bold = wb.add_format({"bold": True})
    as_text = {header.index(c) for c in text_columns if c in header}
    for j, h in enumerate(header):
        ws.write_string(0, j, h, bold)
    n = 0
    for n, row in enumerate(rows, start=1):
        for j, v in enumerate(row):
            if v is None or v == "":
                continue
            if isinstance(v, int | float) and not isinstance(v, bool) and j not in as_text:
                ws.write_number(n, j, v)
            else:
                ws.write_string(n, j, str(v))
    wb.close()
    return n
