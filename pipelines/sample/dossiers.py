"""Dossier and payment feeds, simulated together so they agree with each other.

Each unit × procedure keeps its pending stock from month to month, which is what makes the balance identity
and stock continuity of sources.md hold by construction. Receipts of fee-bearing procedures become payment
transactions in the same unit-month, so a clean run has no ``cross_source`` signal. Rows are produced one
month at a time and written straight away (the province scale streams millions of rows).
"""

from __future__ import annotations

import json
import unicodedata
from bisect import bisect_left
from datetime import date, datetime, timedelta
from itertools import accumulate
from pathlib import Path

from .common import (
    FIRST_YM,
    YM,
    CsvOut,
    binomial,
    clamp,
    days_in_month,
    fmt_ts,
    interp_by_year,
    month_first,
    month_last,
    rng_for,
    split_total,
    write_json_rows,
    year_frac,
    ym_of,
    ym_str,
)
from .context import Context
from .units import norm_key, tone_old_style
from .xlsx_reports import write_bieu_ii06a

DOSSIER_COLUMNS = [
    "ky_bao_cao",
    "ma_don_vi",
    "ma_thu_tuc",
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
    "ngay_xuat",
]
COUNT_COLUMNS = DOSSIER_COLUMNS[3:13]
PAYMENT_COLUMNS = [
    "ma_giao_dich",
    "ma_ho_so",
    "ma_thu_tuc",
    "ma_don_vi",
    "thoi_diem",
    "so_tien",
    "kenh",
    "trang_thai",
]

# Months whose machine export is the one-stop system's JSON instead of CSV (both JSON shapes appear).
JSON_MONTHS = {"2022-06": "items", "2023-09": "array", "2025-10": "items"}
# Months whose payments come as JSON-lines (the platform API dump, timestamps with offset).
JSONL_MONTHS = {"2022-09", "2024-02", "2025-11"}

# Year-end rush building up from the Tết dip (Feb): a smooth cycle. A unit's monthly total then moves by a
# regular ±3 % alternation (±7 % in its first 12 months, when the outlier window is short) plus ±1 % jitter.
# The spec's 12-month modified-z outlier rule is very sensitive to clustered histories (a small MAD); this
# shape keeps it quiet on clean data, so only planted outliers and real merger jumps stand out.
SEASON = {1: 0.95, **{m: round(0.9 + 0.018 * (m - 2), 3) for m in range(2, 13)}}
SWING = 0.03
YOUNG_SWING = 0.07
JITTER = 0.01
ONLINE_SHARE = {2021: 0.17, 2022: 0.33, 2023: 0.48, 2024: 0.6, 2025: 0.7, 2026: 0.78}
LATE_SHARE = {2021: 0.06, 2022: 0.045, 2023: 0.035, 2024: 0.025, 2025: 0.02, 2026: 0.015}
OVERDUE_PENDING = {2021: 0.12, 2022: 0.09, 2023: 0.07, 2024: 0.05, 2025: 0.04, 2026: 0.03}
PAY_ONLINE = {2021: 0.45, 2022: 0.55, 2023: 0.64, 2024: 0.71, 2025: 0.76, 2026: 0.8}
PAY_DVCQG = {2021: 0.35, 2022: 0.42, 2023: 0.5, 2024: 0.58, 2025: 0.64, 2026: 0.7}
PAY_RECORDED = 0.92
PAY_RECORDED_XA = 0.5
FAST_FIELDS = {"ho_tich", "chung_thuc", "cu_tru", "thue", "bao_hiem_xa_hoi", "thi_dua_khen_thuong"}
SLOW_FIELDS = {"dat_dai", "xay_dung", "moi_truong", "dau_tu", "khu_kinh_te"}

# index of each value in a simulated unit × procedure × month result
U, P, TON, ON, DIR, POST, EARLY, ONTIME, LATE, PIN, POVER, RET = range(12)


