"""File readers and value parsers of the reference implementation (spec: sources.md, quality.md).

Written from the spec only. Every reader raises ``FileError`` for an export that cannot be parsed as a
whole (quality.md: "a file that cannot be parsed … the export is quarantined"); value parsers raise
``ValueError`` for a value that makes a row bad (the row is quarantined, the rest of the export loads).
"""

from __future__ import annotations

import csv
import io
import json
import re
import unicodedata
from datetime import date, datetime, timedelta, timezone
from fractions import Fraction
from pathlib import Path

VN = timezone(timedelta(hours=7))


class FileError(Exception):
    """The whole export cannot be parsed."""


# ---------------------------------------------------------------------------------------------- text


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def decode(data: bytes) -> str:
    """UTF-8, an optional BOM dropped; anything else (e.g. Windows-1258) is a file that cannot be read."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FileError(f"not UTF-8: {exc}") from exc


def cell_str(value: object) -> str:
    """A cell or JSON value as the text it stands for (XLSX numbers: 4.0 is 4)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return nfc(str(value)).strip()


# ---------------------------------------------------------------------------------------------- tables


def _check_columns(header: list[str], required: tuple[str, ...]) -> None:
    missing = [c for c in required if c not in header]
    if missing:
        raise FileError(f"missing required columns {missing}")


def read_csv(data: bytes, required: tuple[str, ...]) -> list[dict[str, object]]:
    text = decode(data)
    try:
        records = list(csv.reader(io.StringIO(text, newline=""), strict=True))
    except csv.Error as exc:
        raise FileError(f"CSV does not parse: {exc}") from exc
    records = [r for r in records if r and any(c.strip() for c in r)]
    if not records:
        raise FileError("empty file")
    header = [nfc(h).strip() for h in records[0]]
    _check_columns(header, required)
    rows = []
    for rec in records[1:]:
        # AMBIGUOUS: a record whose field count differs from the header's (a file cut in the middle of a
        # row) makes the export "truncated", i.e. a file that cannot be parsed — not just a bad row.
        if len(rec) != len(header):
            raise FileError("truncated or malformed CSV (a record's field count differs from the header)")
        rows.append(dict(zip(header, rec, strict=True)))
    return rows


def read_json(data: bytes, required: tuple[str, ...]) -> list[dict[str, object]]:
    """A JSON export: a list of row objects, or the API's ``{"items": [...]}`` page."""
    text = decode(data)
    try:
        payload = json.loads(text)
    except json.JSONDecodeError as exc:
        raise FileError(f"JSON does not parse: {exc}") from exc
    if isinstance(payload, dict) and isinstance(payload.get("items"), list):
        payload = payload["items"]
    if not isinstance(payload, list) or not all(isinstance(r, dict) for r in payload):
        raise FileError("JSON is not a list of row objects")
    return _json_rows(payload, required)


def read_jsonl(data: bytes, required: tuple[str, ...]) -> list[dict[str, object]]:
    text = decode(data)
    rows = []
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise FileError(f"JSON line does not parse: {exc}") from exc
        if not isinstance(obj, dict):
            raise FileError("JSON line is not an object")
        rows.append(obj)
    return _json_rows(rows, required)


def _json_rows(rows: list[dict], required: tuple[str, ...]) -> list[dict[str, object]]:
    out = []
    for r in rows:
        missing = [c for c in required if c not in r]
        if missing:
            raise FileError(f"missing required fields {missing}")
        out.append({nfc(str(k)).strip(): v for k, v in r.items()})
    return out


def _load_workbook(data: bytes):
    import openpyxl

    try:
        return openpyxl.load_workbook(io.BytesIO(data), data_only=True)
    except Exception as exc:  # noqa: BLE001 - any failure to open is "cannot be parsed"
        raise FileError(f"XLSX does not open: {exc}") from exc


