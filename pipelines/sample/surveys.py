"""Satisfaction-survey responses (SIPAS and the cqhc / y_te / giao_duc surveys), one file set per year.

The files differ the way real survey-tool exports differ: some years are XLSX, some carry the respondent's
phone number (personal data the pipeline must drop), and from 2024 the health/education surveys come from a
separate tool with fewer question columns and no ``linh_vuc``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, time, timedelta

from .common import CsvOut, clamp, interp_by_year, rng_for
from .context import Context
from .xlsx_reports import write_table_xlsx

QUESTIONS = {"sipas": 10, "cqhc": 5, "y_te": 8, "giao_duc": 7}
SATISFIED = {2021: 0.8, 2022: 0.84, 2023: 0.87, 2024: 0.9, 2025: 0.92, 2026: 0.94}
ONLINE = {2021: 0.25, 2022: 0.35, 2023: 0.45, 2024: 0.55, 2025: 0.63, 2026: 0.7}
LAND_FIELDS = {"dat_dai", "xay_dung", "dau_tu"}
XLSX_YEARS = {2022, 2025}
PHONE_YEARS = {2021, 2022, 2024, 2025}
SPLIT_FROM = 2024  # y_te / giao_duc in their own file from this year

MAIN_COLUMNS = ["ma_phieu", "loai_khao_sat", "ma_don_vi", "linh_vuc", "ngay_khao_sat", "kenh"] + [
    f"q{i}" for i in range(1, 11)
]
SPLIT_COLUMNS = ["ma_phieu", "loai_khao_sat", "ma_don_vi", "ngay_khao_sat", "kenh"] + [
    f"q{i}" for i in range(1, 9)
]


def _unit_fields(ctx: Context) -> dict[str, list[tuple[str, float]]]:
    """Procedure fields a unit handles, weighted by volume: what its SIPAS respondents came for."""
    by_cap: dict[str, dict[str, float]] = {"huyen": {}, "xa": {}, "new": {}}
    by_handler: dict[str, dict[str, float]] = {}
    for p in ctx.procs:
        if "tinh" in p.caps:
            d = by_handler.setdefault(p.handler, {})
            d[p.field] = d.get(p.field, 0.0) + p.weight
        for cap in ("huyen", "xa"):
            if cap in p.caps:
                by_cap[cap][p.field] = by_cap[cap].get(p.field, 0.0) + p.weight
                by_cap["new"][p.field] = by_cap["new"].get(p.field, 0.0) + p.weight
    out: dict[str, list[tuple[str, float]]] = {}
    for u in ctx.reg.units:
        if u.cap == "tinh":
            fields: dict[str, float] = dict(by_handler.get(u.code, {}))
            for v in ctx.reg.units:  # predecessors' fields move to the successor
                if v.successor == u.code:
                    for f, w in by_handler.get(v.code, {}).items():
                        fields[f] = fields.get(f, 0.0) + w
        elif u.kind == "district":
            fields = by_cap["huyen"]
        elif u.kind == "commune":
            fields = by_cap["xa"]
        else:
            fields = by_cap["new"]
        out[u.code] = sorted(fields.items())
    return out


def generate_surveys(ctx: Context) -> None:
    fields = _unit_fields(ctx)
    for year in sorted({m[0] for m in ctx.sim_months}):
        _survey_year(ctx, year, fields)


def _survey_year(ctx: Context, year: int, fields: dict[str, list[tuple[str, float]]]) -> None:
    """One year's files: responses are generated unit by unit and streamed to the writer."""
    reg = ctx.reg
    first = date(year, 1, 1)
    last = min(date(year, 12, 31), ctx.as_of - timedelta(days=1))
    if last < first:
        return
    rng = rng_for(ctx.seed, "surveys", year)
    sat = interp_by_year(SATISFIED, year + 0.5)
    p_online = interp_by_year(ONLINE, year + 0.5)
    thin = ctx.faults.thin.get(year, {}) if ctx.faults else {}
    seq = 0

    def responses(kinds: tuple[str, ...]) -> Iterator[dict[str, object]]:
        nonlocal seq
        for u in reg.units:
            if not u.valid_between(first, last):
                continue
            lo = max(first, u.start or first)
            hi = min(last, u.end or last)
            span = (hi - lo).days + 1
            frac = span / ((last - first).days + 1)
            offset = rng.uniform(-0.05, 0.03)
            for kind in kinds:
                if kind == "sipas":
                    if u.code in thin:
                        n = thin[u.code]
                    else:
                        n = round(ctx.params.sipas_per_unit * rng.uniform(1.0, 1.5) * frac)
                        n = max(n, 33) if span >= 20 else n
                elif kind == "cqhc" and u.kind in ("dept", "district", "new_commune"):
                    n = round(ctx.params.other_per_unit * rng.uniform(0.8, 1.3) * frac)
                elif kind in ("y_te", "giao_duc") and (
                    u.kind in ("district", "new_commune")
                    or (kind == "y_te" and u.code == "S16")
                    or (kind == "giao_duc" and u.code == "S15")
                ):
                    n = round(ctx.params.other_per_unit * rng.uniform(0.7, 1.2) * frac)
                else:
                    continue
                for _ in range(n):
                    seq += 1
                    field = ""
                    p_sat = sat + offset
                    if kind == "sipas" and fields.get(u.code):
                        names, weights = zip(*fields[u.code], strict=True)
                        field = rng.choices(names, weights)[0]
                        if field in LAND_FIELDS:
                            p_sat -= 0.06
                    elif kind != "sipas":
                        p_sat += 0.01 if kind == "cqhc" else -0.02
                    r = rng.random()
                    kenh = "truc_tuyen" if r < p_online else "kiosk" if r < p_online + 0.12 else "giay"
                    row: dict[str, object] = {
                        "ma_phieu": f"PKS-{year}-{seq:07d}",
                        "loai_khao_sat": kind,
                        "ma_don_vi": u.code,
                        "linh_vuc": field,
                        "ngay_khao_sat": (lo + timedelta(days=rng.randrange(span))).isoformat(),
                        "kenh": kenh,
                    }
                    p_sat = clamp(p_sat, 0.3, 0.99)
                    for q in range(1, QUESTIONS[kind] + 1):
                        x = rng.random()
                        if x < 0.02:
                            row[f"q{q}"] = None
                        elif rng.random() < p_sat:
                            row[f"q{q}"] = 5 if x < 0.47 else 4
                        else:
                            row[f"q{q}"] = 3 if x < 0.72 else 2 if x < 0.9 else 1
                    row["so_dien_thoai"] = f"09{rng.randrange(10**8):08d}" if rng.random() < 0.7 else None
                    yield row

    split = year >= SPLIT_FROM
    main_kinds = ("sipas", "cqhc") if split else ("sipas", "cqhc", "y_te", "giao_duc")
    phone = year in PHONE_YEARS
    header = MAIN_COLUMNS + (["so_dien_thoai"] if phone else [])
    ext = "xlsx" if year in XLSX_YEARS else "csv"
    path = ctx.out / "surveys" / f"surveys_{year}.{ext}"
    rel = ctx.rel(path)

    def with_extras(it: Iterator[dict[str, object]]) -> Iterator[dict[str, object]]:
        template = None
        for row in it:
            if template is None:
                template = row
            yield row
        if ctx.faults:
            yield from ctx.faults.survey_extras(year, template, rel)

    rows = with_extras(responses(main_kinds))
    if ext == "xlsx":
        n = write_table_xlsx(
            path,
            header,
            ([r.get(c) for c in header] for r in rows),
            created=datetime.combine(min(last + timedelta(days=3), ctx.as_of - timedelta(days=1)), time(8)),
            sheet="KetQuaKhaoSat",
            text_columns=("so_dien_thoai", "ma_phieu", "ma_don_vi"),
        )
    else:
        with CsvOut(path, header, bom=year % 2 == 1) as out:
            for r in rows:
                out.write_dict(r)
            n = out.rows
    ctx.add_file("surveys", path, n)
    if split:
        path2 = ctx.out / "surveys" / f"surveys_{year}_y_te_giao_duc.csv"
        with CsvOut(path2, SPLIT_COLUMNS) as out:
            for r in responses(("y_te", "giao_duc")):
                out.write_dict(r)
            n2 = out.rows
        ctx.add_file("surveys", path2, n2)