class ReportingPlan:
    """Who reports how each month: the machine export, a Biểu II.06a workbook of a unit group, or both."""

    def __init__(self, ctx: Context):
        self.machine: dict[str, list[str]] = {}
        self.human: dict[str, dict[str, list[str]]] = {}
        reg = ctx.reg
        for ym in ctx.expected:
            s = ym_str(ym)
            nd = [u.code for u in reg.units if u.kind == "nganh_doc" and u.valid_month(ym)]
            hd = [
                c
                for c, months in ctx.params.human_districts
                if s in months and c in reg.by_code and reg.by_code[c].valid_month(ym)
            ]
            both = [
                c
                for c, m in ctx.params.both
                if m == s and c in reg.by_code and reg.by_code[c].valid_month(ym)
            ]
            groups = {}
            if nd:
                groups["nganh_doc"] = nd
            if hd or both:
                groups["huyen"] = hd + [c for c in both if c not in hd]
            self.human[s] = groups
            self.machine[s] = [
                u.code
                for u in reg.units
                if u.kind in ("dept", "district", "commune", "new_commune")
                and u.valid_month(ym)
                and u.code not in hd
            ]

    def human_units(self, s: str) -> set[str]:
        return {c for codes in self.human.get(s, {}).values() for c in codes}


def dossier_path(ctx: Context, ym: YM) -> Path:
    s = ym_str(ym)
    return ctx.out / "dossiers" / (f"dossiers_{s}.json" if s in JSON_MONTHS else f"dossiers_{s}.csv")


def bieu_path(ctx: Context, group: str, ym: YM) -> Path:
    return ctx.out / "dossiers" / f"bieu_II06a_{group}_{ym_str(ym)}.xlsx"