def read_xlsx_table(data: bytes, required: tuple[str, ...]) -> list[dict[str, object]]:
    """A plain tabular XLSX export: header on the first non-empty row of the first sheet."""
    wb = _load_workbook(data)
    ws = wb.worksheets[0]
    records = [list(r) for r in ws.iter_rows(values_only=True)]
    records = [r for r in records if any(cell_str(c) for c in r)]
    if not records:
        raise FileError("empty workbook")
    header = [cell_str(h) for h in records[0]]
    _check_columns(header, required)
    rows = []
    for rec in records[1:]:
        rec = rec + [None] * (len(header) - len(rec))
        rows.append({h: v for h, v in zip(header, rec, strict=False) if h})
    return rows


def read_table(path: Path, data: bytes, required: tuple[str, ...]) -> list[dict[str, object]]:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return read_csv(data, required)
    if suffix == ".json":
        return read_json(data, required)
    if suffix == ".jsonl":
        return read_jsonl(data, required)
    if suffix == ".xlsx":
        return read_xlsx_table(data, required)
    raise FileError(f"unsupported file type {suffix}")


# ---------------------------------------------------------------------------------------------- values


def parse_count(value: object, *, blank_zero: bool = False) -> int:
    """A non-negative integer count. An XLSX/JSON 4.0 is the integer 4."""
    if isinstance(value, bool):
        raise ValueError("boolean count")
    if isinstance(value, int):
        n = value
    elif isinstance(value, float):
        if not value.is_integer():
            raise ValueError(f"non-integer count {value!r}")
        n = int(value)
    else:
        s = cell_str(value)
        if s == "":
            if blank_zero:
                return 0
            raise ValueError("blank count")
        # AMBIGUOUS: a text "4.0" (CSV) is read as the integer 4, like the XLSX 4.0 of quality.md;
        # "2.5" is a non-integer count, "1O" a number that does not parse.
        m = re.fullmatch(r"[+-]?\d+(\.0*)?", s)
        if not m:
            if re.fullmatch(r"[+-]?(\d+\.\d*|\.\d+)([eE][+-]?\d+)?", s):
                raise ValueError(f"non-integer count {s!r}")
            raise ValueError(f"count does not parse {s!r}")
        n = int(s.split(".")[0])
    if n < 0:
        raise ValueError(f"negative count {n}")
    return n


def parse_int(value: object) -> int:
    """An integer of any sign (years, ranks, amounts)."""
    if isinstance(value, bool):
        raise ValueError("boolean")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError(f"not an integer {value!r}")
        return int(value)
    s = cell_str(value)
    if not re.fullmatch(r"[+-]?\d+(\.0*)?", s):
        raise ValueError(f"not an integer {s!r}")
    return int(s.split(".")[0])


def parse_decimal(value: object) -> Fraction:
    """A decimal number (self-report numerators and denominators), kept exact."""
    if isinstance(value, bool):
        raise ValueError("boolean")
    if isinstance(value, int):
        return Fraction(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError("not finite")
        return Fraction(repr(value))
    s = cell_str(value)
    if not re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?", s):
        raise ValueError(f"number does not parse {s!r}")
    return Fraction(s)


def parse_date(value: object) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    s = cell_str(value)
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", s):
        raise ValueError(f"date does not parse {s!r}")
    return date.fromisoformat(s)


def parse_optional_date(value: object) -> date | None:
    return None if cell_str(value) == "" else parse_date(value)


def parse_timestamp(value: object) -> datetime:
    """A local (Asia/Ho_Chi_Minh) naive datetime; a timestamp with an offset is converted."""
    if isinstance(value, datetime):
        ts = value
    elif isinstance(value, date):
        ts = datetime(value.year, value.month, value.day)
    else:
        s = cell_str(value)
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}([T ].*)?", s):
            raise ValueError(f"timestamp does not parse {s!r}")
        try:
            ts = datetime.fromisoformat(s)
        except ValueError as exc:
            raise ValueError(f"timestamp does not parse {s!r}") from exc
    if ts.tzinfo is not None:
        ts = ts.astimezone(VN).replace(tzinfo=None)
    return ts


