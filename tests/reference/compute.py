"""Reference implementation of the marts (spec: kpis.md, quality.md, ranking.md, interface.md).

Independent of the pipeline: written from /work/shared/spec only, pure Python, exact arithmetic
(``Fraction``) inside, floats only in the returned rows. ``compute`` returns ``{mart: [row, …]}``.
Every ``# AMBIGUOUS:`` comment marks a reading of the spec the lead may want to compare with the pipeline.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from fractions import Fraction
from pathlib import Path

from .load import (
    PENDING,
    RECEIVED,
    RESOLVED,
    YM,
    DossierRow,
    Loaded,
    Payment,
    Survey,
    deadline,
    load,
    ym_add,
    ym_str,
)
from .targets import PROGRAM_TARGETS_CSV

FIRST_YEAR = 2021
RANKING_GROUPS = ("so_nganh", "nganh_doc", "ubnd_huyen", "ubnd_xa")
MONTHLY_KPIS = ("on_time_rate", "online_dossier_rate", "online_payment_txn_rate")
SATISFACTION = {
    "satisfaction_procedures": ("sipas", None),
    "satisfaction_land_construction_investment": ("sipas", {"dat_dai", "xay_dung", "dau_tu"}),
    "satisfaction_admin_agencies": ("cqhc", None),
    "satisfaction_health": ("y_te", None),
    "satisfaction_education": ("giao_duc", None),
}
RANK_KPIS = {
    "par_index_national_rank": "PAR_INDEX",
    "papi_national_rank": "PAPI",
    "pci_national_rank": "PCI",
    "ict_index_national_rank": "ICT_INDEX",
}
CATALOGUE_KPIS = ("procedures_simplified_rate", "online_eligible_procedures_provided_rate")
SEVERITY = {
    "missing": "warning",
    "late": "warning",
    "invalid": "error",
    "unknown_unit": "error",
    "inconsistent": "warning",
    "outlier": "warning",
    "small_sample": "warning",
    "cross_source": "warning",
    "revised": "warning",
}
# ranking.md: component, KPI, max points, full points at (a number, or the KPI whose milestone target it is)
COMPONENTS = (
    ("tien_do", "on_time_rate", 30, Fraction(1)),
    ("truc_tuyen", "online_dossier_rate", 20, "online_dossier_rate"),
    ("thanh_toan", "online_payment_txn_rate", 15, "online_payment_txn_rate"),
    ("hai_long", "satisfaction_procedures", 20, "satisfaction_procedures"),
    ("bao_cao", None, 15, Fraction(1)),
)


def targets_table() -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(PROGRAM_TARGETS_CSV)))


def _frac(num, den) -> Fraction | None:
    return None if not den else Fraction(num) / Fraction(den)


def _f(x) -> float | None:
    return None if x is None else float(x)


def _num_out(x):
    """Numerators/denominators as plain numbers (ints stay ints)."""
    if x is None:
        return None
    if isinstance(x, Fraction):
        return x.numerator if x.denominator == 1 else float(x)
    return x


def _median(xs: list[Fraction]) -> Fraction:
    s = sorted(xs)
    n = len(s)
    return s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2


def _round_half_away(x: Fraction, places: int = 2) -> Fraction:
    scale = 10**places
    q = abs(x) * scale
    n = (q + Fraction(1, 2)).__floor__()
    return Fraction(n if x >= 0 else -n, scale)


@dataclass
class UnitMonth:
    """A dossier unit-month after the version rule: its winning version's loaded rows, and its status."""

    versions: int = 0
    kinds: dict[str, str] = field(default_factory=dict)
    winner_kind: str | None = None
    loaded: list[DossierRow] = field(default_factory=list)
    received: bool = False
    first_date: datetime | None = None
    has_quarantined: bool = False  # any version (quality.md: 'a unit-month … with a quarantined row')

    @property
    def has_rows(self) -> bool:
        return bool(self.loaded)

    def total(self, cols) -> int:
        return sum(r.counts[c] for r in self.loaded for c in cols)  # type: ignore[index]


