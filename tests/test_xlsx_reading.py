"""XLSX reading: real workbooks written with openpyxl (the sheet XML edited where openpyxl cannot write
it: cached formula values, shared formulas, error cells), read through the pipeline's own entry points
(`read_xlsx_table`, the Biểu II.06a parser), the texts expected computed by hand.

Cell values come from calamine; a sheet where calamine would read differently from openpyxl is read the
old way (openpyxl). Every workbook here is also read both ways and the rows compared."""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path
from xml.etree.ElementTree import ParseError

import duckdb
import openpyxl
import pytest
from builders import write_bieu_ii06a

from pipelines.ingest import bieu_ii06a
from pipelines.ingest.readers import ExportFormatError
from pipelines.ingest.xlsx import (
    Uncomputed,
    open_workbook,
    read_xlsx_table,
    sheet_rows,
    visible_sheets,
)

SHEET1 = "xl/worksheets/sheet1.xml"
SHEET2 = "xl/worksheets/sheet2.xml"


def edit_member(path: Path, member: str, *replacements: tuple[bytes, bytes]) -> None:
    """Rewrite one member of the zip, each (old, new) replaced once (old must be there)."""
    with zipfile.ZipFile(path) as zf:
        parts = {info.filename: zf.read(info) for info in zf.infolist()}
    data = parts[member]
    for old, new in replacements:
        assert data.count(old) == 1, (old, data[:2000])
        data = data.replace(old, new)
    parts[member] = data
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, body in parts.items():
            zf.writestr(name, body)


def cached(cell: str, formula: str, value: str) -> tuple[bytes, bytes]:
    """openpyxl writes a formula with an empty <v/>; give it the value Excel would have saved."""
    old = f'<c r="{cell}"><f>{formula}</f><v /></c>'.encode()
    return old, old.replace(b"<v />", f"<v>{value}</v>".encode())


def read_table(path: Path, key: str = "ma_phieu", dates: frozenset[str] = frozenset()):
    con = duckdb.connect()
    header = read_xlsx_table(con, path, key, dates)
    rows = con.execute("SELECT * FROM _export ORDER BY _row").fetchall()
    return header, [d[0] for d in con.description], rows


def plain(value: object) -> object:
    return ("Uncomputed", value.formula, value.row, value.column) if isinstance(value, Uncomputed) else value


def fast_and_exact(path: Path) -> dict[str, str]:
    """Every visible sheet read fast and read the old way (openpyxl, twice) gives the same rows (up to
    trailing blank rows, which openpyxl yields up to the declared dimension and nothing reads); returns
    the sheets the fast reader handed to openpyxl, with why."""
    with open_workbook(path) as workbook:
        for sheet in visible_sheets(workbook):
            fast = [tuple(map(plain, r)) for r in sheet_rows(sheet)]
            exact = [tuple(map(plain, r)) for r in workbook._exact_rows(sheet.title)]
            while exact and all(v is None for v in exact[-1]):
                exact.pop()
            while fast and all(v is None for v in fast[-1]):
                fast.pop()
            assert fast == exact, sheet.title
        return dict(workbook.fallbacks)


HEADER = [
    "ma_phieu",
    "so_nguyen",
    "so_thuc_nguyen",
    "so_thuc",
    "dung_sai",
    "ngay",
    "thoi_diem",
    "ghi_chu",
    "tong",
]


def survey_workbook(path: Path, *, values: dict[str, str]) -> Path:
    """A hidden sheet first (with the key column: it must not be read), then the visible one: a title
    line, the header, three records around a blank row; column I holds formulas whose cached values are
    `values` (a formula missing from it is saved without its value)."""
    wb = openpyxl.Workbook()
    decoy = wb.active
    decoy.title = "Nháp"
    decoy.append(["ma_phieu", "so_nguyen"])
    decoy.append(["DECOY", 99])
    decoy.sheet_state = "hidden"
    ws = wb.create_sheet("Khảo sát")
    ws.append(["Kết quả khảo sát tháng 3/2024"])
    ws.append(["MA_PHIEU", " so_nguyen", *HEADER[2:]])  # read as HEADER: case and blanks normalised
    ws.append(["P1", 4, 4.0, 2.5, True, 45366, dt.datetime(2024, 3, 15, 8, 30), "  Cảm ơn  ", "=B3+1"])
    ws.append([])
    ws.append(["P2", -7, 1e20, 0.1, False, dt.datetime(2024, 3, 16), 45366.75, None, "=B5*2"])
    ws.append(["P3", 0, 1 / 3, -1.5, None, dt.date(2024, 2, 29), dt.time(9, 5), "Sở Tư pháp", "=B6"])
    wb.save(path)
    formulas = {"I3": "B3+1", "I5": "B5*2", "I6": "B6"}
    edit_member(path, SHEET2, *(cached(c, formulas[c], v) for c, v in values.items()))
    return path


