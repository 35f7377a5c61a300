"""Shared output helpers: atomic writes, Vietnamese number formats, personal-data masking, the Excel
sheet writer (xlsxwriter) and the Jinja environment of the HTML reports."""

from __future__ import annotations

import contextlib
import functools
import os
import re
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
import xlsxwriter
from markupsafe import Markup

TEMPLATES = Path(__file__).with_name("templates")

# A Vietnamese phone number (10 digits starting with 0). The warehouse holds none (surveys' so_dien_thoai
# never reaches it), but every text that goes into a report is masked anyway: defence in depth.
PHONE = re.compile(r"(?<!\d)0\d{9}(?!\d)")
PHONE_MASK = "[đã ẩn]"


@functools.lru_cache(maxsize=65536)  # labels, names and periods repeat on every row of a large sheet
def mask(text: str) -> str:
    return PHONE.sub(PHONE_MASK, text)


# --------------------------------------------------------------------------------------------------
# Atomic writes


@contextlib.contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary path next to `path`; on success it replaces `path` in one rename, so a reader
    never sees a half-written report. On failure the temporary file is removed and `path` untouched."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def write_text(path: Path, text: str) -> Path:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return path


# --------------------------------------------------------------------------------------------------
# Vietnamese number formats (decimal comma, thousands dot)


def _vi(number_text: str) -> str:
    return number_text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")


def fmt_pct(value, digits: int = 1) -> str:
    if value is None:
        return "—"
    return _vi(f"{100 * value:,.{digits}f}") + "%"


def fmt_num(value, digits: int = 2) -> str:
    if value is None:
        return "—"
    return _vi(f"{value:,.{digits}f}")


def fmt_int(value) -> str:
    if value is None:
        return "—"
    return _vi(f"{int(value):,d}")


def fmt_value(value, measure: str | None) -> str:
    """A KPI value: a rank for rank KPIs, a percentage otherwise."""
    if value is None:
        return "—"
    if measure == "rank":
        return f"hạng {value:.0f}"
    return fmt_pct(value)


def fmt_signed(value, digits: int = 2) -> str:
    if value is None:
        return "—"
    text = fmt_num(abs(value), digits) if digits else fmt_int(abs(value))
    return ("+" if value > 0 else "−" if value < 0 else "±") + text


def fmt_bool(value, yes: str = "Đạt", no: str = "Không đạt") -> str:
    if value is None:
        return "—"
    return yes if value else no


# --------------------------------------------------------------------------------------------------
# Excel


@dataclass
class Col:
    header: str
    key: str | Callable[[dict], Any]
    width: float = 14
    kind: str | Callable[[dict], str] = "text"  # text, wrap, int, pct, num, score, signed, rank

    def value(self, row: dict):
        return self.key(row) if callable(self.key) else row.get(self.key)

    def kind_of(self, row: dict) -> str:
        return self.kind(row) if callable(self.kind) else self.kind


_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")


class Book:
    """A workbook written with xlsxwriter: Vietnamese headings, frozen header rows, autofilters."""

    def __init__(self, path: Path):
        # (not constant_memory: at the sizes the row caps allow, shared strings are a third faster and the
        # cell table costs well under 100 MB per workbook)
        self.wb = xlsxwriter.Workbook(str(path), {"nan_inf_to_errors": True, "strings_to_numbers": False})
        self.wb.set_properties({"title": "Báo cáo CCHC tỉnh Nghệ An", "author": "Sở Nội vụ tỉnh Nghệ An"})
        base = {"font_name": "Arial", "font_size": 10, "valign": "top"}
        f = self.wb.add_format
        self.fmt = {
            "title": f({**base, "bold": True, "font_size": 14}),
            "subtitle": f({**base, "italic": True, "font_color": "#444444"}),
            "section": f({**base, "bold": True, "font_size": 12, "font_color": "#1f4e79"}),
            "note": f({**base, "text_wrap": False}),
            "header": f(
                {
                    **base,
                    "bold": True,
                    "bg_color": "#DDEBF7",
                    "border": 1,
                    "text_wrap": True,
                    "valign": "vcenter",
                }
            ),
            "text": f({**base, "border": 1}),
            "wrap": f({**base, "border": 1, "text_wrap": True}),
            "int": f({**base, "border": 1, "num_format": "#,##0"}),
            "pct": f({**base, "border": 1, "num_format": "0.0%"}),
            "num": f({**base, "border": 1, "num_format": "0.00"}),
            "score": f({**base, "border": 1, "num_format": "0.00", "bold": True}),
            "signed": f({**base, "border": 1, "num_format": "+0.00;-0.00;0.00"}),
            "signed_int": f({**base, "border": 1, "num_format": "+0;-0;0"}),
            "rank": f({**base, "border": 1, "num_format": "0"}),
            "general": f({**base, "border": 1}),
            "total": f({**base, "border": 1, "bold": True, "bg_color": "#F2F2F2"}),
        }
        self._names: set[str] = set()

    def sheet(self, name: str) -> Sheet:
        name = _BAD_SHEET_CHARS.sub("-", name)[:31]
        base, n = name, 2
        while name.lower() in self._names:
            suffix = f" ({n})"
            name = base[: 31 - len(suffix)] + suffix
            n += 1
        self._names.add(name.lower())
        return Sheet(self, self.wb.add_worksheet(name))

    def close(self) -> None:
        self.wb.close()