class Simulator:
    """Monthly stock-and-flow simulation per unit × procedure (state: pending dossiers)."""

    def __init__(self, ctx: Context):
        self.ctx = ctx
        reg = ctx.reg
        self.pending: dict[tuple[str, str], int] = {}
        self.tinh = [p for p in ctx.procs if "tinh" in p.caps]
        self.huyen = [p for p in ctx.procs if "huyen" in p.caps]
        self.xa = [p for p in ctx.procs if "xa" in p.caps]
        self.new_xa = [p for p in ctx.procs if "xa" in p.caps or "huyen" in p.caps]
        rq = rng_for(ctx.seed, "unit-quality", ctx.scale)
        self.late_q: dict[str, float] = {}
        self.online_q: dict[str, float] = {}
        for u in reg.units:
            self.late_q[u.code] = rq.uniform(0.5, 1.6) * (1.4 if u.remote else 1.0)
            bonus = 1.08 if u.kind == "dept" or u.code == "H01" or u.name.startswith("UBND phường") else 1.0
            self.online_q[u.code] = (0.72 if u.remote else 1.0) * bonus * rq.uniform(0.9, 1.1)
        # workload absorbed from merged predecessors of the same kind (Cửa Lò into Vinh, 2024 communes)
        self.absorbed: dict[str, list[tuple[date, float]]] = {}
        for u in reg.units:
            if u.successor and u.end is not None:
                s = reg.by_code.get(u.successor)
                if s is not None and s.kind == u.kind and (s.start is None or s.start <= u.end):
                    self.absorbed.setdefault(s.code, []).append((u.end, u.size))
        # new communes take over the district tier's procedures in proportion to their size
        self.district_share: dict[str, float] = {}
        home_total: dict[str, float] = {}
        for u in reg.of_kind("new_commune"):
            home_total[u.home] = home_total.get(u.home, 0.0) + u.size
        for u in reg.of_kind("new_commune"):
            d = reg.by_code.get(u.home)
            dsize = d.size if d is not None else 1.0
            self.district_share[u.code] = 0.8 * dsize * u.size / home_total[u.home]

    def _size(self, code: str, base: float, first: date) -> float:
        return base + sum(sz for end, sz in self.absorbed.get(code, ()) if end < first)

    def step(self, ym: YM, frac: float) -> list[list]:
        ctx, reg = self.ctx, self.ctx.reg
        rng = rng_for(ctx.seed, "dossiers", ym_str(ym))
        first, last = month_first(ym), month_last(ym)
        t = year_frac(ym)
        vol = ctx.params.vol
        common = SEASON[ym[1]] * (1 + 0.04 * (ym[0] - 2021)) * frac
        s_online = interp_by_year(ONLINE_SHARE, t)
        late_base = interp_by_year(LATE_SHARE, t)
        overdue = interp_by_year(OVERDUE_PENDING, t)
        valid = [p for p in ctx.procs if p.valid_between(first, last)]
        valid_codes = {p.code for p in valid}
        tinh_by_unit: dict[str, list[tuple]] = {}
        # a department's workload is set per department and shared over its valid procedures
        handler_weight: dict[str, float] = {}
        for p in self.tinh:
            if p.code in valid_codes:
                handler_weight[p.handler] = handler_weight.get(p.handler, 0.0) + p.weight
        for p in self.tinh:
            if p.code not in valid_codes:
                continue
            h = reg.current(p.handler, first)
            orig = reg.by_code.get(p.handler)
            if h is None or orig is None:
                continue
            share = p.weight / handler_weight[p.handler]
            tinh_by_unit.setdefault(h.code, []).append((p, share * (30.0 + 40.0 * orig.size) * vol["tinh"]))
        huyen = [p for p in self.huyen if p.code in valid_codes]
        xa = [p for p in self.xa if p.code in valid_codes]
        new_xa = [p for p in self.new_xa if p.code in valid_codes]
        faults = ctx.faults
        out: list[list] = []
        for u in reg.units:
            if not u.valid_month(ym):
                continue
            if u.cap == "tinh":
                plist = tinh_by_unit.get(u.code, [])
            elif u.kind == "district":
                size = self._size(u.code, u.size, first) * vol["huyen"]
                plist = [(p, p.weight * size) for p in huyen]
            elif u.kind == "commune":
                size = self._size(u.code, u.size, first) * vol["xa"]
                plist = [(p, p.weight * size) for p in xa]
            else:
                share = self.district_share.get(u.code, 0.0) * vol["huyen"]
                own = u.size * vol["xa"]
                plist = [
                    (p, p.weight * ((own if "xa" in p.caps else 0.0) + (share if "huyen" in p.caps else 0.0)))
                    for p in new_xa
                ]
            if not plist:
                continue
            factor = faults.sim_factor(u.code, ym) if faults else None
            oq, lq = self.online_q[u.code], self.late_q[u.code]
            lams = [base * common for _, base in plist]
            begin = max(FIRST_YM, ym_of(u.start)) if u.start else FIRST_YM
            age = (ym[0] - begin[0]) * 12 + ym[1] - begin[1]
            expected = sum(lams)
            jitter = rng.uniform(-JITTER, JITTER)
            swing = max(YOUNG_SWING if age < 12 else SWING, 1.2 / max(expected, 1.0))
            total = int(
                round(expected * (1 + (swing if age % 2 else -swing) + (jitter if age >= 12 else 0.0)))
            )
            if factor is not None:
                total = int(round(total * factor))
            receipts = split_total(rng, total, lams)
            n_before = len(out)
            for (p, _), received in zip(plist, receipts, strict=True):
                key = (u.code, p.code)
                ton = self.pending.pop(key, 0)
                if received == 0 and ton == 0:
                    continue
                if not p.eligible or p.level == "khong":
                    q = 0.01
                elif p.dvcqg is None or p.dvcqg > last:
                    q = 0.3 * s_online
                else:
                    q = s_online * (1.1 if p.level == "toan_trinh" else 0.85)
                on = binomial(rng, received, clamp(q * oq, 0.0, 0.97))
                post = binomial(rng, received - on, 0.03)
                direct = received - on - post
                avail = ton + received
                ret = binomial(rng, avail, 0.012)
                if p.end is not None and p.end <= last:
                    resolved = avail - ret  # abolished at month end: nothing stays pending
                else:
                    speed = 0.95 if p.field in FAST_FIELDS else 0.62 if p.field in SLOW_FIELDS else 0.8
                    resolved = binomial(rng, avail - ret, speed)
                pend = avail - ret - resolved
                late = binomial(rng, resolved, clamp(late_base * lq, 0.0, 0.5))
                early = binomial(rng, resolved - late, 0.55)
                ontime = resolved - late - early
                pover = binomial(rng, pend, clamp(overdue * lq, 0.0, 0.6))
                if pend:
                    self.pending[key] = pend
                out.append(
                    [u.code, p.code, ton, on, direct, post, early, ontime, late, pend - pover, pover, ret]
                )
            if len(out) == n_before:
                # a unit with no activity still sends its (all-zero) report
                out.append([u.code, plist[0][0].code, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])
        return out


def result_to_row(r: list, s: str, ts: str) -> dict[str, object]:
    return {
        "ky_bao_cao": s,
        "ma_don_vi": r[U],
        "ma_thu_tuc": r[P],
        "ton_ky_truoc": r[TON],
        "tiep_nhan_truc_tuyen": r[ON],
        "tiep_nhan_truc_tiep": r[DIR],
        "tiep_nhan_buu_chinh": r[POST],
        "da_giai_quyet_truoc_han": r[EARLY],
        "da_giai_quyet_dung_han": r[ONTIME],
        "da_giai_quyet_qua_han": r[LATE],
        "dang_giai_quyet_trong_han": r[PIN],
        "dang_giai_quyet_qua_han": r[POVER],
        "tra_lai_rut": r[RET],
        "ngay_xuat": ts,
    }