def compute(
    sources: Path,
    as_of: date,
    final_years=frozenset(),
    completeness_threshold: float = 0.9,
) -> dict[str, list[dict]]:
    return Reference(
        Path(sources), as_of, frozenset(int(y) for y in final_years), completeness_threshold
    ).run()


class Reference:
    def __init__(self, sources: Path, as_of: date, final_years: frozenset[int], threshold: float):
        self.as_of = as_of
        self.final_years = final_years
        self.threshold = Fraction(str(threshold))
        self.targets = {t["kpi_code"]: t for t in targets_table()}
        self.self_codes = [t["kpi_code"] for t in targets_table() if t["source_kind"] == "self_report"]
        self.data: Loaded = load(sources, as_of, set(self.self_codes))
        self.units = self.data.units
        self.procs = self.data.procs
        # kpis.md Conventions: the programme's years are 2021 … the as-of year
        self.years = list(range(FIRST_YEAR, as_of.year + 1))
        self.expected_months = [(y, m) for y in self.years for m in range(1, 13) if deadline((y, m)) < as_of]
        self.expected_set = set(self.expected_months)
        self.unit_kpis = [
            *MONTHLY_KPIS,
            "online_payment_coverage",
            *SATISFACTION,
            *self.self_codes,
            "reporting_completeness",
            "reporting_timeliness",
        ]
        self.province_kpis = sorted(
            {*self.targets, "on_time_rate", "reporting_completeness", "reporting_timeliness"}
        )

    # ------------------------------------------------------------------------------------ time
    def year_over(self, y: int) -> bool:
        return deadline((y, 12)) < self.as_of

    def year_last_day(self, y: int) -> date:
        # AMBIGUOUS: the year in progress ends (for catalogue dates) at the as-of date; min() keeps a year
        # that is not yet "over" but whose 31 December has passed (as-of 1–10 January) at 31 December.
        return min(date(y, 12, 31), self.as_of)

    def in_years(self, ym: YM) -> bool:
        return FIRST_YEAR <= ym[0] <= self.as_of.year

    # ------------------------------------------------------------------------------------ run
    def run(self) -> dict[str, list[dict]]:
        self.build_unit_months()
        self.build_payments()
        self.build_surveys()
        self.build_self_report()
        marts: dict[str, list[dict]] = {}
        marts["kpi_unit_month"] = self.kpi_unit_month()
        self.unit_year = self.kpi_unit_year_values()
        marts["kpi_unit_year"] = [
            self._kpi_row({"year": y, "unit_code": u, "kpi_code": k}, n, d)
            for (y, u, k), (n, d) in sorted(self.unit_year.items())
        ]
        marts["kpi_unit_year_current_map"] = self.current_map()
        self.province = self.province_values()
        marts["kpi_province_year"] = self.kpi_province_year()
        marts["reporting_completeness"] = self.reporting_completeness()
        marts["reporting_gaps"] = self.reporting_gaps()
        marts["par_ranking"] = self.par_ranking()
        return marts

    @staticmethod
    def _kpi_row(key: dict, num, den) -> dict:
        return {**key, "numerator": _num_out(num), "denominator": _num_out(den), "value": _f(_frac(num, den))}

    # ------------------------------------------------------------------------------------ dossiers
    def build_unit_months(self) -> None:
        by_um: dict[tuple[str, YM], dict[str, list[DossierRow]]] = defaultdict(lambda: defaultdict(list))
        for r in self.data.dossiers:
            if r.unit is None or r.month is None:
                continue
            by_um[(r.unit, r.month)][r.export].append(r)
        self.um: dict[tuple[str, YM], UnitMonth] = {}
        for key, exports in by_um.items():
            um = UnitMonth(versions=len(exports))
            versions = []
            for name, rows in exports.items():
                kind = rows[0].kind
                dates = [r.ts for r in rows if r.ts is not None]
                # kpis.md: a version's date is the latest ngay_xuat among its rows for that unit-month
                # (a human report's date line counts as 00:00 local)
                vdate = max(dates) if dates else None
                versions.append((kind, vdate, name, rows))
                if any(r.bad for r in rows):
                    um.has_quarantined = True
            # machine beats human; then newest; ties go to the file name sorting last
            # AMBIGUOUS: a version without any date (a Biểu without a date line) counts as the oldest.
            kind, _, name, rows = max(versions, key=lambda v: (v[0] == "machine", v[1] or datetime.min, v[2]))
            um.winner_kind = kind
            um.loaded = [r for r in rows if r.bad is None]
            um.received = (
                bool(um.loaded) and all(r.bad is None for r in rows) and all(r.balanced for r in rows)
            )
            # AMBIGUOUS: the unit-month's export date is the earliest date among the versions that have one;
            # with no dated version (only Biểu without a date line) it has none and is never on time.
            dated = [v[1] for v in versions if v[1] is not None]
            um.first_date = min(dated) if dated else None
            self.um[key] = um

    def on_time(self, um: UnitMonth, ym: YM) -> bool:
        return um.received and um.first_date is not None and um.first_date.date() <= deadline(ym)

    def months_with_rows(self, unit: str, months) -> list[YM]:
        return [m for m in months if (unit, m) in self.um and self.um[(unit, m)].has_rows]

    # ------------------------------------------------------------------------------------ payments
    def build_payments(self) -> None:
        # sources.md: the transaction id is the unit of replacement; identical rows are one, otherwise the
        # export whose file name sorts last wins. AMBIGUOUS: a quarantined row can be the winner (then the
        # transaction counts nowhere), as for dossier versions.
        win: dict[str, Payment] = {}
        for p in sorted(self.data.payments, key=lambda p: p.export):
            if p.txn:
                win[p.txn] = p
        self.pay: dict[tuple[str, YM], list[int]] = defaultdict(lambda: [0, 0, 0])  # ok_online, ok, any
        for p in win.values():
            if p.bad is not None or p.unit is None or p.day is None:
                continue
            c = self.pay[(p.unit, (p.day.year, p.day.month))]
            c[2] += 1
            if p.status == "thanh_cong":
                c[1] += 1
                if p.channel in ("dvcqg", "cong_tinh"):
                    c[0] += 1

    def pay_sum(self, unit: str, months) -> list[int]:
        tot = [0, 0, 0]
        for m in months:
            c = self.pay.get((unit, m))
            if c:
                tot = [a + b for a, b in zip(tot, c, strict=True)]
        return tot

    # ------------------------------------------------------------------------------------ surveys
    def build_surveys(self) -> None:
        win: dict[str, Survey] = {}
        for s in sorted(self.data.surveys, key=lambda s: s.export):
            if s.rid:
                win[s.rid] = s
        # (unit, year, kpi) -> [answers 4–5, answers 1–5]; (unit, year) -> sipas responses
        self.sat: dict[tuple[str, int, str], list[int]] = defaultdict(lambda: [0, 0])
        self.sipas_n: dict[tuple[str, int], int] = defaultdict(int)
        for s in win.values():
            if s.bad is not None or s.unit is None or s.day is None:
                continue
            y = s.day.year
            if s.kind == "sipas":
                self.sipas_n[(s.unit, y)] += 1
            for kpi, (kind, fields) in SATISFACTION.items():
                if s.kind != kind or (fields is not None and s.field not in fields):
                    continue
                c = self.sat[(s.unit, y, kpi)]
                c[0] += sum(1 for a in s.answers if a >= 4)
                c[1] += len(s.answers)

    # ------------------------------------------------------------------------------------ self-report
    def build_self_report(self) -> None:
        # sources.md: for self_report the unit of replacement is the unit-year: the export whose file name
        # sorts last wins the whole unit-year; identical rows are one.
        by_uy: dict[tuple[str, int], dict[str, list]] = defaultdict(lambda: defaultdict(list))
        for r in self.data.self_rows:
            if r.unit is None or r.year is None:
                continue
            by_uy[(r.unit, r.year)][r.export].append(r)
        self.self_sum: dict[tuple[str, int, str], list[Fraction]] = defaultdict(
            lambda: [Fraction(0), Fraction(0)]
        )
        self.self_versions: dict[tuple[str, int], int] = {}
        for key, exports in by_uy.items():
            # AMBIGUOUS: exports carrying exactly the same rows for the unit-year are one version.
            contents = {tuple(sorted(r.raw for r in rows)) for rows in exports.values()}
            self.self_versions[key] = len(contents)
            last = max(exports)
            for r in exports[last]:
                if r.bad is None:
                    c = self.self_sum[(key[0], key[1], r.code)]
                    c[0] += r.num
                    c[1] += r.den

    # ------------------------------------------------------------------------------------ unit-month
    def dossier_ratios(self, unit: str, months: list[YM]) -> dict[str, tuple[int, int]]:
        """on_time_rate and online_dossier_rate over months (flows summed, closing stock of the latest
        month with loaded rows)."""
        early_ontime = resolved = online = received = 0
        closing_ok = closing_all = 0
        with_rows = self.months_with_rows(unit, months)
        for m in with_rows:
            um = self.um[(unit, m)]
            early_ontime += um.total(("da_giai_quyet_truoc_han", "da_giai_quyet_dung_han"))
            resolved += um.total(RESOLVED)
            online += um.total(("tiep_nhan_truc_tuyen",))
            received += um.total(RECEIVED)
        if with_rows:
            last = self.um[(unit, max(with_rows))]
            closing_ok = last.total(("dang_giai_quyet_trong_han",))
            closing_all = last.total(PENDING)
        return {
            "on_time_rate": (early_ontime + closing_ok, resolved + closing_all),
            "online_dossier_rate": (online, received),
        }

    def kpi_unit_month(self) -> list[dict]:
        rows = []
        for ym in self.expected_months:
            for u in sorted(self.units.values(), key=lambda u: u.code):
                if not u.valid_month(ym):
                    continue
                vals = self.dossier_ratios(u.code, [ym])
                ok_online, ok, _ = self.pay_sum(u.code, [ym])
                vals["online_payment_txn_rate"] = (ok_online, ok)
                for k in MONTHLY_KPIS:
                    rows.append(
                        self._kpi_row({"period": ym_str(ym), "unit_code": u.code, "kpi_code": k}, *vals[k])
                    )
        return rows

    # ------------------------------------------------------------------------------------ unit-year
    def fee_procs_received(self, unit: str, y: int) -> set[str]:
        """kpis.md: fee-bearing procedures with >=1 dossier received at the unit in some month of the year
        (the winning machine rows of that month have tiep_nhan_* summing to at least 1 for it)."""
        out = set()
        for m in range(1, 13):
            um = self.um.get((unit, (y, m)))
            if um is None or um.winner_kind != "machine":
                continue
            per: dict[str, int] = defaultdict(int)
            for r in um.loaded:
                per[r.proc] += sum(r.counts[c] for c in RECEIVED)  # type: ignore[index]
            out |= {p for p, n in per.items() if n >= 1 and self.procs[p].fee}
        return out

    def reporting(self, unit: str, y: int) -> tuple[int, int, int]:
        u = self.units[unit]
        exp = [m for m in self.expected_months if m[0] == y and u.valid_month(m)]
        rec = ont = 0
        for m in exp:
            um = self.um.get((unit, m))
            if um is not None and um.received:
                rec += 1
                if self.on_time(um, m):
                    ont += 1
        return len(exp), rec, ont

    def kpi_unit_year_values(self) -> dict[tuple[int, str, str], tuple]:
        vals: dict[tuple[int, str, str], tuple] = {}
        for y in self.years:
            months = [(y, m) for m in range(1, 13)]
            last_day = self.year_last_day(y)
            for u in sorted(self.units.values(), key=lambda u: u.code):
                if not u.valid_year(y):
                    continue
                c = u.code
                d = self.dossier_ratios(c, months)
                ok_online, ok, _ = self.pay_sum(c, months)
                d["online_payment_txn_rate"] = (ok_online, ok)
                fee = self.fee_procs_received(c, y)
                d["online_payment_coverage"] = (
                    sum(1 for p in fee if self.procs[p].tttt is not None and self.procs[p].tttt <= last_day),
                    len(fee),
                )
                for k in SATISFACTION:
                    s = self.sat.get((c, y, k), [0, 0])
                    d[k] = (s[0], s[1])
                for k in self.self_codes:
                    s = self.self_sum.get((c, y, k), [Fraction(0), Fraction(0)])
                    d[k] = (s[0], s[1])
                exp, rec, ont = self.reporting(c, y)
                d["reporting_completeness"] = (rec, exp)
                d["reporting_timeliness"] = (ont, exp)
                for k in self.unit_kpis:
                    vals[(y, c, k)] = d[k]
        return vals

    # ------------------------------------------------------------------------------------ current map
    def final_successor(self, code: str) -> str:
        u = self.units[code]
        if u.valid_on(self.as_of):
            return code
        seen = {code}
        nxt = u.successor
        while nxt and nxt in self.units and nxt not in seen:
            if self.units[nxt].valid_on(self.as_of):
                return nxt
            seen.add(nxt)
            nxt = self.units[nxt].successor
        # AMBIGUOUS: a chain that never reaches a unit valid at the as-of date leaves the unit on its own
        # code.
        return code

    def current_map(self) -> list[dict]:
        # AMBIGUOUS: the current-map rows of a year are the final successors of the units valid during that
        # year (a current unit with no predecessor and no own row that year gets no row).
        acc: dict[tuple[int, str, str], list] = {}
        for (y, c, k), (n, d) in self.unit_year.items():
            key = (y, self.final_successor(c), k)
            if key not in acc:
                acc[key] = [Fraction(0), Fraction(0)]
            acc[key][0] += Fraction(n)
            acc[key][1] += Fraction(d)
        return [
            self._kpi_row({"year": y, "unit_code": c, "kpi_code": k}, n, d)
            for (y, c, k), (n, d) in sorted(acc.items())
        ]

    # ------------------------------------------------------------------------------------ province
    def province_values(self) -> dict[tuple[int, str], tuple]:
        sums: dict[tuple[int, str], list] = defaultdict(lambda: [Fraction(0), Fraction(0)])
        for (y, _c, k), (n, d) in self.unit_year.items():
            s = sums[(y, k)]
            s[0] += Fraction(n)
            s[1] += Fraction(d)
        out: dict[tuple[int, str], tuple] = {}
        for y in self.years:
            a, b = date(y, 1, 1), self.year_last_day(y)
            valid = [p for p in self.procs.values() if p.valid_between(a, b)]
            for k in self.province_kpis:
                if k in RANK_KPIS:
                    rank = self.data.national.get((y, RANK_KPIS[k]))
                    # AMBIGUOUS: a rank KPI without data has numerator null (and value, denominator null).
                    out[(y, k)] = (rank, None)
                elif k == "procedures_simplified_rate":
                    out[(y, k)] = (
                        sum(1 for p in valid if p.simplified is not None and FIRST_YEAR <= p.simplified <= y),
                        len(valid),
                    )
                elif k == "online_eligible_procedures_provided_rate":
                    elig = [p for p in valid if p.eligible]
                    out[(y, k)] = (
                        sum(1 for p in elig if p.level != "khong" and p.dvcqg is not None and p.dvcqg <= b),
                        len(elig),
                    )
                elif k == "online_payment_coverage":
                    fee = [p for p in valid if p.fee]
                    out[(y, k)] = (sum(1 for p in fee if p.tttt is not None and p.tttt <= b), len(fee))
                else:
                    s = sums.get((y, k), [Fraction(0), Fraction(0)])
                    out[(y, k)] = (s[0], s[1])
        return out

    def province_value(self, y: int, k: str) -> Fraction | None:
        n, d = self.province[(y, k)]
        if k in RANK_KPIS:
            return None if n is None else Fraction(n)
        return _frac(n, d)

    @staticmethod
    def _num_target(text: str) -> Fraction | None:
        text = (text or "").strip()
        try:
            return Fraction(text)
        except ValueError:
            return None

    def milestone(self, k: str, y: int) -> tuple[Fraction | None, int | None]:
        """The milestone target of year y as the mart stores it (fractions; ranks as ranks), and its
        target_year."""
        t = self.targets.get(k)
        if t is None:
            # AMBIGUOUS: a KPI without a programme target has target_year null as well.
            return None, None
        ty = 2025 if y <= 2025 else 2030
        raw = t["target_2025"] if ty == 2025 else t["target_2030"]
        if raw.strip() == "improve_vs_2025":
            return (self.province_value(2025, k) if 2025 in self.years else None), ty
        val = self._num_target(raw)
        if val is None:
            # AMBIGUOUS: a blank target keeps its target_year (only target/met/trajectory/on_track are null).
            return None, ty
        return (val if t["measure"] == "rank" else val / 100), ty

    def kpi_province_year(self) -> list[dict]:
        rows = []
        for k in self.province_kpis:
            t = self.targets.get(k)
            is_rank = k in RANK_KPIS
            y0 = next((y for y in self.years if self.province_value(y, k) is not None), None)
            b = self.province_value(y0, k) if y0 is not None else None
            for y in self.years:
                n, d = self.province[(y, k)]
                value = self.province_value(y, k)
                target, ty = self.milestone(k, y)
                met = None
                if t is not None and target is not None and value is not None:
                    comp = t["comparator"]
                    raw = t["target_2025"] if y <= 2025 else t["target_2030"]
                    if raw.strip() == "improve_vs_2025":
                        met = value < target
                    elif comp == ">=":
                        met = value >= target
                    elif comp == ">":
                        met = value > target
                    elif comp == "top_n":
                        met = value <= target
                expected = None
                if t is not None:
                    t25 = self._num_target(t["target_2025"])
                    t30 = self._num_target(t["target_2030"])
                    if not is_rank:
                        t25 = None if t25 is None else t25 / 100
                        t30 = None if t30 is None else t30 / 100
                    if y <= 2025:
                        if y0 is not None and y0 < y and t25 is not None:
                            expected = b + (t25 - b) * (y - y0) / (2025 - y0)
                    elif y0 is not None and y0 < y and t25 is not None and t30 is not None:
                        # "Otherwise (y ≤ y₀, or a needed target blank …) it is null" holds after 2025 too
                        expected = t25 + (t30 - t25) * Fraction(y - 2025, 5)
                on_track = None
                if expected is not None and value is not None:
                    on_track = value <= expected if is_rank else value >= expected
                row = {
                    "year": y,
                    "kpi_code": k,
                    "numerator": _num_out(n),
                    "denominator": _num_out(d),
                    "value": _f(value),
                    "target": _f(target),
                    "target_year": ty,
                    "met": met,
                    "expected_on_trajectory": _f(expected),
                    "on_track": on_track,
                }
                rows.append(row)
        return rows

    # ------------------------------------------------------------------------------------ completeness
    def reporting_completeness(self) -> list[dict]:
        # AMBIGUOUS: one row per unit valid during the year (as kpi_unit_year), feed 'dossiers'; no province
        # row.
        rows = []
        for y in self.years:
            for u in sorted(self.units.values(), key=lambda u: u.code):
                if not u.valid_year(y):
                    continue
                exp, rec, ont = self.reporting(u.code, y)
                rows.append(
                    {
                        "year": y,
                        "unit_code": u.code,
                        "feed": "dossiers",
                        "expected": exp,
                        "received": rec,
                        "on_time": ont,
                        "completeness": _f(_frac(rec, exp)),
                        "timeliness": _f(_frac(ont, exp)),
                    }
                )
        return rows

    # ------------------------------------------------------------------------------------ gaps
    def reporting_gaps(self) -> list[dict]:
        gaps: dict[tuple, str] = {}

        def add(feed: str, unit: str | None, period: str | None, gap: str, detail: str) -> None:
            gaps.setdefault((feed, unit, period, gap), detail)

        # missing: an expected unit-month that no export carried at all
        for ym in self.expected_months:
            for u in self.units.values():
                if u.valid_month(ym) and (u.code, ym) not in self.um:
                    add("dossiers", u.code, ym_str(ym), "missing", "no export carried this unit-month")
        for (c, ym), um in self.um.items():
            if not self.in_years(ym):
                continue
            p = ym_str(ym)
            # late: a received unit-month whose export date is after its deadline (or a Biểu without a date
            # line)
            # AMBIGUOUS: "late" is received and not on time, also for a month not yet expected.
            if um.received and not self.on_time(um, ym):
                add("dossiers", c, p, "late", "export date after the deadline")
            if um.versions > 1:
                add("dossiers", c, p, "revised", f"{um.versions} versions")
            # AMBIGUOUS: "a loaded row whose balance identity fails" = a row of the winning version's loaded
            # rows.
            if any(not r.balanced for r in um.loaded):
                add("dossiers", c, p, "inconsistent", "balance identity fails")
        # inconsistent, stock continuity between consecutive months that both have rows
        for (c, ym), um in self.um.items():
            prev = self.um.get((c, ym_add(ym, -1)))
            if not self.in_years(ym) or not um.has_rows or prev is None or not prev.has_rows:
                continue
            if um.winner_kind == "human" or prev.winner_kind == "human":
                bad = prev.total(PENDING) != um.total(("ton_ky_truoc",))
            else:
                # AMBIGUOUS: a procedure present in only one of the two months counts as 0 in the other.
                closing: dict[str, int] = defaultdict(int)
                opening: dict[str, int] = defaultdict(int)
                for r in prev.loaded:
                    closing[r.proc] += sum(r.counts[k] for k in PENDING)  # type: ignore[index]
                for r in um.loaded:
                    opening[r.proc] += r.counts["ton_ky_truoc"]  # type: ignore[index]
                bad = any(closing[p] != opening[p] for p in set(closing) | set(opening))
            if bad:
                add("dossiers", c, ym_str(ym), "inconsistent", "closing pending ≠ next month's ton_ky_truoc")
        # outlier
        for (c, ym), um in self.um.items():
            if not self.in_years(ym) or not um.has_rows:
                continue
            ref = [ym_add(ym, -k) for k in range(12, 0, -1)]
            xs = [Fraction(self.um[(c, m)].total(RECEIVED)) for m in self.months_with_rows(c, ref)]
            if len(xs) < 6:
                continue
            x = Fraction(um.total(RECEIVED))
            med = _median(xs)
            mad = _median([abs(v - med) for v in xs])
            if mad != 0:
                flag = abs(Fraction("0.6745") * (x - med) / mad) > Fraction("3.5")
            else:
                mean_ad = sum(abs(v - med) for v in xs) / len(xs)
                if mean_ad != 0:
                    flag = abs(Fraction("0.7979") * (x - med) / mean_ad) > Fraction("3.5")
                else:
                    flag = x != med
            if flag:
                add("dossiers", c, ym_str(ym), "outlier", f"received {x} against median {med}")
        # small_sample
        for y in self.years:
            for u in self.units.values():
                if u.group in RANKING_GROUPS and u.valid_year(y) and self.sipas_n.get((u.code, y), 0) < 30:
                    add("surveys", u.code, str(y), "small_sample", "fewer than 30 sipas responses")
        # cross_source: successful online payment(s) but no dossier received
        for (c, ym), counts in self.pay.items():
            if not self.in_years(ym) or counts[0] < 1:
                continue
            um = self.um.get((c, ym))
            if um is None or um.total(RECEIVED) == 0:
                # AMBIGUOUS: the cross_source gap is filed under feed 'dossiers' (it is the unit-month's
                # dossier report that looks incomplete; payments are the evidence).
                add("dossiers", c, ym_str(ym), "cross_source", "online payments without a dossier received")
        # revised self-report unit-years
        for (c, y), n in self.self_versions.items():
            if n > 1 and FIRST_YEAR <= y <= self.as_of.year:
                add("self_report", c, str(y), "revised", f"{n} versions")
        # invalid / unknown_unit from the quarantine
        for p in [*self.data.problems, *self.data.file_errors]:
            if p.kind == "invalid" and p.unit is not None and p.period is None:
                continue
            add(p.feed, p.unit, p.period, p.kind, p.detail)
        return [
            {
                "feed": f,
                "unit_code": u,
                "period": p,
                "gap_type": g,
                "severity": SEVERITY[g],
                "detail": detail,
            }
            for (f, u, p, g), detail in sorted(gaps.items(), key=lambda kv: tuple(str(x) for x in kv[0]))
        ]

    # ------------------------------------------------------------------------------------ ranking
    def gate(self, y: int) -> bool:
        n, d = self.province[(y, "reporting_completeness")]
        value = _frac(n, d)
        check2 = value is not None and value >= self.threshold
        if y in self.final_years:
            check2 = True
        # check 3: every whole-year unit of a ranking group has kpi_unit_year rows (true by construction)
        # check 4: values in [0, 1], denominator >= numerator >= 0
        check4 = all((dn >= nm >= 0) for (yy, _c, _k), (nm, dn) in self.unit_year.items() if yy == y)
        return check2 and check4

    def par_ranking(self) -> list[dict]:
        rows: list[dict] = []
        prev: dict[tuple[str, str], dict] = {}
        for y in self.years:
            if not self.year_over(y) or not self.gate(y):
                prev = {}
                continue
            current: list[dict] = []
            for u in sorted(self.units.values(), key=lambda u: u.code):
                if u.group not in RANKING_GROUPS or not u.valid_year(y):
                    continue
                current.append(self._score_unit(u, y))
            for group in RANKING_GROUPS:
                ranked = [r for r in current if r["ranking_group"] == group and r["_whole"]]
                for r in ranked:
                    r["rank"] = 1 + sum(1 for o in ranked if o["_score"] > r["_score"])
                    s = r["_score"]
                    r["grade"] = "A" if s >= 90 else "B" if s >= 80 else "C" if s >= 70 else "D"
            this: dict[tuple[str, str], dict] = {}
            for r in current:
                before = prev.get((r["unit_code"], r["ranking_group"]))
                if r["rank"] is not None and before is not None:
                    r["rank_change"] = before["rank"] - r["rank"]
                # AMBIGUOUS: score_change only needs the unit to have been ranked the year before, so a unit
                # listed without a rank this year still shows how its score moved.
                if before is not None:
                    r["score_change"] = _f(r["_score"] - before["_score"])
                if r["rank"] is not None:
                    this[(r["unit_code"], r["ranking_group"])] = r
            prev = this
            rows.extend(current)
        for r in rows:
            for k in [k for k in r if k.startswith("_")]:
                del r[k]
        return rows

    def _score_unit(self, u, y: int) -> dict:
        points: dict[str, Fraction | None] = {}
        notes: list[str] = []
        applicable = 0
        got = Fraction(0)
        for comp, kpi, max_points, full in COMPONENTS:
            if kpi is None:
                c = _frac(*self.unit_year[(y, u.code, "reporting_completeness")])
                t = _frac(*self.unit_year[(y, u.code, "reporting_timeliness")])
                value = None if c is None or t is None else c / 2 + t / 2
            else:
                value = _frac(*self.unit_year[(y, u.code, kpi)])
            if comp == "thanh_toan":
                fee = self.unit_year[(y, u.code, "online_payment_coverage")][1]
                any_txn = self.pay_sum(u.code, [(y, m) for m in range(1, 13)])[2]
                if fee == 0 and any_txn == 0:
                    # AMBIGUOUS: a component that is not applicable has points null (not 0).
                    points[comp] = None
                    notes.append("thanh_toan not applicable")
                    continue
            applicable += max_points
            if isinstance(full, str):
                full_at, _ = self.milestone(full, y)
            else:
                full_at = full
            if value is None:
                p = Fraction(0)
                notes.append(f"{comp}: no data")
            else:
                p = max_points * min(Fraction(1), value / full_at)
            points[comp] = p
            got += p
        score = _round_half_away(100 * got / applicable)
        whole = u.whole_year(y)
        if not whole:
            notes.insert(0, "not valid for the whole year: not ranked")
        return {
            "year": y,
            "ranking_group": u.group,
            "unit_code": u.code,
            "unit_name": u.name,
            "score": float(score),
            "rank": None,
            "grade": None,
            **{f"points_{c}": _f(points[c]) for c, *_ in COMPONENTS},
            "applicable_max": applicable,
            "rank_change": None,
            "score_change": None,
            "note": "; ".join(notes) or None,
            "_score": score,
            "_whole": whole,
        }