def test_survey_xlsx_texts(tmp_path):
    path = survey_workbook(tmp_path / "surveys.xlsx", values={"I3": "5", "I5": "-14", "I6": "0"})
    header, columns, rows = read_table(path, dates=frozenset({"ngay", "thoi_diem"}))
    assert header == HEADER
    assert columns == ["_row", *HEADER]
    assert rows == [
        # ints; 4.0 is 4; a float as Python writes it; True; an Excel serial in a date column; a datetime
        (1, "P1", "4", "4", "2.5", "1", "2024-03-15", "2024-03-15T08:30:00", "  Cảm ơn  ", "5"),
        # the blank row is skipped; 1e20 is an integer; a midnight datetime is a date; a serial with a time
        (
            2,
            "P2",
            "-7",
            "100000000000000000000",
            "0.1",
            "0",
            "2024-03-16",
            "2024-03-15T18:00:00",
            None,
            "-14",
        ),
        # an empty cell is NULL (not ''); a date; a time of day
        (3, "P3", "0", "0.3333333333333333", "-1.5", None, "2024-02-29", "09:05:00", "Sở Tư pháp", "0"),
    ]
    assert fast_and_exact(path) == {}  # read by calamine, not handed back to openpyxl


def test_visible_sheets_and_raw_values(tmp_path):
    path = survey_workbook(tmp_path / "surveys.xlsx", values={"I3": "5", "I5": "-14", "I6": "0"})
    with open_workbook(path) as workbook:
        sheets = visible_sheets(workbook)
        assert [s.title for s in sheets] == ["Khảo sát"]
        rows = list(sheet_rows(sheets[0]))
        assert workbook.fallbacks == {}
    assert rows[0] == ("Kết quả khảo sát tháng 3/2024", *[None] * 8)
    assert rows[3] == (None,) * 9  # the blank row, as wide as the sheet
    assert rows[2] == ("P1", 4, 4, 2.5, True, 45366, dt.datetime(2024, 3, 15, 8, 30), "  Cảm ơn  ", 5)
    assert [type(v) for v in rows[2][:4]] == [str, int, int, float]
    assert rows[5][5:7] == (dt.datetime(2024, 2, 29), dt.time(9, 5))


def test_formula_saved_without_its_value_is_refused(tmp_path):
    path = survey_workbook(tmp_path / "surveys.xlsx", values={"I3": "5", "I5": "-14"})
    with pytest.raises(ExportFormatError) as err:
        read_table(path, dates=frozenset({"ngay", "thoi_diem"}))
    assert str(err.value) == (
        "cell I6 holds a formula (=B6) saved without its value: open and save the file in Excel, "
        "or send the values"
    )
    assert fast_and_exact(path) == {}


def raw_sheet(path: Path, rows: str, dimension: str) -> Path:
    """A workbook written by openpyxl whose only sheet is then replaced by this XML."""
    wb = openpyxl.Workbook()
    wb.active.append(["placeholder"])
    wb.save(path)
    with zipfile.ZipFile(path) as zf:
        old = zf.read(SHEET1)
    new = (
        b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        + f'<dimension ref="{dimension}"/><sheetData>{rows}</sheetData></worksheet>'.encode()
    )
    edit_member(path, SHEET1, (old, new))
    return path