def write_dossier_rows(ctx: Context, path: Path, rows: list[dict[str, object]], ym: YM) -> None:
    """CSV (BOM + CRLF for the older system in 2021–2022) or one of the two JSON shapes."""
    s = ym_str(ym)
    if path.suffix == ".json":
        write_json_rows(path, rows, wrap_items=JSON_MONTHS.get(s, "items") == "items")
        n = len(rows)
    else:
        old = ym[0] <= 2022
        with CsvOut(path, DOSSIER_COLUMNS, bom=old, crlf=old) as out:
            for r in rows:
                out.write_dict(r)
            n = out.rows
    ctx.add_file("dossiers", path, n)


def export_times(ctx: Context, ym: YM, units: list[str]) -> dict[str, str]:
    """Per unit, when its month was exported: 2–9 days after month end, office hours."""
    rng = rng_for(ctx.seed, "ngay_xuat", ym_str(ym))
    last = month_last(ym)
    limit = ctx.as_of - timedelta(days=1)
    out = {}
    for code in units:
        d = min(last + timedelta(days=rng.randint(2, 9)), limit)
        out[code] = fmt_ts(d, rng.randint(7 * 3600 + 1800, 18 * 3600))
    return out


def name_variant(ctx: Context, code: str, rng) -> str:
    """How a unit's name is typed in an e-mailed report: aliases, NFD, old tone marks, case, spaces, no UBND."""
    u = ctx.reg.by_code[code]
    shared = ctx.faults.shared_alias if ctx.faults else None
    choices = [u.name, u.name, *[a for a in u.aliases if a != shared]]
    name = rng.choice(choices)
    r = rng.random()
    if r < 0.15 and name.startswith("UBND "):
        name = name[5:]
    elif r < 0.25 and name.startswith("UBND "):
        name = "Ủy ban nhân dân " + name[5:]
    r = rng.random()
    if r < 0.15:
        name = name.upper()
    elif r < 0.3:
        name = tone_old_style(name)
    if rng.random() < 0.2:
        name = "  " + name.replace(" ", "  ", 1) + " "
    if rng.random() < 0.25:
        name = unicodedata.normalize("NFD", name)
    keys = {norm_key(x) for x in [u.name, *u.aliases]}
    assert norm_key(name) in keys, (name, u.name)
    return name


def period_line(ym: YM) -> str:
    if ym[1] % 2:
        return f"Kỳ báo cáo: tháng {ym[1]:02d}/{ym[0]}"
    last = month_last(ym)
    return f"Từ ngày 01/{ym[1]:02d}/{ym[0]} đến ngày {last.day:02d}/{ym[1]:02d}/{ym[0]}"


def date_line(d: date) -> str:
    return f"Nghệ An, ngày {d.day:02d} tháng {d.month} năm {d.year}"


GROUP_SCOPE = {
    "nganh_doc": (
        "CÁC CƠ QUAN NGÀNH DỌC TRÊN ĐỊA BÀN TỈNH NGHỆ AN",
        "Trung tâm Phục vụ hành chính công tỉnh",
    ),
    "huyen": ("UBND CẤP HUYỆN", "Văn phòng UBND tỉnh"),
}


