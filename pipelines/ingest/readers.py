"""Read one archived export into a DuckDB temporary table of text columns.

Every format (CSV, JSON, JSON-lines, XLSX) ends up as the same thing: a table `_export` with one
VARCHAR column per header (names normalised: NFC, trimmed, lower case) and `_row` (1-based data-row
number). Typing and validation happen afterwards in SQL, the same way for every format.
Large CSV/JSON files are read by DuckDB itself, never row by row in Python.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import json
import unicodedata
import zipfile
from pathlib import Path

import duckdb
import pandas as pd

EXPORT_TABLE = "_export"
MAX_XLSX_UNCOMPRESSED = 400 * 1024 * 1024
MAX_XLSX_RATIO = 200
MAX_LINE_BYTES = 1 << 20  # a CSV line longer than this is refused (DuckDB's max_line_size)
MAX_CELL_CHARS = 32_767  # Excel's own cell limit; anything longer is not a real export
EXCEL_EPOCH = dt.datetime(1899, 12, 30)


class ExportFormatError(ValueError):
    """The export as a whole cannot be read; the message is the quarantine reason."""


def norm_header(name: object) -> str:
    text = "" if name is None else str(name)
    return unicodedata.normalize("NFC", text.replace("\ufeff", "")).strip().lower()


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def sql_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _unique(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for i, name in enumerate(names):
        name = name or f"_col{i + 1}"
        if name in seen:
            seen[name] += 1
            name = f"{name}_{seen[name]}"
        else:
            seen[name] = 0
        out.append(name)
    return out


def _head_text(path: Path, limit: int = 1 << 16) -> str:
    raw = path.open("rb").read(limit)
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise ExportFormatError("file is UTF-16 encoded; exports must be UTF-8")
    if b"\x00" in raw:
        # UTF-16 without a BOM: text whose every other byte is NUL; say so rather than "binary"
        sample, half = raw[:4096], len(raw[:4096]) // 2
        zeros = sorted((sample[0::2].count(0), sample[1::2].count(0)))
        if half >= 4 and zeros[1] >= 0.9 * half and zeros[0] <= 0.1 * half:
            raise ExportFormatError("file looks UTF-16 encoded (no BOM); exports must be UTF-8")
        raise ExportFormatError("file is binary, not text (not a CSV/JSON export)")
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    try:
        return decoder.decode(raw, final=False)
    except UnicodeDecodeError as exc:
        raise ExportFormatError(f"file is not UTF-8 text ({exc.reason} at byte {exc.start})") from exc


def read_csv(con: duckdb.DuckDBPyConnection, path: Path) -> list[str]:
    head = _head_text(path)
    first_line = head.lstrip("\ufeff").splitlines()[0] if head.strip() else ""
    if not first_line.strip():
        raise ExportFormatError("file is empty (no header row)")
    delim = ";" if first_line.count(";") > first_line.count(",") else ","
    header = next(csv.reader(io.StringIO(first_line), delimiter=delim))
    names = _unique([norm_header(h) for h in header])
    columns = "{" + ", ".join(f"{sql_literal(n)}: 'VARCHAR'" for n in names) + "}"
    try:
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE {EXPORT_TABLE} AS
                SELECT row_number() OVER () AS _row, *
                FROM read_csv({sql_literal(str(path))}, auto_detect = false, header = true,
                              columns = {columns}, delim = {sql_literal(delim)}, quote = '"',
                              escape = '"', strict_mode = true, max_line_size = {MAX_LINE_BYTES},
                              encoding = 'utf-8')"""
        )
    except duckdb.Error as exc:
        # DuckDB reports a line over max_line_size as a vague "invalid state": name the line instead.
        long = _first_long_line(path, MAX_LINE_BYTES)
        if long:
            raise ExportFormatError(
                f"CSV cannot be parsed: line {long[0]} is {long[1]} bytes long "
                f"(maximum line size {MAX_LINE_BYTES} bytes)"
            ) from exc
        raise ExportFormatError(f"CSV cannot be parsed: {_first_line(exc)}") from exc
    return names


def _first_long_line(path: Path, limit: int) -> tuple[int, int] | None:
    """(line number, length) of the first physical line longer than `limit` bytes, read in chunks."""
    number, length = 1, 0
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            for i, part in enumerate(chunk.split(b"\n")):
                if i:
                    if length > limit:
                        return number, length
                    number, length = number + 1, 0
                length += len(part)
    return (number, length) if length > limit else None


def _first_line(exc: Exception) -> str:
    """DuckDB's message without the offending line's content (it may hold personal data) and without
    its advice section: what and where, in one line."""
    lines = []
    for line in (ln.strip() for ln in str(exc).splitlines()):
        if not line or line.startswith("Original Line"):
            continue
        if line.startswith(("Possible", "*", "LINE ")):
            break
        lines.append(line)
    return " ".join(lines)[:300]