class Sheet:
    def __init__(self, book: Book, ws):
        self.book, self.ws, self.row = book, ws, 0
        self._frozen = False
        self._filtered = False
        self._widths: dict[int, float] = {}

    def title(self, text: str, *subtitles: str) -> Sheet:
        self.ws.write_string(self.row, 0, mask(text), self.book.fmt["title"])
        self.row += 1
        for s in subtitles:
            self.ws.write_string(self.row, 0, mask(s), self.book.fmt["subtitle"])
            self.row += 1
        self.row += 1
        return self

    def section(self, text: str) -> Sheet:
        self.ws.write_string(self.row, 0, mask(text), self.book.fmt["section"])
        self.row += 1
        return self

    def note(self, text: str) -> Sheet:
        self.ws.write_string(self.row, 0, mask(text), self.book.fmt["note"])
        self.row += 1
        return self

    def blank(self, n: int = 1) -> Sheet:
        self.row += n
        return self

    def table(
        self,
        cols: Sequence[Col],
        rows: Sequence[dict],
        *,
        freeze: bool = True,
        autofilter: bool = True,
        total: dict | None = None,
        empty_text: str = "Không có.",
    ) -> Sheet:
        """Header row + one row per item. The first table of a sheet gets the frozen header and the
        autofilter (Excel allows one autofilter per sheet)."""
        fmt = self.book.fmt
        header_row = self.row
        for j, c in enumerate(cols):
            self.ws.write_string(header_row, j, c.header, fmt["header"])
            self._widths[j] = max(self._widths.get(j, 0), c.width)
            self.ws.set_column(j, j, self._widths[j])
        self.ws.set_row(header_row, 30)
        self.row += 1
        if not rows:
            self.ws.write_string(self.row, 0, empty_text, fmt["text"])
            self.row += 1
        if any(callable(c.kind) for c in cols):
            for r in rows:
                self._write_row(cols, r)
        else:
            self._write_rows(cols, rows)
        last = self.row - 1
        if total is not None:
            self._write_row(cols, total, bold=True)
        if freeze and not self._frozen:
            self.ws.freeze_panes(header_row + 1, 0)
            self._frozen = True
        if autofilter and not self._filtered and rows:
            self.ws.autofilter(header_row, 0, last, len(cols) - 1)
            self._filtered = True
        self.row += 1
        return self

    def _write_rows(self, cols: Sequence[Col], rows: Sequence[dict]) -> None:
        """`_write_row` for many rows whose columns have a fixed kind: the per-column work (getter, format,
        is it a number column) is done once, not once per cell."""
        fmt = self.book.fmt
        ws = self.ws
        write_blank, write_string, write_number = ws.write_blank, ws.write_string, ws.write_number
        plan = [
            (j, c.key, callable(c.key), fmt.get(c.kind, fmt["text"]), c.kind not in ("text", "wrap"))
            for j, c in enumerate(cols)
        ]
        row = self.row
        for r in rows:
            for j, key, is_fn, f, numeric in plan:
                v = key(r) if is_fn else r.get(key)
                if v is None or v == "":
                    write_blank(row, j, None, f)
                elif isinstance(v, bool):
                    write_string(row, j, "Có" if v else "Không", f)
                elif numeric and isinstance(v, int | float):
                    write_number(row, j, v, f)
                else:
                    write_string(row, j, mask(str(v)), f)
            row += 1
        self.row = row

    def _write_row(self, cols: Sequence[Col], r: dict, bold: bool = False) -> None:
        fmt = self.book.fmt
        for j, c in enumerate(cols):
            v = c.value(r)
            kind = c.kind_of(r)
            f = fmt["total"] if bold and kind in ("text", "wrap") else fmt.get(kind, fmt["text"])
            if v is None or v == "":
                self.ws.write_blank(self.row, j, None, f)
            elif isinstance(v, bool):
                self.ws.write_string(self.row, j, "Có" if v else "Không", f)
            elif isinstance(v, int | float) and kind not in ("text", "wrap"):
                self.ws.write_number(self.row, j, v, f)
            else:
                self.ws.write_string(self.row, j, mask(str(v)), f)
        self.row += 1


# --------------------------------------------------------------------------------------------------
# HTML


def _finalize(value):
    if value is None:
        return ""
    if isinstance(value, Markup):
        return Markup(mask(str(value)))
    if isinstance(value, str):
        return mask(value)
    return value


@functools.cache
def jinja_env() -> jinja2.Environment:
    """One environment per process: its templates are compiled once, not once per report."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=jinja2.select_autoescape(["html", "j2"], default=True),
        finalize=_finalize,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters.update(
        pct=fmt_pct,
        num=fmt_num,
        int=fmt_int,
        value=fmt_value,
        signed=fmt_signed,
        yesno=fmt_bool,
        date_vi=lambda d: d.strftime("%d/%m/%Y") if d else "—",
    )
    return env


def render(template: str, **context) -> str:
    return jinja_env().get_template(template).render(**context)