def write_human_reports(ctx: Context, plan: ReportingPlan, ym: YM, results: list[list]) -> None:
    s = ym_str(ym)
    groups = plan.human.get(s, {})
    if not groups:
        return
    agg: dict[str, list[int]] = {}
    wanted = plan.human_units(s)
    for r in results:
        if r[U] in wanted:
            a = agg.setdefault(r[U], [0] * 9)
            a[0] += r[ON]
            a[1] += r[DIR] + r[POST]
            a[2] += r[TON]
            a[3] += r[EARLY]
            a[4] += r[ONTIME]
            a[5] += r[LATE]
            a[6] += r[PIN]
            a[7] += r[POVER]
    for group, codes in groups.items():
        rng = rng_for(ctx.seed, "bieu", group, s)
        blank_zero = rng.random() < 0.5
        rows: list[list[object]] = []
        for i, code in enumerate(codes, start=1):
            on, dirpost, ton, early, ontime, late, pin, pover, _ = agg.get(code, [0] * 9)
            counts = [
                on + dirpost + ton,
                on,
                dirpost,
                ton,
                early + ontime + late,
                early,
                ontime,
                late,
                pin + pover,
                pin,
                pover,
            ]
            cells: list[object] = [None if (c == 0 and blank_zero) else c for c in counts]
            rows.append([i, name_variant(ctx, code, rng), *cells])
        last = month_last(ym)
        rdate = min(last + timedelta(days=rng.randint(3, 9)), ctx.as_of - timedelta(days=1))
        meta: dict[str, object] = {"date": rdate, "has_date_line": True}
        path = bieu_path(ctx, group, ym)
        if ctx.faults:
            rows, meta = ctx.faults.human_rows(group, ym, rows, meta, ctx.rel(path))
        rdate = meta["date"]  # type: ignore[assignment]
        scope, reporter = GROUP_SCOPE[group]
        write_bieu_ii06a(
            path,
            scope=scope,
            period_line=period_line(ym),
            date_line=date_line(rdate) if meta["has_date_line"] else None,  # type: ignore[arg-type]
            reporter=reporter,
            rows=rows,
            created=datetime(rdate.year, rdate.month, rdate.day, 8, 30),  # type: ignore[union-attr]
            float_counts=(group == "huyen" and ym[1] % 3 == 0) or (group == "nganh_doc" and ym[0] == 2022),
            formulas=group == "nganh_doc" and ym[0] >= 2023,
        )
        ctx.add_file("dossiers", path, len(rows))


