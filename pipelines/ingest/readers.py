"""Read one archived export into a DuckDB temporary table of text columns.

Every format (CSV, JSON, JSON-lines, XLSX) ends up as the same thing: a table `_export` with one
VARCHAR column per header (names normalised: NFC, trimmed, lower case) and `_row` (1-based data-row
number). Typing and validation happen afterwards in SQL, the same way for every format.
Large CSV/JSON files are read by DuckDB itself, never row by row in Python.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import unicodedata
from pathlib import Path

import duckdb

EXPORT_TABLE = "_export"
_EXPORT_DATA = "_export_data"
MAX_LINE_BYTES = 1 << 20  # a CSV line longer than this is refused (DuckDB's max_line_size)


class ExportFormatError(ValueError):
    """The export as a whole cannot be read; the message is the quarantine reason."""


def norm_header(name: object) -> str:
    text = "" if name is None else str(name)
    return unicodedata.normalize("NFC", text.replace("\ufeff", "")).strip().lower()


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def sql_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def unique_names(names: list[str]) -> list[str]:
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
    names = unique_names([norm_header(h) for h in header])
    columns = "{" + ", ".join(f"{sql_literal(n)}: 'VARCHAR'" for n in names) + "}"
    try:
        store_export(
            con,
            f"""SELECT * FROM read_csv({sql_literal(str(path))}, auto_detect = false, header = true,
                              columns = {columns}, delim = {sql_literal(delim)}, quote = '"',
                              escape = '"', strict_mode = true, max_line_size = {MAX_LINE_BYTES},
                              encoding = 'utf-8')""",
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


def store_export(con: duckdb.DuckDBPyConnection, select_sql: str, *, numbered: bool = False) -> None:
    """Keep the rows of `select_sql` as the export just read: `_export`, with `_row` numbering them in
    file order unless the select brings its own (`numbered`).

    DuckDB reads a file on both cores and, as insertion order is preserved, stores the rows in file
    order, so their row ids number them (`row_number() OVER ()` in the read itself ran the whole
    parse on one core: twice as slow). Row ids start at 0, or at a large offset inside a transaction,
    and are contiguous either way; if they ever were not, the rows are numbered in row-id order."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE {_EXPORT_DATA} AS {select_sql}")
    if numbered:
        row = ""
    else:
        first, last, n = con.execute(
            f"SELECT min(rowid), max(rowid), count(*) FROM {_EXPORT_DATA}"
        ).fetchone()
        row = (
            f"rowid - {first or 0} + 1"
            if n == 0 or last - first + 1 == n
            else "row_number() OVER (ORDER BY rowid)"
        )
        row += " AS _row, "
    con.execute(f"CREATE OR REPLACE TEMP VIEW {EXPORT_TABLE} AS SELECT {row}* FROM {_EXPORT_DATA}")


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
        store_export(con, body)
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
        from pipelines.ingest.xlsx import read_xlsx_table

        return read_xlsx_table(con, path, key_column, date_columns)
    raise ExportFormatError(f"unsupported file type '{suffix}' (expected .csv, .json, .jsonl or .xlsx)")
