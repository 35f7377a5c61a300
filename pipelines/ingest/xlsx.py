"""XLSX exports (surveys, self-report, Biểu II.06a workbooks): cached cell values, never evaluated.

Values come from calamine (one fast pass); what it does not tell — a formula saved without its value
(refused, `Uncomputed`), an error cell's text — comes from one streamed pass over the sheet XML. A sheet
where calamine and openpyxl are known to read a value differently is read with openpyxl, exactly as
before, only slower (see `XlsxWorkbook`). `read_xlsx_table` lands a machine-column sheet in the same
`_export` table of text columns as every other format (`readers.py`).
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import logging
import re
import zipfile
from pathlib import Path

import duckdb
import pandas as pd

from pipelines.ingest.readers import ExportFormatError, norm_header, quote_ident, store_export, unique_names

log = logging.getLogger(__name__)

MAX_XLSX_UNCOMPRESSED = 400 * 1024 * 1024
MAX_XLSX_RATIO = 200
MAX_CELL_CHARS = 32_767  # Excel's own cell limit; anything longer is not a real export
EXCEL_EPOCH = dt.datetime(1899, 12, 30)


def check_zip(path: Path) -> None:
    """Refuse archives that are not XLSX or that would inflate far beyond their size (zip bombs)."""
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            total = sum(i.file_size for i in infos)
            packed = max(1, sum(i.compress_size for i in infos))
            names = {i.filename for i in infos}
    except zipfile.BadZipFile as exc:
        raise ExportFormatError("file is not a valid XLSX workbook (not a zip archive)") from exc
    if "[Content_Types].xml" not in names:
        raise ExportFormatError("file is not an XLSX workbook ([Content_Types].xml missing)")
    if total > MAX_XLSX_UNCOMPRESSED or total / packed > MAX_XLSX_RATIO:
        raise ExportFormatError(
            f"XLSX refused: it would inflate to {total} bytes from {packed} (ratio {total // packed})"
        )


class Uncomputed:
    """A formula cell saved without its value (written by a tool that does not calculate, not by Excel).
    Reading it as blank would load 0 for a count nobody computed (fault drill 3): refuse the export."""

    def __init__(self, formula: str, row: int, column: int):
        self.formula, self.row, self.column = formula, row, column

    def __str__(self) -> str:  # title and footer lines read it as the blank it shows
        return ""

    def reason(self) -> str:
        from openpyxl.utils import get_column_letter

        return (
            f"cell {get_column_letter(self.column)}{self.row} holds a formula ({self.formula[:60]}) saved "
            "without its value: open and save the file in Excel, or send the values"
        )


def cell_text(value: object, *, as_date: bool = False) -> str | None:
    """Text of an XLSX cell as a CSV would carry it (an XLSX `4.0` is the integer 4)."""
    kind = value.__class__
    if kind is str:  # the commonest cases first: text, then a count
        return value if len(value) <= MAX_CELL_CHARS else value[:MAX_CELL_CHARS]
    if value is None:
        return None
    if kind is int and not as_date:
        return str(value)
    if isinstance(value, Uncomputed):
        raise ExportFormatError(value.reason())
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, dt.datetime):
        return (
            value.isoformat(sep="T")
            if (value.hour, value.minute, value.second) != (0, 0, 0)
            else value.date().isoformat()
        )
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return value.isoformat()
    if isinstance(value, int | float):
        if as_date and 1 <= value < 2958466:  # an Excel date stored as its serial number
            stamp = EXCEL_EPOCH + dt.timedelta(days=float(value))
            return stamp.date().isoformat() if float(value).is_integer() else stamp.isoformat(sep="T")
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return repr(value) if isinstance(value, float) else str(value)
    text = str(value)
    if len(text) > MAX_CELL_CHARS:
        text = text[:MAX_CELL_CHARS]
    return text


# ------------------------------------------------------------------------------------------------ XLSX
#
# Cell values come from calamine (Rust; one pass, cached values only). The rows are the ones openpyxl's
# read-only mode gave before, value for value: the same sheets (openpyxl reads the workbook's metadata),
# rows from 1 and columns from A up to the sheet's declared <dimension>, None for empty cells. What
# calamine does not say is read from the worksheet XML in one streamed pass over bytes: formulas saved
# without a value (→ Uncomputed) and error cells (→ their text, e.g. "#DIV/0!"). A sheet where the two
# readers are known to differ (see _SheetScan and XlsxWorkbook._book_refusal) is read with openpyxl
# exactly as before, only slower.

_MAIN_NS = b'"http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
_CHUNK = 1 << 20
_MAX_CARRY = 64 << 20  # a single row (or shared string) this long is read the slow way
# Rows up to here (header search: 30; Biểu II.06a title lines: 40) keep openpyxl's int/float split
# exactly (`4` vs `4.0` shows in header names); below it a whole number is an int, as Excel writes it.
HEADER_ZONE = 40
_PROBE = 45000.25  # 2023-03-15 06:00 (1900 date system)
_ENTITY = re.compile(r"&(#x[0-9A-Fa-f]+|#[0-9]+|lt|gt|amp|quot|apos);")
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"', "apos": "'"}
_ATTR_R = re.compile(rb'\sr="([^"]*)"')
_ATTR_T = re.compile(rb'\st="([^"]*)"')
_ATTR_S = re.compile(rb'\ss="([^"]*)"')
_ESCAPES = (re.compile(rb"_x[0-9A-Fa-f]{4}_"), re.compile(rb"_X[0-9A-Fa-f]{4}_"))


class _Refused(Exception):
    """The fast reader would not give exactly what openpyxl gave: read this sheet with openpyxl."""


def _xml_text(raw: bytes) -> str:
    """Text of an XML element (its five entities and character references decoded)."""

    def entity(m: re.Match) -> str:
        name = m.group(1)
        if name.startswith("#x"):
            return chr(int(name[2:], 16))
        if name.startswith("#"):
            return chr(int(name[1:]))
        return _NAMED[name]

    return _ENTITY.sub(entity, raw.decode("utf-8"))


def _xml_parts(archive: zipfile.ZipFile, member: str, root: bytes, item: bytes):
    """(prefix, pieces) of a part's XML: pieces end at an `item` element's end, so no cell or string is
    cut in two. Refuses XML whose root is not in the main spreadsheet namespace (strict OOXML)."""
    fh = archive.open(member)
    try:
        first = fh.read(_CHUNK)
        m = re.search(rb"<(?:([A-Za-z_][\w.-]*):)?" + root + rb"[\s>/]", first)
        end = first.find(b">", m.start()) if m else -1
        prefix = (m.group(1) or b"") if m else b""
        declared = (b"xmlns:" + prefix if prefix else b"xmlns") + b"=" + _MAIN_NS
        if end < 0 or declared not in first[m.start() : end]:
            raise _Refused(f"{member}: not the main spreadsheet namespace")
    except BaseException:
        fh.close()
        raise

    def pieces():
        with fh:
            closing = b"</" + (prefix + b":" if prefix else b"") + item + b">"
            carry = first
            while chunk := fh.read(_CHUNK):
                carry += chunk
                cut = carry.rfind(closing)
                if cut < 0:
                    if len(carry) > _MAX_CARRY:
                        raise _Refused(f"{member}: no {item.decode()} end within {_MAX_CARRY} bytes")
                    continue
                cut += len(closing)
                yield carry[:cut]
                carry = carry[cut:]
            yield carry

    return prefix + b":" if prefix else b"", pieces()


@functools.cache
def _patterns(p: bytes) -> dict[str, re.Pattern]:
    """The searches of a part whose elements carry the namespace prefix `p` (b"" or b"x:")."""
    q = re.escape(p)
    return {
        # one pass for what is rare: markup calamine and expat read differently, a <t> starting with
        # white space (calamine trims it unless xml:space="preserve"), a number beyond 15 digits (an int
        # for openpyxl, a float for calamine), a formula (found here; looked at cell by cell)
        "screen": re.compile(rb"<(?:!|" + q + rb"(?:t>(?:[ \t\n]|&#)|v>-?[0-9]{16}|f[\s/>]))"),
        # white space (or a character reference) right before </t>, searched in the reversed XML
        "trail": re.compile(rb">t" + re.escape(p[::-1]) + rb"/<(?:[ \t\n]|;[0-9]+#&|;[0-9A-Fa-f]+x#&)"),
        "type": re.compile(rb't="([de])"'),
        "cell": re.compile(rb"<" + q + rb"c(?=[\s/>])([^>]*?)(?:/>|>(.*?)</" + q + rb"c>)", re.S),
        "f": re.compile(rb"<" + q + rb"f((?:\s[^>]*)?)(?:/>|>([^<]*)</" + q + rb"f>)"),
        "v": re.compile(rb"<" + q + rb"v(?:\s[^>]*)?(?:/>|>([^<]*)</" + q + rb"v>)"),
        "is": re.compile(rb"<" + q + rb"is[\s/>]"),
        "float": re.compile(rb"<" + q + rb"v>[^<]*[.eE]"),
        "date_edge": re.compile(rb"<" + q + rb"v>(?:-|0\.999999|[0-9]{7}|[-+]?[0-9.]*[eE])"),
    }


def _after_declaration(seg: bytes) -> int:
    """Where the XML after its declaration (`<?xml ... ?>`, quoted either way) starts."""
    return seg.find(b"?>") + 2 if seg[:64].lstrip(b"\xef\xbb\xbf").startswith(b"<?xml") else 0


def _check_text(seg: bytes, pats: dict[str, re.Pattern], first: bool, closing: int) -> None:
    """Strings calamine reads differently from openpyxl: it trims a <t> without xml:space="preserve"
    (character references included), decodes _xHHHH_ escapes (openpyxl leaves them), keeps a raw
    carriage return (XML parsers make it a line feed)."""
    if b"\r" in seg:
        raise _Refused("raw carriage return in the XML")
    # the attribute searches expect double quotes, as writers write them (the XML declaration aside)
    if first and seg.find(b"='", _after_declaration(seg)) >= 0:
        raise _Refused("single-quoted attributes")
    for rx in _ESCAPES:
        if rx.search(seg):
            raise _Refused("_xHHHH_ escape in a string")
    for m in pats["trail"].finditer(seg[::-1]):
        end = len(seg) - m.start() - closing  # where </t> starts
        start = seg.rfind(b"<", 0, end)
        if b"preserve" not in seg[start : seg.find(b">", start)]:
            raise _Refused("string with trailing white space and no xml:space")


def _screen(found: bytes, p: bytes) -> None:
    """Refuse what the screen found, unless it is a formula (those are read cell by cell)."""
    if found.startswith(b"<!"):
        raise _Refused("comment, CDATA or DOCTYPE in the XML")
    kind = found[1 + len(p) : 2 + len(p)]
    if kind == b"t":
        raise _Refused("string with leading white space and no xml:space")
    if kind == b"v":
        raise _Refused("integer beyond 15 digits")


def _coordinate(tag: bytes) -> tuple[int, int]:
    from openpyxl.utils.cell import coordinate_to_tuple

    m = _ATTR_R.search(tag)
    if not m:
        raise _Refused("a cell without its r attribute")
    return coordinate_to_tuple(m.group(1).decode("ascii"))


class _SheetScan:
    """One streamed pass over a worksheet's XML (bytes searches; cells are looked at one by one only
    where a formula, an error or a suspicious number is): what openpyxl would have given for the cells
    calamine reads differently, and whether the sheet can be read fast at all."""

    def __init__(self, archive: zipfile.ZipFile, member: str, date_styles: frozenset[int]):
        from openpyxl.formula.translate import Translator

        self._translator = Translator
        self.date_styles = date_styles
        self.overrides: dict[tuple[int, int], object] = {}  # (row, column) -> openpyxl's value
        self.float_text: set[tuple[int, int]] = set()  # cells in HEADER_ZONE written as 4.0 / 4e0
        self.shared: dict[str, object] = {}  # shared formula index -> Translator of its master cell
        self.zone_open = True
        self.last_row = 0
        p, pieces = _xml_parts(archive, member, b"worksheet", b"row")
        self.p, self.pats, self.closing = p, _patterns(p), len(p) + 4
        self.c_open = b"<" + p + b"c"
        self.row_open = b"<" + p + b"row"
        for n, seg in enumerate(pieces):
            self._scan(seg, n == 0)

    def _cell_at(self, seg: bytes, at: int) -> int:
        start = seg.rfind(self.c_open, 0, at)
        if start < 0 or seg[start + len(self.c_open)] not in b" \t\n/>":
            raise _Refused("cannot find the cell around a formula or value")
        return start

    def _scan(self, seg: bytes, first: bool) -> None:
        _check_text(seg, self.pats, first, self.closing)
        starts = set()
        for m in self.pats["screen"].finditer(seg):
            _screen(m.group(), self.p)
            starts.add(self._cell_at(seg, m.start()))  # a formula
        for m in self.pats["type"].finditer(seg):
            if m.group(1) == b"d":
                raise _Refused("ISO date cells (t=d)")
            starts.add(self._cell_at(seg, m.start()))  # an error
        if self.zone_open:
            self._header_zone(seg)
        if self.date_styles:
            for m in self.pats["date_edge"].finditer(seg):
                start = self._cell_at(seg, m.start())
                style = _ATTR_S.search(seg[start : seg.find(b">", start)])
                if (int(style.group(1)) if style else 0) in self.date_styles:
                    raise _Refused("a date cell openpyxl and calamine convert differently")
        for start in sorted(starts):
            self._formula_or_error(seg, start)

    def _header_zone(self, seg: bytes) -> None:
        """Rows 1..HEADER_ZONE: note which numbers openpyxl gave as float (text with `.`, `e` or `E`)."""
        limit, at = len(seg), seg.find(self.row_open)
        while at >= 0:
            if seg[at + len(self.row_open)] in b" \t\n/>":
                tag = seg[at : seg.find(b">", at)]
                m = _ATTR_R.search(tag)
                self.last_row = int(m.group(1)) if m else self.last_row + 1
                if self.last_row > HEADER_ZONE:
                    limit, self.zone_open = at, False
                    break
            at = seg.find(self.row_open, at + 1)
        for m in self.pats["float"].finditer(seg, 0, limit):
            start = self._cell_at(seg, m.start())
            self.float_text.add(_coordinate(seg[start : seg.find(b">", start)]))

    def _formula_or_error(self, seg: bytes, start: int) -> None:
        """openpyxl's value for this cell: data_only=True (the cached <v>, None if empty or missing) and,
        if that is None, the formula as data_only=False gives it (shared formulas translated)."""
        m = self.pats["cell"].match(seg, start)
        if not m:
            raise _Refused("unparsed cell")
        attrs, body = m.group(1), m.group(2) or b""
        t = _ATTR_T.search(attrs)
        kind = t.group(1) if t else b"n"
        row, column = _coordinate(attrs)
        if kind == b"inlineStr":
            cached: object = "" if self.pats["is"].search(body) else None
        else:
            v = self.pats["v"].search(body)
            cached = _xml_text(v.group(1)) if v and v.group(1) else None
        f = self.pats["f"].search(body)
        formula = None
        if f:
            fattrs = f.group(1) or b""
            ft = _ATTR_T.search(fattrs)
            ftype = ft.group(1) if ft else None
            formula = "=" + (_xml_text(f.group(2)) if f.group(2) else "")
            coord = _ATTR_R.search(attrs).group(1).decode("ascii")
            if ftype in (b"array", b"dataTable"):
                formula = None
            elif ftype == b"shared":
                si = re.search(rb'\ssi="([^"]*)"', fattrs)
                idx = si.group(1).decode() if si else None
                if idx in self.shared:
                    formula = self.shared[idx].translate_formula(coord)
                elif formula != "=":
                    self.shared[idx] = self._translator(formula, coord)
        if cached is None and formula is not None:
            self.overrides[(row, column)] = Uncomputed(formula, row, column)
        elif kind == b"e" and cached is not None:
            self.overrides[(row, column)] = cached


def _scan_shared_strings(archive: zipfile.ZipFile, member: str) -> None:
    p, pieces = _xml_parts(archive, member, b"sst", b"si")
    pats = _patterns(p)
    for n, seg in enumerate(pieces):
        _check_text(seg, pats, n == 0, len(p) + 4)
        for m in pats["screen"].finditer(seg):
            _screen(m.group(), p)
            raise _Refused("a formula in the shared strings")
        if b"x005F_" in seg:  # openpyxl deletes it from shared strings, calamine does not
            raise _Refused("x005F_ in a shared string")


class XlsxSheet:
    def __init__(self, book: XlsxWorkbook, title: str):
        self.book, self.title = book, title


class XlsxWorkbook:
    """An XLSX export open for reading values. `sheets` are the visible worksheets in workbook order;
    `fallbacks` names each sheet read the slow, exact way (openpyxl) and why."""

    def __init__(self, path: Path):
        from openpyxl.reader.excel import ExcelReader
        from openpyxl.xml.constants import SHARED_STRINGS

        class MetaReader(ExcelReader):
            def read_strings(self):  # calamine reads them; openpyxl only needs to know where they are
                ct = self.package.find(SHARED_STRINGS)
                self.strings_path = ct.PartName[1:] if ct is not None else None

        self.path = path
        self.fallbacks: dict[str, str] = {}
        self._calamine = None
        self._exact: tuple | None = None
        self._strings_path: str | None = None
        self._meta = None
        self._workbook_part: str | None = None
        self._book_refused: str | None = None
        self._book_checked = False
        reader = None
        try:
            reader = MetaReader(path, read_only=True, data_only=True)
            reader.read()
            self._meta, self._strings_path = reader.wb, reader.strings_path
            self._workbook_part = reader.parser.workbook_part_name
        except Exception:  # noqa: BLE001 - the exact reader raises what load_workbook raised before
            if reader is not None:
                reader.archive.close()
            self._open_exact()
        book = self._exact[0] if self._meta is None else self._meta
        self.sheets = [
            XlsxSheet(self, ws.title)
            for ws in book.worksheets
            if getattr(ws, "sheet_state", "visible") == "visible"
        ]

    def __enter__(self) -> XlsxWorkbook:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        for wb in (self._meta, *(self._exact or ())):
            if wb is not None:
                wb.close()
        if self._calamine is not None:
            self._calamine.close()
        self._meta = self._exact = self._calamine = None

    # ---- the exact (slow) way: openpyxl twice, cached values and formulas, as before
    def _open_exact(self) -> tuple:
        if self._exact is None:
            import openpyxl

            try:
                self._exact = tuple(
                    openpyxl.load_workbook(self.path, read_only=True, data_only=d) for d in (True, False)
                )
            except Exception as exc:  # openpyxl raises many kinds for broken files
                raise ExportFormatError(f"XLSX cannot be opened: {type(exc).__name__}: {exc}"[:300]) from exc
        return self._exact

    def _exact_rows(self, title: str):
        values, formulas = self._open_exact()
        frows = formulas[title].iter_rows(values_only=True)
        for number, row in enumerate(values[title].iter_rows(values_only=True), start=1):
            frow = next(frows, None) or ()
            if row and None in row and frow:
                row = tuple(
                    Uncomputed(f, number, j + 1)
                    if v is None and j < len(frow) and isinstance(f := frow[j], str) and f.startswith("=")
                    else v
                    for j, v in enumerate(row)
                )
            yield row

    # ---- the fast way
    def _book_refusal(self) -> str | None:
        """Workbook-wide reasons: number formats the two readers turn into dates differently."""
        if self._book_checked:
            return self._book_refused
        self._book_checked = True
        meta = self._meta
        if meta._timedelta_formats:
            self._book_refused = "duration number formats ([h]:mm): calamine rounds them differently"
            return self._book_refused
        archive = meta._archive
        if "xl/styles.xml" in archive.namelist():
            from openpyxl.utils.datetime import from_excel

            probe = _calamine_probe(archive, self._workbook_part, len(meta._cell_styles))
            dates = {i for i, v in probe.items() if not isinstance(v, float | int | str)}
            expected = cell_text(from_excel(_PROBE, meta.epoch))
            if dates != set(meta._date_formats) or any(cell_text(probe[i]) != expected for i in dates):
                self._book_refused = "number formats calamine and openpyxl read differently as dates"
        elif meta._date_formats:
            self._book_refused = "date formats without a stylesheet"
        return self._book_refused

    def _fast_rows(self, title: str) -> list[tuple]:
        import python_calamine

        refused = self._book_refusal()
        if refused:
            raise _Refused(refused)
        ws = self._meta[title]
        width, height = ws.max_column, ws.max_row
        if width is None:
            raise _Refused("no <dimension> in the sheet (openpyxl sizes each row by its own cells)")
        archive = self._meta._archive
        scan = _SheetScan(archive, ws._worksheet_path, frozenset(self._meta._date_formats))
        if self._calamine is None:
            if self._strings_path:
                _scan_shared_strings(archive, self._strings_path)
            self._calamine = python_calamine.CalamineWorkbook.from_path(str(self.path))
        meta = {m.name: m for m in self._calamine.sheets_metadata}.get(title)
        if (
            meta is None
            or meta.visible != python_calamine.SheetVisibleEnum.Visible
            or meta.typ != python_calamine.SheetTypeEnum.WorkSheet
        ):
            raise _Refused("calamine does not see it as a visible worksheet")
        data = self._calamine.get_sheet_by_name(title).to_python(skip_empty_area=False)

        overrides: dict[int, list[tuple[int, object]]] = {}
        last = len(data)
        for (r, c), value in scan.overrides.items():
            if c <= width and (height is None or r <= height):
                overrides.setdefault(r, []).append((c - 1, value))
                last = max(last, r)
        if height is not None:
            last = min(last, height)
        rows = []
        blank = [None] * width
        for i in range(last):
            src = data[i] if i < len(data) else blank
            if len(src) != width:
                src = (src + blank)[:width]
            # calamine: "" for an empty cell, 4.0 for 4, a date for a midnight datetime
            row = [
                (v or None)
                if (c := v.__class__) is str
                else (int(v) if v.is_integer() else v)
                if c is float
                else dt.datetime(v.year, v.month, v.day)
                if c is dt.date
                else v
                for v in src
            ]
            if i < HEADER_ZONE and scan.float_text:
                for j, v in enumerate(src):
                    if (i + 1, j + 1) in scan.float_text and v.__class__ is float:
                        row[j] = v
            for j, value in overrides.get(i + 1, ()):
                row[j] = value
            rows.append(tuple(row))
        return rows

    def rows(self, sheet: XlsxSheet):
        if self._meta is not None and sheet.title not in self.fallbacks:
            try:
                return iter(self._fast_rows(sheet.title))
            except _Refused as exc:
                self.fallbacks[sheet.title] = str(exc)
            except Exception as exc:  # noqa: BLE001 - calamine failed: openpyxl reads it, or says why not
                self.fallbacks[sheet.title] = f"{type(exc).__name__}: {exc}"
            log.info(
                "%s, sheet %r: read with openpyxl (slower): %s",
                self.path.name,
                sheet.title,
                self.fallbacks[sheet.title][:200],
            )
        return self._exact_rows(sheet.title)


def _calamine_probe(archive: zipfile.ZipFile, workbook_part: str, count: int) -> dict[int, object]:
    """What calamine reads the number _PROBE as in each cell style (cellXfs index) of this workbook: it
    reads a probe workbook with this stylesheet and date system, one cell per style."""
    import python_calamine

    m = re.search(rb'\sdate1904="([^"]*)"', archive.read(workbook_part))
    pr = f'<workbookPr date1904="{m.group(1).decode()}"/>' if m else ""
    ns = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    cells = "".join(
        f'<row r="{i + 1}"><c r="A{i + 1}" s="{i}"><v>{_PROBE}</v></c></row>' for i in range(count)
    )
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(
            "[Content_Types].xml",
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
            '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
            "</Types>",
        )
        zf.writestr(
            "_rels/.rels",
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="{rel}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        )
        zf.writestr(
            "xl/workbook.xml",
            f'<workbook {ns} xmlns:r="{rel}">{pr}<sheets><sheet name="probe" sheetId="1" r:id="rId1"/></sheets></workbook>',
        )
        zf.writestr(
            "xl/_rels/workbook.xml.rels",
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="{rel}/worksheet" Target="worksheets/sheet1.xml"/>'
            f'<Relationship Id="rId2" Type="{rel}/styles" Target="styles.xml"/></Relationships>',
        )
        zf.writestr("xl/styles.xml", archive.read("xl/styles.xml"))
        zf.writestr("xl/worksheets/sheet1.xml", f"<worksheet {ns}><sheetData>{cells}</sheetData></worksheet>")
    buf.seek(0)
    with python_calamine.CalamineWorkbook.from_filelike(buf) as probe:
        values = probe.get_sheet_by_index(0).to_python(skip_empty_area=False)
    return {i: row[0] for i, row in enumerate(values) if row}


def open_workbook(path: Path) -> XlsxWorkbook:
    """Open an XLSX for its cached values (formulas are never evaluated); refuses zip bombs first."""
    check_zip(path)
    return XlsxWorkbook(path)


def visible_sheets(workbook: XlsxWorkbook) -> list[XlsxSheet]:
    return list(workbook.sheets)


def sheet_rows(sheet: XlsxSheet):
    """Rows of values (cached results of formulas, never evaluated), every row from 1 on and every column
    from A to the sheet's declared width, None for an empty cell; a formula cell without a cached result
    comes as `Uncomputed` instead of None."""
    return sheet.book.rows(sheet)


def read_xlsx_table(
    con: duckdb.DuckDBPyConnection, path: Path, key_column: str, date_columns: frozenset[str] = frozenset()
) -> list[str]:
    """A machine-column XLSX (surveys, self-report): the header is the first row, within the first 30
    of the first visible sheet that has it, containing `key_column`."""
    with open_workbook(path) as workbook:
        for sheet in visible_sheets(workbook):
            rows = sheet_rows(sheet)
            header: list[str] | None = None
            for _ in range(30):
                row = next(rows, None)
                if row is None:
                    break
                names = [norm_header(v) for v in row]
                if key_column in names:
                    header = unique_names(names)
                    break
            if header is None:
                continue
            flags = [h in date_columns for h in header]
            records = []
            for row in rows:
                if row is None or all(v is None or (isinstance(v, str) and not v.strip()) for v in row):
                    continue
                records.append([cell_text(v, as_date=f) for v, f in zip(row, flags, strict=False)])
            frame = pd.DataFrame(
                records, columns=header[: len(records[0])] if records else header, dtype=object
            )
            for name in header:
                if name not in frame.columns:
                    frame[name] = None
            frame = frame.astype(object).where(frame.notna(), None)
            con.register("_xlsx_frame", frame)
            cols = ", ".join(f"CAST({quote_ident(n)} AS VARCHAR) AS {quote_ident(n)}" for n in header)
            store_export(con, f"SELECT {cols} FROM _xlsx_frame")
            con.unregister("_xlsx_frame")
            return header
    raise ExportFormatError(f"no visible sheet has a header row with column '{key_column}'")