def parse_month(value: object) -> tuple[int, int]:
    s = cell_str(value)
    m = re.fullmatch(r"(\d{4})-(\d{2})", s)
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise ValueError(f"period does not parse {s!r}")
    return int(m.group(1)), int(m.group(2))


# ---------------------------------------------------------------------------------------------- Biểu II.06a

BIEU_COUNT_COLUMNS = 11  # (3) … (13)
_PERIOD_MONTH = re.compile(r"tháng\s*(\d{1,2})\s*/\s*(\d{4})")
_PERIOD_RANGE = re.compile(r"từ\s+ngày\s*(\d{1,2})\s*/\s*(\d{1,2})\s*/\s*(\d{4})")
_DATE_LINE = re.compile(r"ngày\s*(\d{1,2})\s*tháng\s*(\d{1,2})\s*năm\s*(\d{4})")


def _is_positive_int(value: object) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return value > 0
    if isinstance(value, float):
        return value.is_integer() and value > 0
    s = cell_str(value)
    return bool(re.fullmatch(r"\d+", s)) and int(s) > 0


def read_bieu(data: bytes) -> dict[str, object]:
    """A Biểu II.06a workbook: its period, its date line (or None) and its data rows.

    Returns ``{"period": (y, m), "date": date | None, "rows": [(name, [11 raw cells (3)…(13)]), …]}``.
    """
    wb = _load_workbook(data)
    for ws in wb.worksheets:
        grid = [list(r) for r in ws.iter_rows(values_only=True)]
        header_at = None
        stt_col = 0
        for i, row in enumerate(grid):
            for j, c in enumerate(row):
                if cell_str(c).casefold() == "stt":
                    header_at, stt_col = i, j
                    break
            if header_at is not None:
                break
        if header_at is None:
            continue
        period = None
        report_date = None
        for row in grid[:header_at]:
            for c in row:
                text = nfc(cell_str(c)).casefold()
                if not text:
                    continue
                m = _DATE_LINE.search(text)
                if m:
                    if report_date is None:
                        try:
                            report_date = date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
                        except ValueError:
                            report_date = None
                    continue
                if period is None:
                    m = _PERIOD_RANGE.search(text)
                    if m:
                        period = (int(m.group(3)), int(m.group(2)))
                        continue
                    m = _PERIOD_MONTH.search(text)
                    if m:
                        period = (int(m.group(2)), int(m.group(1)))
        if period is None or not 1 <= period[1] <= 12:
            raise FileError("Biểu II.06a without a readable reporting period")
        rows = []
        for row in grid[header_at + 1 :]:
            row = row + [None] * (stt_col + 13 - len(row))
            if not _is_positive_int(row[stt_col]):
                continue
            name = cell_str(row[stt_col + 1])
            counts = row[stt_col + 2 : stt_col + 2 + BIEU_COUNT_COLUMNS]
            rows.append((name, counts))
        return {"period": period, "date": report_date, "rows": rows}
    raise FileError("no Biểu II.06a header (STT) found")


# ---------------------------------------------------------------------------------------------- names

_TONES = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}  # huyền, sắc, ngã, hỏi, nặng


def _syllable(word: str) -> str:
    """Old and new tone-mark placement made one: the tone mark is moved to the end of the syllable."""
    decomposed = unicodedata.normalize("NFD", word)
    tones = "".join(ch for ch in decomposed if ch in _TONES)
    base = "".join(ch for ch in decomposed if ch not in _TONES)
    return unicodedata.normalize("NFC", base) + tones


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFC", text).casefold()
    return " ".join(_syllable(w) for w in text.split())


_PREFIXES = [_fold("UBND"), _fold("Ủy ban nhân dân")]


def name_key(name: str) -> str:
    """sources.md 'Name resolution': NFC, tone placement, case, spaces, a leading UBND dropped."""
    key = _fold(name)
    for prefix in _PREFIXES:
        if key == prefix:
            return ""
        if key.startswith(prefix + " "):
            return key[len(prefix) + 1 :]
    return key
