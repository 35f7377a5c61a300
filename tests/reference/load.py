"""Loading the exports of a sources folder into validated rows (spec: sources.md, quality.md, interface.md).

The result keeps every row, loaded or quarantined (with the reason), so the KPI and gap code can apply the
spec's version rules ("each export that carries rows of a unit-month (loaded or quarantined) is a version").
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from fractions import Fraction
from pathlib import Path

from .readers import (
    FileError,
    cell_str,
    name_key,
    parse_count,
    parse_date,
    parse_decimal,
    parse_int,
    parse_month,
    parse_optional_date,
    parse_timestamp,
    read_bieu,
    read_table,
)

YM = tuple[int, int]


def month_first(ym: YM) -> date:
    return date(ym[0], ym[1], 1)


def month_last(ym: YM) -> date:
    y, m = ym
    nxt = date(y + 1, 1, 1) if m == 12 else date(y, m + 1, 1)
    return nxt - timedelta(days=1)


def deadline(ym: YM) -> date:
    """kpis.md: a month's reporting deadline is its last day + 10 days."""
    return month_last(ym) + timedelta(days=10)


def ym_str(ym: YM) -> str:
    return f"{ym[0]:04d}-{ym[1]:02d}"


def ym_add(ym: YM, k: int) -> YM:
    n = ym[0] * 12 + (ym[1] - 1) + k
    return (n // 12, n % 12 + 1)


# ---------------------------------------------------------------------------------------------- registers


@dataclass
class Unit:
    code: str
    name: str
    cap: str
    group: str
    parent: str
    start: date | None
    end: date | None
    successor: str
    aliases: list[str]

    def valid_between(self, a: date, b: date) -> bool:
        """Valid on at least one day of [a, b] (hieu_luc_tu/den inclusive, blank = open)."""
        return (self.start is None or self.start <= b) and (self.end is None or self.end >= a)

    def valid_on(self, d: date) -> bool:
        return self.valid_between(d, d)

    def valid_month(self, ym: YM) -> bool:
        return self.valid_between(month_first(ym), month_last(ym))

    def valid_year(self, y: int) -> bool:
        return self.valid_between(date(y, 1, 1), date(y, 12, 31))

    def whole_year(self, y: int) -> bool:
        return self.valid_on(date(y, 1, 1)) and self.valid_on(date(y, 12, 31))


@dataclass
class Procedure:
    code: str
    field: str
    fee: bool
    eligible: bool
    level: str
    dvcqg: date | None
    tttt: date | None
    simplified: int | None
    start: date | None
    end: date | None

    def valid_between(self, a: date, b: date) -> bool:
        return (self.start is None or self.start <= b) and (self.end is None or self.end >= a)


def load_units(path: Path) -> dict[str, Unit]:
    rows = read_table(path, path.read_bytes(), ("ma_don_vi", "ten_don_vi"))
    units: dict[str, Unit] = {}
    for r in rows:
        code = cell_str(r.get("ma_don_vi"))
        if not code:
            continue
        units[code] = Unit(
            code=code,
            name=cell_str(r.get("ten_don_vi")),
            cap=cell_str(r.get("cap")),
            group=cell_str(r.get("nhom_xep_hang")),
            parent=cell_str(r.get("ma_don_vi_cha")),
            start=parse_optional_date(r.get("hieu_luc_tu")),
            end=parse_optional_date(r.get("hieu_luc_den")),
            successor=cell_str(r.get("ma_don_vi_ke_thua")),
            aliases=[a.strip() for a in cell_str(r.get("ten_khac")).split(";") if a.strip()],
        )
    return units


def _flag(value: object) -> bool:
    return cell_str(value) in ("1", "true", "True", "TRUE")


def load_procedures(path: Path) -> dict[str, Procedure]:
    rows = read_table(path, path.read_bytes(), ("ma_thu_tuc",))
    procs: dict[str, Procedure] = {}
    for r in rows:
        code = cell_str(r.get("ma_thu_tuc"))
        if not code:
            continue
        simp = cell_str(r.get("nam_don_gian_hoa"))
        procs[code] = Procedure(
            code=code,
            field=cell_str(r.get("linh_vuc")),
            fee=_flag(r.get("co_nghia_vu_tai_chinh")),
            eligible=_flag(r.get("du_dieu_kien_truc_tuyen")),
            level=cell_str(r.get("muc_do_truc_tuyen")),
            dvcqg=parse_optional_date(r.get("ngay_tich_hop_dvcqg")),
            tttt=parse_optional_date(r.get("ngay_tich_hop_tttt")),
            simplified=parse_int(simp) if simp else None,
            start=parse_optional_date(r.get("hieu_luc_tu")),
            end=parse_optional_date(r.get("hieu_luc_den")),
        )
    return procs


# ---------------------------------------------------------------------------------------------- exports


@dataclass
class Export:
    name: str
    path: Path
    data: bytes


def list_exports(folder: Path, suffixes: tuple[str, ...]) -> list[Export]:
    """The exports of a feed folder, by file name; the same bytes twice are one export (sources.md)."""
    if not folder.is_dir():
        return []
    out: list[Export] = []
    seen: set[str] = set()
    for p in sorted(folder.iterdir(), key=lambda q: q.name):
        if not p.is_file() or p.name.startswith(".") or p.suffix.lower() not in suffixes:
            continue
        data = p.read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        if digest in seen:
            # AMBIGUOUS: a byte-identical copy is one export, known under the name that sorts first.
            continue
        seen.add(digest)
        out.append(Export(p.name, p, data))
    return out


@dataclass
class Problem:
    """A quarantined row (or unreadable file): what quality.md turns into invalid/unknown_unit gaps."""

    feed: str
    kind: str  # invalid | unknown_unit
    unit: str | None
    period: str | None
    detail: str
    file: str


DOSSIER_COUNTS = (
    "ton_ky_truoc",
    "tiep_nhan_truc_tuyen",
    "tiep_nhan_truc_tiep",
    "tiep_nhan_buu_chinh",
    "da_giai_quyet_truoc_han",
    "da_giai_quyet_dung_han",
    "da_giai_quyet_qua_han",
    "dang_giai_quyet_trong_han",
    "dang_giai_quyet_qua_han",
    "tra_lai_rut",
)
RECEIVED = ("tiep_nhan_truc_tuyen", "tiep_nhan_truc_tiep", "tiep_nhan_buu_chinh")
RESOLVED = ("da_giai_quyet_truoc_han", "da_giai_quyet_dung_han", "da_giai_quyet_qua_han")
PENDING = ("dang_giai_quyet_trong_han", "dang_giai_quyet_qua_han")


@dataclass
class DossierRow:
    export: str
    kind: str  # machine | human
    unit: str | None  # a register code, else None
    month: YM | None
    proc: str
    counts: dict[str, int] | None
    ts: datetime | None
    bad: str | None = None
    bad_kind: str | None = None  # invalid | unknown_unit
    sent: str = ""

    @property
    def balanced(self) -> bool:
        c = self.counts
        assert c is not None
        # a Biểu II.06a row's tra_lai_rut is the residual: a negative residual fails the identity
        return c["tra_lai_rut"] >= 0 and c["ton_ky_truoc"] + sum(c[k] for k in RECEIVED) == (
            sum(c[k] for k in RESOLVED) + sum(c[k] for k in PENDING) + c["tra_lai_rut"]
        )


@dataclass
class Payment:
    export: str
    txn: str
    unit: str | None
    day: date | None
    channel: str
    status: str
    bad: str | None = None
    bad_kind: str | None = None
    sent: str = ""
    raw_period: str | None = None


@dataclass
class Survey:
    export: str
    rid: str
    unit: str | None
    day: date | None
    kind: str
    field: str
    answers: list[int]
    bad: str | None = None
    bad_kind: str | None = None
    sent: str = ""
    raw_period: str | None = None


@dataclass
class SelfRow:
    export: str
    year: int | None
    unit: str | None
    code: str
    num: Fraction | None
    den: Fraction | None
    raw: tuple
    bad: str | None = None
    bad_kind: str | None = None
    sent: str = ""


@dataclass
class Loaded:
    units: dict[str, Unit]
    procs: dict[str, Procedure]
    dossiers: list[DossierRow] = field(default_factory=list)
    payments: list[Payment] = field(default_factory=list)
    surveys: list[Survey] = field(default_factory=list)
    self_rows: list[SelfRow] = field(default_factory=list)
    national: dict[tuple[int, str], int] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    file_errors: list[Problem] = field(default_factory=list)


PAYMENT_CHANNELS = {"dvcqg", "cong_tinh", "truc_tiep"}
PAYMENT_STATUSES = {"thanh_cong", "that_bai", "hoan_tien"}
SURVEY_TYPES = {"sipas", "cqhc", "y_te", "giao_duc"}
SURVEY_CHANNELS = {"truc_tuyen", "giay", "kiosk"}
NATIONAL_INDICES = {"PAR_INDEX", "SIPAS", "PAPI", "PCI", "ICT_INDEX"}


def _unit_check(units: dict[str, Unit], code: str, a: date | None, b: date | None) -> str | None:
    """None if the code is a unit valid in [a, b]; otherwise the reason (unknown_unit).

    AMBIGUOUS: "the period" of a payment or survey row is its own day; of a dossier row its month; of a
    self-report row its year. An unknown_unit gap has unit_code null (the code or name as sent is in detail).
    """
    u = units.get(code)
    if u is None:
        return f"unit code {code!r} not in the register"
    if a is not None and b is not None and not u.valid_between(a, b):
        return f"unit {code} not valid in the period"
    return None


def load(sources: Path, as_of: date, self_report_codes: set[str]) -> Loaded:
    units = load_units(sources / "registers" / "units.csv")
    procs = load_procedures(sources / "registers" / "procedures.csv")
    out = Loaded(units, procs)
    _load_dossiers(out, sources / "dossiers", as_of)
    _load_payments(out, sources / "payments", as_of)
    _load_surveys(out, sources / "surveys", as_of)
    _load_self_report(out, sources / "self_report", as_of, self_report_codes)
    _load_national(out, sources / "national_indices", as_of)
    return out


def _file_period(name: str) -> str | None:
    """The period a file name shows (YYYY-MM, else YYYY), else None."""
    m = re.search(r"(\d{4})-(\d{2})", name)
    if m:
        return f"{m.group(1)}-{m.group(2)}"
    m = re.search(r"(?<!\d)(\d{4})(?!\d)", name)
    return m.group(1) if m else None


def _file_error(out: Loaded, feed: str, exp: Export, exc: Exception) -> None:
    # AMBIGUOUS: the period an unreadable file "covered" is read from its name (YYYY-MM, else YYYY), else
    # null.
    out.file_errors.append(
        Problem(feed, "invalid", None, _file_period(exp.name), f"{exp.name}: {exc}", exp.name)
    )


# ---------------------------------------------------------------------------------------------- dossiers


def _load_dossiers(out: Loaded, folder: Path, as_of: date) -> None:
    required = ("ky_bao_cao", "ma_don_vi", "ma_thu_tuc", *DOSSIER_COUNTS, "ngay_xuat")
    for exp in list_exports(folder, (".csv", ".json", ".xlsx")):
        try:
            if exp.path.suffix.lower() == ".xlsx":
                rows = _bieu_rows(out, exp, as_of)
            else:
                rows = _machine_rows(out, exp, read_table(exp.path, exp.data, required), as_of)
        except FileError as exc:
            _file_error(out, "dossiers", exp, exc)
            continue
        out.dossiers.extend(rows)


def _machine_rows(out: Loaded, exp: Export, raw: list[dict], as_of: date) -> list[DossierRow]:
    rows: list[DossierRow] = []
    keys: list[tuple] = []
    for r in raw:
        code = cell_str(r.get("ma_don_vi"))
        proc = cell_str(r.get("ma_thu_tuc"))
        reasons: list[tuple[str, str]] = []
        month: YM | None = None
        ts: datetime | None = None
        try:
            month = parse_month(r.get("ky_bao_cao"))
        except ValueError as exc:
            reasons.append(("invalid", str(exc)))
        try:
            ts = parse_timestamp(r.get("ngay_xuat"))
        except ValueError as exc:
            reasons.append(("invalid", str(exc)))
        # kpis.md: rows dated after the as-of date are ignored. AMBIGUOUS: a dossier row is "dated" by its
        # ngay_xuat (and a period starting after the as-of date is ignored too).
        if (ts is not None and ts.date() > as_of) or (month is not None and month_first(month) > as_of):
            continue
        why = _unit_check(
            out.units, code, month_first(month) if month else None, month_last(month) if month else None
        )
        if why:
            reasons.insert(0, ("unknown_unit", why))
        if not proc:
            reasons.append(("invalid", "blank ma_thu_tuc in a machine export"))
        elif proc not in out.procs:
            reasons.append(("invalid", f"procedure {proc} not in the catalogue"))
        counts: dict[str, int] | None = {}
        for col in DOSSIER_COUNTS:
            try:
                counts[col] = parse_count(r.get(col))
            except ValueError as exc:
                reasons.append(("invalid", f"{col}: {exc}"))
                counts = None
                break
        row = DossierRow(
            export=exp.name,
            kind="machine",
            unit=code if code in out.units else None,
            month=month,
            proc=proc,
            counts=counts,
            ts=ts,
            sent=code,
        )
        if reasons:
            row.bad_kind, row.bad = reasons[0]
        rows.append(row)
        keys.append((code, proc, cell_str(r.get("ky_bao_cao"))))
    dup = {k for k, n in Counter(keys).items() if n > 1}
    for row, k in zip(rows, keys, strict=True):
        if k in dup and row.bad is None:
            row.bad_kind, row.bad = "invalid", "same unit × procedure × month twice in one export"
    for row in rows:
        if row.bad:
            out.problems.append(
                Problem(
                    "dossiers",
                    row.bad_kind or "invalid",
                    row.unit if row.bad_kind == "invalid" else None,
                    ym_str(row.month) if row.month else None,
                    row.bad,
                    exp.name,
                )
            )
    return rows


BIEU_MAP = (
    # (index in (3)…(13), column)
    (1, "tiep_nhan_truc_tuyen"),
    (2, "tiep_nhan_truc_tiep"),
    (3, "ton_ky_truoc"),
    (5, "da_giai_quyet_truoc_han"),
    (6, "da_giai_quyet_dung_han"),
    (7, "da_giai_quyet_qua_han"),
    (9, "dang_giai_quyet_trong_han"),
    (10, "dang_giai_quyet_qua_han"),
)


def _bieu_rows(out: Loaded, exp: Export, as_of: date) -> list[DossierRow]:
    report = read_bieu(exp.data)
    month: YM = report["period"]  # type: ignore[assignment]
    rdate: date | None = report["date"]  # type: ignore[assignment]
    # AMBIGUOUS: a Biểu whose date line is after the as-of date (or whose period starts after it) is a
    # report "dated after" now, ignored as a whole.
    if (rdate is not None and rdate > as_of) or month_first(month) > as_of:
        return []
    ts = datetime(rdate.year, rdate.month, rdate.day) if rdate else None
    a, b = month_first(month), month_last(month)
    valid = [u for u in out.units.values() if u.valid_between(a, b)]
    index: dict[str, set[str]] = {}
    for u in valid:
        for nm in (u.name, *u.aliases):
            index.setdefault(name_key(nm), set()).add(u.code)
    rows: list[DossierRow] = []
    for name, cells in report["rows"]:  # type: ignore[union-attr]
        reasons: list[tuple[str, str]] = []
        matches = index.get(name_key(name), set())
        code = next(iter(matches)) if len(matches) == 1 else None
        if code is None:
            reasons.append(
                (
                    "unknown_unit",
                    f"name {name!r} " + ("matches several units" if matches else "matches no unit"),
                )
            )
        values: list[int] | None = []
        for j, c in enumerate(cells):
            try:
                values.append(parse_count(c, blank_zero=True))
            except ValueError as exc:
                reasons.append(("invalid", f"column ({j + 3}): {exc}"))
                values = None
                break
        counts: dict[str, int] | None = None
        if values is not None:
            if (
                values[0] != values[1] + values[2] + values[3]
                or values[4] != values[5] + values[6] + values[7]
                or values[8] != values[9] + values[10]
            ):
                reasons.append(("invalid", "a Tổng số column differs from the sum of its parts"))
            counts = {col: values[j] for j, col in BIEU_MAP}
            counts["tiep_nhan_buu_chinh"] = 0
            counts["tra_lai_rut"] = (
                counts["ton_ky_truoc"]
                + sum(counts[k] for k in RECEIVED)
                - sum(counts[k] for k in RESOLVED)
                - sum(counts[k] for k in PENDING)
            )
        row = DossierRow(
            export=exp.name, kind="human", unit=code, month=month, proc="", counts=counts, ts=ts, sent=name
        )
        if reasons:
            row.bad_kind, row.bad = reasons[0]
        rows.append(row)
    seen = Counter(r.unit for r in rows if r.unit is not None)
    for r in rows:
        if r.unit is not None and seen[r.unit] > 1 and r.bad is None:
            r.bad_kind, r.bad = "invalid", "same unit twice in one Biểu II.06a"
    for r in rows:
        if r.bad:
            out.problems.append(
                Problem(
                    "dossiers",
                    r.bad_kind or "invalid",
                    r.unit if r.bad_kind == "invalid" else None,
                    ym_str(month),
                    r.bad if r.bad_kind == "invalid" else r.sent,
                    exp.name,
                )
            )
    return rows


# ---------------------------------------------------------------------------------------------- payments


def _load_payments(out: Loaded, folder: Path, as_of: date) -> None:
    required = ("ma_giao_dich", "ma_thu_tuc", "ma_don_vi", "thoi_diem", "so_tien", "kenh", "trang_thai")
    for exp in list_exports(folder, (".csv", ".jsonl", ".json")):
        try:
            raw = read_table(exp.path, exp.data, required)
        except FileError as exc:
            _file_error(out, "payments", exp, exc)
            continue
        rows: list[Payment] = []
        for r in raw:
            code = cell_str(r.get("ma_don_vi"))
            txn = cell_str(r.get("ma_giao_dich"))
            reasons: list[tuple[str, str]] = []
            day: date | None = None
            try:
                day = parse_timestamp(r.get("thoi_diem")).date()
            except ValueError as exc:
                reasons.append(("invalid", str(exc)))
            if day is not None and day > as_of:
                continue
            why = _unit_check(out.units, code, day, day)
            if why:
                reasons.insert(0, ("unknown_unit", why))
            if not txn:
                reasons.append(("invalid", "blank ma_giao_dich"))
            proc = cell_str(r.get("ma_thu_tuc"))
            if proc not in out.procs:
                reasons.append(("invalid", f"procedure {proc!r} not in the catalogue"))
            try:
                amount = parse_int(r.get("so_tien"))
                if amount <= 0:
                    reasons.append(("invalid", f"amount {amount} <= 0"))
            except ValueError as exc:
                reasons.append(("invalid", f"so_tien: {exc}"))
            channel = cell_str(r.get("kenh"))
            status = cell_str(r.get("trang_thai"))
            if channel not in PAYMENT_CHANNELS:
                reasons.append(("invalid", f"unknown channel {channel!r}"))
            if status not in PAYMENT_STATUSES:
                reasons.append(("invalid", f"unknown status {status!r}"))
            p = Payment(exp.name, txn, code if code in out.units else None, day, channel, status, sent=code)
            # AMBIGUOUS: a row whose date does not parse is dated, for its gap, by its file's name (as for a
            # file that cannot be read).
            p.raw_period = _file_period(exp.name)
            if reasons:
                p.bad_kind, p.bad = reasons[0]
            rows.append(p)
        # AMBIGUOUS: the same ma_giao_dich twice in one export quarantines both rows even when the two rows
        # are identical ("identical rows are one" is read as a rule between exports).
        _quarantine_duplicates_and_record(out, "payments", exp.name, rows, lambda p: p.txn, "ma_giao_dich")
        out.payments.extend(rows)


# ---------------------------------------------------------------------------------------------- surveys

QUESTIONS = tuple(f"q{i}" for i in range(1, 11))


def _load_surveys(out: Loaded, folder: Path, as_of: date) -> None:
    required = ("ma_phieu", "loai_khao_sat", "ma_don_vi", "ngay_khao_sat", "kenh")
    for exp in list_exports(folder, (".csv", ".xlsx")):
        try:
            raw = read_table(exp.path, exp.data, required)
        except FileError as exc:
            _file_error(out, "surveys", exp, exc)
            continue
        rows: list[Survey] = []
        for r in raw:
            code = cell_str(r.get("ma_don_vi"))
            rid = cell_str(r.get("ma_phieu"))
            reasons: list[tuple[str, str]] = []
            day: date | None = None
            try:
                day = parse_date(r.get("ngay_khao_sat"))
            except ValueError as exc:
                reasons.append(("invalid", str(exc)))
            if day is not None and day > as_of:
                continue
            why = _unit_check(out.units, code, day, day)
            if why:
                reasons.insert(0, ("unknown_unit", why))
            if not rid:
                reasons.append(("invalid", "blank ma_phieu"))
            kind = cell_str(r.get("loai_khao_sat"))
            if kind not in SURVEY_TYPES:
                reasons.append(("invalid", f"unknown survey type {kind!r}"))
            channel = cell_str(r.get("kenh"))
            if channel not in SURVEY_CHANNELS:
                reasons.append(("invalid", f"unknown channel {channel!r}"))
            answers: list[int] = []
            for q in QUESTIONS:
                v = r.get(q)
                if cell_str(v) == "":
                    continue
                try:
                    a = parse_int(v)
                except ValueError:
                    reasons.append(("invalid", f"{q} does not parse"))
                    continue
                if not 1 <= a <= 5:
                    reasons.append(("invalid", f"{q} = {a} outside 1–5"))
                    continue
                answers.append(a)
            s = Survey(
                exp.name,
                rid,
                code if code in out.units else None,
                day,
                kind,
                cell_str(r.get("linh_vuc")),
                answers,
                sent=code,
            )
            s.raw_period = _file_period(exp.name)
            if reasons:
                s.bad_kind, s.bad = reasons[0]
            rows.append(s)
        # AMBIGUOUS: a survey problem's period is the response's month (like payments), not its year; a
        # response whose date does not parse is dated by its file's name.
        _quarantine_duplicates_and_record(out, "surveys", exp.name, rows, lambda s: s.rid, "ma_phieu")
        out.surveys.extend(rows)


# ---------------------------------------------------------------------------------------------- self-report


def _load_self_report(out: Loaded, folder: Path, as_of: date, codes: set[str]) -> None:
    required = ("nam", "ma_don_vi", "ma_chi_tieu", "tu_so", "mau_so")
    for exp in list_exports(folder, (".csv", ".xlsx")):
        try:
            raw = read_table(exp.path, exp.data, required)
        except FileError as exc:
            _file_error(out, "self_report", exp, exc)
            continue
        rows: list[SelfRow] = []
        for r in raw:
            code = cell_str(r.get("ma_don_vi"))
            kpi = cell_str(r.get("ma_chi_tieu"))
            reasons: list[tuple[str, str]] = []
            year: int | None = None
            try:
                year = parse_int(r.get("nam"))
            except ValueError as exc:
                reasons.append(("invalid", f"nam: {exc}"))
            if year is not None and year > as_of.year:
                continue
            why = _unit_check(
                out.units, code, date(year, 1, 1) if year else None, date(year, 12, 31) if year else None
            )
            if why:
                reasons.insert(0, ("unknown_unit", why))
            if kpi not in codes:
                # AMBIGUOUS: a ma_chi_tieu that is not a self_report target of program_targets.csv is bad
                # input (quarantined, gap invalid), like an unknown status or survey type.
                reasons.append(("invalid", f"unknown ma_chi_tieu {kpi!r}"))
            num = den = None
            try:
                num = parse_decimal(r.get("tu_so"))
                den = parse_decimal(r.get("mau_so"))
            except ValueError as exc:
                reasons.append(("invalid", str(exc)))
            if num is not None and den is not None:
                # AMBIGUOUS: a negative self-reported number is bad input too (counts/amounts are >= 0).
                if num < 0 or den < 0:
                    reasons.append(("invalid", "negative number"))
                elif num > den:
                    reasons.append(("invalid", "numerator above its denominator"))
            row = SelfRow(
                exp.name,
                year,
                code if code in out.units else None,
                kpi,
                num,
                den,
                raw=(cell_str(r.get("nam")), code, kpi, cell_str(r.get("tu_so")), cell_str(r.get("mau_so"))),
                sent=code,
            )
            if reasons:
                row.bad_kind, row.bad = reasons[0]
            rows.append(row)
        counts = Counter((s.raw[0], s.raw[1], s.raw[2]) for s in rows)
        for s in rows:
            if counts[(s.raw[0], s.raw[1], s.raw[2])] > 1 and s.bad is None:
                s.bad_kind, s.bad = "invalid", "year × unit × ma_chi_tieu twice in one export"
        for s in rows:
            if s.bad:
                out.problems.append(
                    Problem(
                        "self_report",
                        s.bad_kind or "invalid",
                        s.unit if s.bad_kind == "invalid" else None,
                        str(s.year) if s.year else None,
                        s.bad,
                        exp.name,
                    )
                )
        out.self_rows.extend(rows)


# ---------------------------------------------------------------------------------------------- national


def _load_national(out: Loaded, folder: Path, as_of: date) -> None:
    for exp in list_exports(folder, (".csv",)):
        try:
            raw = read_table(exp.path, exp.data, ("nam", "chi_so", "thu_hang"))
        except FileError as exc:
            _file_error(out, "national_indices", exp, exc)
            continue
        good: list[tuple[int, str, int]] = []
        for r in raw:
            try:
                year = parse_int(r.get("nam"))
                rank = parse_int(r.get("thu_hang"))
            except ValueError as exc:
                out.problems.append(Problem("national_indices", "invalid", None, None, str(exc), exp.name))
                continue
            index = cell_str(r.get("chi_so"))
            if index not in NATIONAL_INDICES or rank <= 0:
                out.problems.append(
                    Problem(
                        "national_indices", "invalid", None, str(year), f"bad row {index} {rank}", exp.name
                    )
                )
                continue
            if year > as_of.year:
                continue
            good.append((year, index, rank))
        # AMBIGUOUS: quality.md's "the same key twice in one export" applies to national_indices' key
        # (year × index) too: both rows quarantined.
        twice = {k for k, n in Counter((y, i) for y, i, _ in good).items() if n > 1}
        for year, index, rank in good:
            if (year, index) in twice:
                out.problems.append(
                    Problem("national_indices", "invalid", None, str(year), f"{index} twice", exp.name)
                )
                continue
            # sources.md: year × index, the later export (file name sorting last) wins
            out.national[(year, index)] = rank


def _quarantine_duplicates_and_record(out, feed: str, file_name: str, rows: list, key, key_name: str) -> None:
    """Quarantine every row whose id appears twice in one export, then record each bad row's problem,
    dated by its own month (or, when its date does not parse, by its file's name)."""
    counts = Counter(key(r) for r in rows if key(r))
    for r in rows:
        if key(r) and counts[key(r)] > 1 and r.bad is None:
            r.bad_kind, r.bad = "invalid", f"{key_name} twice in one export"
    for r in rows:
        if r.bad:
            out.problems.append(
                Problem(
                    feed,
                    r.bad_kind or "invalid",
                    r.unit if r.bad_kind == "invalid" else None,
                    ym_str((r.day.year, r.day.month)) if r.day else r.raw_period,
                    r.bad,
                    file_name,
                )
            )