class PaymentWriter:
    """Turns the month's receipts of fee-bearing procedures into payment transactions.

    Paying online needs both the procedure enabled for online payment (``ngay_tich_hop_tttt``) and the unit
    connected to the payment platform; units connect one by one (communes and mountain districts last),
    which is what makes the online share climb smoothly rather than jump when a busy procedure is enabled.
    """

    def __init__(self, ctx: Context):
        self.ctx = ctx
        rng = rng_for(ctx.seed, "payment-onboarding", ctx.scale)
        self.onboard: dict[str, date] = {}
        for u in ctx.reg.units:
            if u.cap == "tinh":
                first, days = date(2020, 9, 1), 300
            elif u.cap == "huyen":
                first, days = date(2020, 11, 1), 540
            else:
                first, days = date(2021, 1, 1), 900
            d = first + timedelta(days=int(rng.random() * days) + (180 if u.remote else 0))
            self.onboard[u.code] = max(d, u.start) if u.start else d

    def month(self, ym: YM, results: list[list]) -> None:
        ctx = self.ctx
        s = ym_str(ym)
        ndays = days_in_month(ym)
        if ym == ym_of(ctx.as_of):
            ndays = ctx.as_of.day - 1
        if ndays <= 0:
            return
        rng = rng_for(ctx.seed, "payments", s)
        first = month_first(ym)
        days = [first + timedelta(days=i) for i in range(ndays)]
        weights = [1.0 if d.weekday() < 5 else 0.3 if d.weekday() == 5 else 0.08 for d in days]
        cum = list(accumulate(weights))
        total_w = cum[-1]
        t = year_frac(ym)
        p_online = interp_by_year(PAY_ONLINE, t)
        p_dvcqg = interp_by_year(PAY_DVCQG, t)
        jsonl = s in JSONL_MONTHS
        path = ctx.out / "payments" / (f"payments_{s}.jsonl" if jsonl else f"payments_{s}.csv")
        path.parent.mkdir(parents=True, exist_ok=True)
        if jsonl:
            fh = open(path, "w", encoding="utf-8", newline="\n")  # noqa: SIM115
            csv_out = None
        else:
            fh = None
            csv_out = CsvOut(path, PAYMENT_COLUMNS, bom=ym[0] == 2021)
        seq = 0
        per_day: dict[tuple[str, int], int] = {}
        first_row: dict[str, object] | None = None
        yymm = f"{ym[0] % 100:02d}{ym[1]:02d}"
        n = 0
        # hot loop (the province scale writes ~15 million rows): plain tuples, cached strings, random()
        day_iso = [d.isoformat() for d in days]
        day_code = [f"{d:%y%m%d}" for d in days]
        write_row = csv_out.writer.writerow if csv_out is not None else None
        rand = rng.random

        def emit_dict(row: dict[str, object]) -> None:
            nonlocal n
            if fh is not None:
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")
            else:
                write_row([row.get(c) for c in PAYMENT_COLUMNS])  # type: ignore[misc]
            n += 1

        procs = ctx.proc_by_code
        remote = {u.code: u.remote for u in ctx.reg.units}
        # commune desks take many small fees in cash outside the platform: fewer platform transactions there
        recorded = {u.code: PAY_RECORDED_XA if u.cap == "xa" else PAY_RECORDED for u in ctx.reg.units}
        last_day = ndays - 1
        for r in results:
            p = procs[r[P]]
            if not p.has_fee:
                continue
            received = r[ON] + r[DIR] + r[POST]
            if not received:
                continue
            unit = r[U]
            q = p_online * (0.8 if remote.get(unit) else 1.0)
            online_from = max(p.tttt, self.onboard[unit]) if p.tttt is not None else None
            for _ in range(binomial(rng, received, recorded[unit])):
                di = min(bisect_left(cum, rand() * total_w), last_day)
                k = (unit, di)
                nday = per_day.get(k, 0) + 1
                per_day[k] = nday
                ma_ho_so = f"{unit}-{day_code[di]}-{nday:04d}"
                if online_from is not None and online_from <= days[di] and rand() < q:
                    kenh = "dvcqg" if rand() < p_dvcqg else "cong_tinh"
                    secs = 21600 + int(rand() * 61200)  # 06:00-23:00
                else:
                    kenh = "truc_tiep"
                    secs = 27000 + int(rand() * 14400)  # desk hours, morning or afternoon
                    if rand() < 0.45:
                        secs += 9000
                if p.fee_kind == "page":
                    amount = p.fee * (1 + int(rand() * 10))
                elif p.fee_kind == "range":
                    amount = p.fee * (1, 1, 1, 2, 3, 5)[int(rand() * 6)]
                else:
                    amount = p.fee
                st = rand()
                suffix = "+07:00" if jsonl or rand() < 0.003 else ""
                attempts = (
                    ("that_bai", "thanh_cong")
                    if st < 0.03
                    else ("hoan_tien",)
                    if st < 0.036
                    else ("thanh_cong",)
                )
                for status in attempts:
                    seq += 1
                    hh, rem = divmod(min(secs, 86399), 3600)
                    row = (
                        f"GD{yymm}{seq:07d}",
                        ma_ho_so,
                        p.code,
                        unit,
                        f"{day_iso[di]}T{hh:02d}:{rem // 60:02d}:{rem % 60:02d}{suffix}",
                        amount,
                        kenh,
                        status,
                    )
                    if first_row is None:
                        first_row = dict(zip(PAYMENT_COLUMNS, row, strict=True))
                    if write_row is not None:
                        write_row(row)
                        n += 1
                    else:
                        emit_dict(dict(zip(PAYMENT_COLUMNS, row, strict=True)))
                    secs += 60 + int(rand() * 1140)
        if ctx.faults:
            for extra in ctx.faults.payment_extras(ym, first_row, ctx.rel(path)):
                emit_dict(extra)
        if fh is not None:
            fh.close()
        else:
            csv_out.rows = n  # type: ignore[union-attr]
            csv_out.close()  # type: ignore[union-attr]
        ctx.add_file("payments", path, n)


def generate_dossiers_and_payments(ctx: Context, plan: ReportingPlan) -> None:
    sim = Simulator(ctx)
    payments = PaymentWriter(ctx)
    run_ym = ym_of(ctx.as_of)
    for ym in ctx.sim_months:
        frac = 1.0
        if ym == run_ym:
            frac = (ctx.as_of.day - 1) / days_in_month(ym)
        results = sim.step(ym, frac)
        if ctx.is_expected(ym):
            s = ym_str(ym)
            machine = plan.machine[s]
            times = export_times(ctx, ym, machine)
            mset = set(machine)
            rows = [result_to_row(r, s, times[r[U]]) for r in results if r[U] in mset]
            path = dossier_path(ctx, ym)
            if ctx.faults:
                rows = ctx.faults.machine_rows(ym, rows, ctx.rel(path))
            write_dossier_rows(ctx, path, rows, ym)
            if ctx.faults:
                v2 = ctx.faults.reexport(ym, rows)
                if v2 is not None:
                    v2_path = path.with_name(f"dossiers_{s}_v2.csv")
                    write_dossier_rows(ctx, v2_path, v2, (ym[0], ym[1]))
                    ctx.faults.note_reexport(ctx.rel(v2_path))
            write_human_reports(ctx, plan, ym, results)
        payments.month(ym, results)