def inline(ref: str, text: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


HEAD_ROW = (
    '<row r="1">'
    + "".join(inline(f"{c}1", t) for c, t in zip("ABCDE", ["ma_phieu", "a", "b", "tong", "loi"], strict=True))
    + "</row>"
)


def test_shared_formulas_and_error_cells(tmp_path):
    rows = (
        HEAD_ROW
        + '<row r="2">'
        + inline("A2", "P1")
        + '<c r="B2"><v>1</v></c><c r="C2"><v>2</v></c>'
        + '<c r="D2"><f t="shared" ref="D2:D3" si="0">B2+C2</f><v>3</v></c>'
        + '<c r="E2" t="e"><v>#N/A</v></c></row>'
        + '<row r="3">'
        + inline("A3", "P2")
        + '<c r="B3"><v>3</v></c><c r="C3"><v>4</v></c>'
        + '<c r="D3"><f t="shared" si="0"/><v>7</v></c>'
        + '<c r="E3" t="e"><f>1/0</f><v>#DIV/0!</v></c></row>'
    )
    path = raw_sheet(tmp_path / "shared.xlsx", rows, "A1:E3")
    header, _, got = read_table(path)
    assert header == ["ma_phieu", "a", "b", "tong", "loi"]
    assert got == [(1, "P1", "1", "2", "3", "#N/A"), (2, "P2", "3", "4", "7", "#DIV/0!")]
    assert fast_and_exact(path) == {}

    # the same sheet saved by a tool that does not calculate: the shared formula of D3, as D3 has it
    path = raw_sheet(tmp_path / "shared_nocache.xlsx", rows.replace('si="0"/><v>7</v>', 'si="0"/>'), "A1:E3")
    with pytest.raises(
        ExportFormatError, match=r"^cell D3 holds a formula \(=B3\+C3\) saved without its value"
    ):
        read_table(path)
    assert fast_and_exact(path) == {}


def test_array_formula_without_value_is_blank_and_an_empty_v_is_no_value(tmp_path):
    """openpyxl's reading, kept: an array formula without a value reads as blank; `<v></v>` is no value."""
    rows = (
        HEAD_ROW
        + '<row r="2">'
        + inline("A2", "P1")
        + '<c r="B2"><f t="array" ref="B2">SUM(C2:C2)</f></c><c r="C2"><v>2</v></c>'
        + '<c r="D2"><f>IF(C2&lt;3,"x&amp;y","")</f><v></v></c></row>'
    )
    path = raw_sheet(tmp_path / "array.xlsx", rows, "A1:E2")
    with pytest.raises(ExportFormatError, match=r'^cell D2 holds a formula \(=IF\(C2<3,"x&y",""\)\) saved'):
        read_table(path)
    assert fast_and_exact(path) == {}


def test_declared_dimension_sets_the_width(tmp_path):
    """Rows run from column A to the sheet's declared <dimension>, as openpyxl's read-only mode gave them:
    a wider dimension adds `_colN` columns, and the header row may start right of column A."""
    rows = (
        '<row r="2">' + inline("B2", "ma_phieu") + inline("C2", "x") + "</row>"
        '<row r="3">' + inline("B3", "P1") + '<c r="C3"><v>1.5</v></c></row>'
    )
    path = raw_sheet(tmp_path / "wide.xlsx", rows, "B2:E3")
    header, _, got = read_table(path)
    assert header == ["_col1", "ma_phieu", "x", "_col4", "_col5"]
    assert got == [(1, None, "P1", "1.5", None, None)]
    assert fast_and_exact(path) == {}


def test_text_longer_than_an_excel_cell_is_cut(tmp_path):
    wb = openpyxl.Workbook()
    wb.active.append(["ma_phieu", "ghi_chu"])
    wb.active.append(["P1", "ồ" * 40_000])
    wb.save(tmp_path / "long.xlsx")
    assert read_table(tmp_path / "long.xlsx")[2] == [(1, "P1", "ồ" * 32_767)]
    assert fast_and_exact(tmp_path / "long.xlsx") == {}


def test_sheets_calamine_reads_differently_are_read_as_before(tmp_path):
    """A whitespace-only text as openpyxl writes it (no xml:space="preserve": calamine would trim it to
    nothing), then a number in a style calamine takes for a date and openpyxl does not (built-in format
    27, East Asian): that sheet is read with openpyxl, and the values are what they always were."""
    path = tmp_path / "odd.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["ma_phieu", "ghi_chu", "so"])
    ws.append(["P1", "   ", 45000])
    ws["C2"].number_format = "yyyy"  # a date format for both readers: 45000 is 2023-03-15
    wb.save(path)
    assert read_table(path)[2] == [(1, "P1", "   ", "2023-03-15")]
    assert "white space" in fast_and_exact(path)["Sheet"]

    edit_member(path, SHEET1, (b"<t>   </t>", b"<t>x</t>"))
    assert read_table(path)[2] == [(1, "P1", "x", "2023-03-15")]
    assert fast_and_exact(path) == {}

    edit_member(path, "xl/styles.xml", (b'<xf numFmtId="164"', b'<xf numFmtId="27"'))
    assert read_table(path)[2] == [(1, "P1", "x", "45000")]  # openpyxl does not know format 27
    assert "as dates" in fast_and_exact(path)["Sheet"]


def test_broken_files_are_refused_before_and_while_opening(tmp_path):
    (tmp_path / "text.xlsx").write_text("ma_phieu,so\nP1,1\n", encoding="utf-8")
    with pytest.raises(ExportFormatError, match=r"not a valid XLSX workbook \(not a zip archive\)"):
        read_table(tmp_path / "text.xlsx")
    with zipfile.ZipFile(tmp_path / "nocontent.xlsx", "w") as zf:
        zf.writestr("xl/workbook.xml", "<workbook/>")
    with pytest.raises(ExportFormatError, match=r"\[Content_Types\].xml missing"):
        read_table(tmp_path / "nocontent.xlsx")
    with zipfile.ZipFile(tmp_path / "broken.xlsx", "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types")
    with pytest.raises(ExportFormatError, match=r"^XLSX cannot be opened: "):
        read_table(tmp_path / "broken.xlsx")
    survey_workbook(tmp_path / "cut.xlsx", values={"I3": "5", "I5": "-14", "I6": "0"})
    edit_member(tmp_path / "cut.xlsx", SHEET2, (b"</sheetData>", b""))  # not well-formed any more
    with open_workbook(tmp_path / "cut.xlsx") as workbook:  # calamine gives up: openpyxl, as before
        with pytest.raises(ParseError, match="mismatched tag"):  # parse_export: "export cannot be read"
            list(sheet_rows(visible_sheets(workbook)[0]))
        assert workbook.fallbacks["Khảo sát"].startswith("XmlError")


BIEU_COUNTS = (10, 5, 3, 2, 7, 4, 2, 1, 3, 2, 1)


def test_bieu_ii06a_merged_header_and_formula_totals(tmp_path):
    """The Biểu's title lines and two-row merged header (openpyxl read-only gave None for every cell of a
    merged range but the first: so does calamine); a Tổng số saved as a formula with its value, one
    without (taken as the sum of its parts), and a part saved without its value (refused)."""
    path = write_bieu_ii06a(
        tmp_path / "bieu.xlsx", [("Sở Tư pháp", *BIEU_COUNTS), ("UBND huyện Nghi Lộc", *[1] * 11)]
    )
    wb = openpyxl.load_workbook(path)
    ws = wb.active
    first = next(r[0].row for r in ws.iter_rows() if r[0].value == 1)
    ws.cell(first, 3).value = f"=D{first}+E{first}+F{first}"
    ws.cell(first, 7).value = f"=H{first}+I{first}+J{first}"
    wb.save(path)
    edit_member(path, SHEET1, cached(f"C{first}", f"D{first}+E{first}+F{first}", "10"))
    with open_workbook(path) as workbook:
        rows = list(sheet_rows(visible_sheets(workbook)[0]))
        assert workbook.fallbacks == {}
    header = rows[first - 4]
    assert header[:3] == ("STT", "Đơn vị", "Tiếp nhận") and header[3:6] == (None, None, None)
    assert rows[first - 3][:3] == (None, None, "Tổng số")  # the merged STT and Đơn vị cells: None
    assert isinstance(rows[first - 1][6], Uncomputed)

    report = bieu_ii06a.parse(path)
    assert (report.period, report.report_date) == ("2024-03", dt.date(2024, 4, 5))
    counts = dict(zip(bieu_ii06a.COUNT_COLUMNS, map(str, BIEU_COUNTS), strict=True))
    assert report.rows == [
        {"_row": "3", "stt": "1", "ten_don_vi": "Sở Tư pháp", **counts},
        {"_row": "4", "stt": "2", "ten_don_vi": "UBND huyện Nghi Lộc", **dict.fromkeys(counts, "1")},
    ]
    assert fast_and_exact(path) == {}

    wb = openpyxl.load_workbook(path)
    wb.active.cell(first + 1, 5).value = f"=1+{BIEU_COUNTS[2] - 1}"  # a part nobody computed
    wb.save(path)
    with pytest.raises(
        ExportFormatError, match=rf"^cell E{first + 1} holds a formula \(=1\+2\) saved without"
    ):
        bieu_ii06a.parse(path)
    assert fast_and_exact(path) == {}
