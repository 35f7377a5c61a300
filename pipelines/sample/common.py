"""Small shared helpers: month arithmetic, seeded samplers and deterministic file writers.

Everything here is deterministic on purpose: the generator must produce byte-identical files for the same
arguments, so there is no wall clock, no hash randomisation and no unordered iteration in this package.
"""

from __future__ import annotations

import csv
import io
import json
import math
import random
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

VN_TZ = timezone(timedelta(hours=7), "Asia/Ho_Chi_Minh")
FIRST_YM: tuple[int, int] = (2021, 1)
REPORT_LAG_DAYS = 10  # kpis.md: a month's deadline is its last day + 10 days

YM = tuple[int, int]


def today_vn() -> date:
    """The default as-of date: today in Asia/Ho_Chi_Minh (no DST there, so a fixed +07:00 is exact)."""
    return datetime.now(VN_TZ).date()


def ym_next(ym: YM) -> YM:
    y, m = ym
    return (y + 1, 1) if m == 12 else (y, m + 1)


def ym_prev(ym: YM) -> YM:
    y, m = ym
    return (y - 1, 12) if m == 1 else (y, m - 1)


def ym_str(ym: YM) -> str:
    return f"{ym[0]:04d}-{ym[1]:02d}"


def ym_of(d: date) -> YM:
    return (d.year, d.month)


def month_first(ym: YM) -> date:
    return date(ym[0], ym[1], 1)


def month_last(ym: YM) -> date:
    return month_first(ym_next(ym)) - timedelta(days=1)


def days_in_month(ym: YM) -> int:
    return month_last(ym).day


def deadline(ym: YM) -> date:
    return month_last(ym) + timedelta(days=REPORT_LAG_DAYS)


def ym_range(first: YM, last: YM) -> list[YM]:
    out: list[YM] = []
    ym = first
    while ym <= last:
        out.append(ym)
        ym = ym_next(ym)
    return out


def last_expected_month(as_of: date) -> YM:
    """Latest month whose reporting deadline is strictly before ``as_of`` (kpis.md, 'expected')."""
    ym = ym_of(as_of)
    while deadline(ym) >= as_of:
        ym = ym_prev(ym)
    return ym


def rng_for(seed: int, *parts: object) -> random.Random:
    """A Random seeded from a string: str seeds go through SHA-512, so this is stable across processes."""
    return random.Random(":".join([str(seed), *map(str, parts)]))


def poisson(rng: random.Random, lam: float) -> int:
    if lam <= 0:
        return 0
    if lam < 30:
        u = rng.random()
        p = math.exp(-lam)
        s = p
        k = 0
        while u > s and k < 400:
            k += 1
            p *= lam / k
            s += p
        return k
    return max(0, int(round(lam + math.sqrt(lam) * rng.gauss(0.0, 1.0))))


def binomial(rng: random.Random, n: int, p: float) -> int:
    """Exact for small ``n``; Poisson tails for rare/near-certain events, normal in between."""
    if n <= 0 or p <= 0:
        return 0
    if p >= 1:
        return n
    if n < 25:  # inverse transform: one uniform draw
        q = 1.0 - p
        u = rng.random()
        pk = q**n
        cdf = pk
        k = 0
        ratio = p / q
        while u > cdf and k < n:
            pk *= ratio * (n - k) / (k + 1)
            k += 1
            cdf += pk
        return k
    if n * p < 10:
        return min(n, poisson(rng, n * p))
    if n * (1 - p) < 10:
        return n - min(n, poisson(rng, n * (1 - p)))
    mean = n * p
    sd = math.sqrt(mean * (1 - p))
    return min(n, max(0, int(round(mean + sd * rng.gauss(0.0, 1.0)))))


def split_total(rng: random.Random, total: int, weights: list[float]) -> list[int]:
    """Multinomial split of ``total`` over ``weights`` (sequential binomials, largest weight last).

    Drawing a unit's monthly total first (with bounded noise) and then splitting it keeps unit totals
    smooth, as real workloads are, so the spec's robust outlier rule flags injected outliers, not noise.
    """
    out = [0] * len(weights)
    order = sorted(range(len(weights)), key=lambda i: (weights[i], i))
    left_w = sum(weights)
    left = total
    for k, i in enumerate(order):
        if left <= 0:
            break
        if k == len(order) - 1 or left_w <= 0:
            out[i] = left
            break
        n = binomial(rng, left, weights[i] / left_w)
        out[i] = n
        left -= n
        left_w -= weights[i]
    return out


def clamp(x: float, lo: float, hi: float) -> float:
    return lo if x < lo else hi if x > hi else x


def interp_by_year(table: dict[int, float], t: float) -> float:
    """Linear interpolation of a yearly curve at fractional year ``t`` (2023.5 = mid-2023)."""
    years = sorted(table)
    if t <= years[0]:
        return table[years[0]]
    if t >= years[-1]:
        return table[years[-1]]
    for a, b in zip(years, years[1:], strict=False):
        if a <= t <= b:
            return table[a] + (table[b] - table[a]) * (t - a) / (b - a)
    return table[years[-1]]


def year_frac(ym: YM) -> float:
    return ym[0] + (ym[1] - 0.5) / 12


def fmt_ts(d: date, seconds_of_day: int, offset: bool = False) -> str:
    h, rem = divmod(seconds_of_day, 3600)
    mi, s = divmod(rem, 60)
    return f"{d.isoformat()}T{h:02d}:{mi:02d}:{s:02d}" + ("+07:00" if offset else "")


def cell(value: object) -> str:
    if value is None:
        return ""
    return str(value)


class CsvOut:
    """Streams rows to a CSV file (UTF-8, optional BOM / CRLF) and counts them."""

    def __init__(self, path: Path, header: Sequence[str], *, bom: bool = False, crlf: bool = False):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._fh = open(path, "w", encoding="utf-8-sig" if bom else "utf-8", newline="")  # noqa: SIM115
        self.writer = csv.writer(self._fh, lineterminator="\r\n" if crlf else "\n")
        self.writer.writerow(header)
        self.header = list(header)
        self.rows = 0

    def write(self, row: Sequence[object]) -> None:
        self.writer.writerow(row)  # csv writes None as an empty field
        self.rows += 1

    def write_dict(self, row: dict[str, object]) -> None:
        self.writer.writerow([row.get(c) for c in self.header])
        self.rows += 1

    def close(self) -> None:
        self._fh.close()

    def __enter__(self) -> CsvOut:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def write_csv(
    path: Path,
    header: Sequence[str],
    rows: Iterable[Sequence[object]],
    *,
    bom: bool = False,
    crlf: bool = False,
) -> int:
    with CsvOut(path, header, bom=bom, crlf=crlf) as out:
        for row in rows:
            out.write(row)
        return out.rows


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[object]]) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    for row in rows:
        w.writerow([cell(v) for v in row])
    return buf.getvalue().encode("utf-8")


def write_json_rows(path: Path, rows: Sequence[dict[str, object]], *, wrap_items: bool) -> int:
    """One object per line inside the array, so the file stays diff-able; both API shapes are produced."""
    path.parent.mkdir(parents=True, exist_ok=True)
    body = ",\n".join(json.dumps(r, ensure_ascii=False) for r in rows)
    if wrap_items:
        text = '{"items": [\n' + body + "\n]}\n"
    else:
        text = "[\n" + body + "\n]\n"
    path.write_text(text, encoding="utf-8")
    return len(rows)