def read_json(con: duckdb.DuckDBPyConnection, path: Path, columns: list[str]) -> list[str]:
    """JSON array, `{"items": [...]}` (the APIs' answer, and an HTTP pull), or JSON lines."""
    head = _head_text(path).lstrip("\ufeff").lstrip()
    if not head:
        raise ExportFormatError("file is empty")
    names = [norm_header(c) for c in columns]
    cols = "{" + ", ".join(f"{sql_literal(n)}: 'VARCHAR'" for n in names) + "}"
    src = sql_literal(str(path))
    try:
        if head.startswith("["):
            body = f"SELECT * FROM read_json({src}, format = 'array', columns = {cols})"
        elif head.startswith("{") and path.suffix.lower() == ".json" and _is_wrapper(head):
            struct = "STRUCT(" + ", ".join(f"{quote_ident(n)} VARCHAR" for n in names) + ")[]"
            # the whole document is one JSON object: size DuckDB's buffer to it, not to a fixed 1 GiB
            object_size = max(16 << 20, path.stat().st_size + (1 << 20))
            body = (
                f"SELECT unnest(items, recursive := true) FROM read_json({src}, format = 'unstructured', "
                f"columns = {{'items': {sql_literal(struct)}}}, maximum_object_size = {object_size})"
            )
        elif head.startswith("{"):
            body = f"SELECT * FROM read_json({src}, format = 'newline_delimited', columns = {cols})"
        else:
            raise ExportFormatError(
                "file is not JSON (expected an array, an object with items, or JSON lines)"
            )
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {EXPORT_TABLE} AS SELECT row_number() OVER () AS _row, * FROM ({body})"
        )
    except duckdb.Error as exc:
        raise ExportFormatError(f"JSON cannot be parsed: {_first_line(exc)}") from exc
    return names


def _is_wrapper(head: str) -> bool:
    """`{"items": [...]}` rather than JSON lines: the first line is not a complete object of its own,
    or it is one that carries `items`."""
    first = head.splitlines()[0]
    try:
        obj = json.loads(first)
    except ValueError:
        return True
    return isinstance(obj, dict) and "items" in obj


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


def sheet_rows(sheet, formula_sheet):
    """Rows of values (cached results of formulas, never evaluated); a formula cell without a cached
    result comes as `Uncomputed` instead of None. Both read-only sheets yield every row from 1 on."""
    formulas = formula_sheet.iter_rows(values_only=True)
    for number, row in enumerate(sheet.iter_rows(values_only=True), start=1):
        frow = next(formulas, None) or ()
        if row and None in row and frow:
            row = tuple(
                Uncomputed(f, number, j + 1)
                if v is None and j < len(frow) and isinstance(f := frow[j], str) and f.startswith("=")
                else v
                for j, v in enumerate(row)
            )
        yield row


def cell_text(value: object, *, as_date: bool = False) -> str | None:
    """Text of an XLSX cell as a CSV would carry it (an XLSX `4.0` is the integer 4)."""
    if value is None:
        return None
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


def open_workbook(path: Path, *, data_only: bool = True):
    """Open an XLSX read-only with cached values (formulas are never evaluated); with data_only=False,
    formulas as their text (to tell a formula saved without its value from a blank cell)."""
    import openpyxl

    check_zip(path)
    try:
        return openpyxl.load_workbook(path, read_only=True, data_only=data_only)
    except Exception as exc:  # openpyxl raises many kinds for broken files
        raise ExportFormatError(f"XLSX cannot be opened: {type(exc).__name__}: {exc}"[:300]) from exc


def visible_sheets(workbook) -> list:
    return [ws for ws in workbook.worksheets if getattr(ws, "sheet_state", "visible") == "visible"]


def read_xlsx_table(
    con: duckdb.DuckDBPyConnection, path: Path, key_column: str, date_columns: frozenset[str] = frozenset()
) -> list[str]:
    """A machine-column XLSX (surveys, self-report): the header is the first row, within the first 30
    of the first visible sheet that has it, containing `key_column`."""
    workbook = open_workbook(path)
    formulas = open_workbook(path, data_only=False)
    try:
        for sheet in visible_sheets(workbook):
            rows = sheet_rows(sheet, formulas[sheet.title])
            header: list[str] | None = None
            for _ in range(30):
                row = next(rows, None)
                if row is None:
                    break
                names = [norm_header(v) for v in row]
                if key_column in names:
                    header = _unique(names)
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
            con.execute(
                f"CREATE OR REPLACE TEMP TABLE {EXPORT_TABLE} AS "
                f"SELECT row_number() OVER () AS _row, {cols} FROM _xlsx_frame"
            )
            con.unregister("_xlsx_frame")
            return header
    finally:
        workbook.close()
        formulas.close()
    raise ExportFormatError(f"no visible sheet has a header row with column '{key_column}'")


def read_machine_export(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    columns: list[str],
    key_column: str,
    date_columns: frozenset[str] = frozenset(),
) -> list[str]:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return read_csv(con, path)
    if suffix in (".json", ".jsonl", ".ndjson"):
        return read_json(con, path, columns)
    if suffix in (".xlsx", ".xlsm"):
        return read_xlsx_table(con, path, key_column, date_columns)
    raise ExportFormatError(f"unsupported file type '{suffix}' (expected .csv, .json, .jsonl or .xlsx)")
