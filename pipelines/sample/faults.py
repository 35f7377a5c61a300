"""Fault injection: the bad inputs of quality.md, planted so a gap report and the quarantine have work to do.

``none`` plants nothing. ``demo`` plants a few realistic gaps (missing and late unit-months, an unknown
name in a human report, a corrected re-export, a handful of bad rows, thin survey samples). ``all`` plants
every bad-input case of quality.md at least once. Every planted fault is recorded in ``injected`` (feed,
file, unit, period, kind, detail) so tests can check that it really is in the files.

Faults are chosen from the run's own register and months (preferred months when the as-of date allows, a
proportional fallback otherwise), so any scale and as-of date gets them.
"""

from __future__ import annotations

import random
import shutil
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from .common import YM, deadline, fmt_ts, month_first, month_last, ym_range, ym_str

if TYPE_CHECKING:
    from .context import Context
    from .dossiers import ReportingPlan

UNKNOWN_UNIT = "X9999"
UNKNOWN_NAME = "Chi cục Thuế khu vực Phủ Quỳ"
SHARED_ALIAS = "UBND huyện miền Tây"
DUP_FILE_MONTH = "2022-03"
TRUNCATED_MONTH = "2022-07"


class FaultPlan:
    def __init__(self, ctx: Context, plan: ReportingPlan, mode: str):
        if mode not in ("none", "demo", "all"):
            raise ValueError(f"unknown faults mode {mode!r}")
        self.ctx, self.plan, self.mode = ctx, plan, mode
        self.rng = random.Random(f"{ctx.seed}:faults:{ctx.scale}")
        self.injected: list[dict[str, object]] = []
        self.shared_alias: str | None = None
        self.used: set[tuple[str, str]] = set()
        self.reserved: set[str] = set()
        self._sim: dict[tuple[str, str], float] = {}
        self._drop: set[tuple[str, str]] = set()
        self._late: dict[tuple[str, str], int] = {}
        self._mut: dict[str, list[tuple[str, str]]] = {}
        self._human: dict[tuple[str, str], list[str]] = {}
        self._human_unit: dict[tuple[str, str], str] = {}
        self._pay: dict[str, list[tuple[str, str]]] = {}
        self._survey: dict[int, list[str]] = {}
        self.thin: dict[int, dict[str, int]] = {}
        self._self: dict[int, list[str]] = {}
        self._self_rows: dict[int, tuple[list[str], list[list[object]], Path]] = {}
        self._reexport: tuple[str, list[str]] | None = None
        self._cross: tuple[str, str] | None = None
        self._files: list[str] = []
        if mode == "all" and ctx.expected:
            self._plan_all()
        elif mode == "demo" and ctx.expected:
            self._plan_demo()

    # ------------------------------------------------------------------ choosing targets
    def record(
        self, feed: str, kind: str, file: str | None, unit: str | None, period: str | None, detail: str, **kw
    ):
        rec: dict[str, object] = {
            "feed": feed,
            "kind": kind,
            "file": file,
            "unit": unit,
            "period": period,
            "detail": detail,
        }
        rec.update(kw)
        self.injected.append(rec)

    def month(self, pref: str, candidates: list[str] | None = None) -> str | None:
        cands = candidates if candidates is not None else self.ctx.expected_strs()
        if not cands:
            return None
        if pref in cands:
            return pref
        full = [ym_str(m) for m in ym_range((2021, 1), (2026, 12))]
        frac = full.index(pref) / (len(full) - 1) if pref in full else 0.5
        return cands[int(frac * (len(cands) - 1))]

    def unit(self, s: str, kinds: tuple[str, ...], *, exclude_human: bool = True) -> str | None:
        reg = self.ctx.reg
        human = self.plan.human_units(s) if exclude_human else set()
        pool = [
            c
            for c in self.plan.machine.get(s, [])
            if reg.by_code[c].kind in kinds
            and (c, s) not in self.used
            and c not in self.reserved
            and c not in human
        ]
        if not pool:
            pool = [
                c
                for c in self.plan.machine.get(s, [])
                if (c, s) not in self.used and c not in self.reserved and c not in human
            ]
        if not pool:
            return None
        c = self.rng.choice(pool)
        self.used.add((c, s))
        return c

    def _dossier_file(self, s: str) -> str:
        from .dossiers import dossier_path

        y, m = int(s[:4]), int(s[5:])
        return self.ctx.rel(dossier_path(self.ctx, (y, m)))

    def _csv_months(self) -> list[str]:
        from .dossiers import JSON_MONTHS

        return [s for s in self.ctx.expected_strs() if s not in JSON_MONTHS]

    def _years(self) -> list[int]:
        return sorted({m[0] for m in self.ctx.sim_months})

    def _year(self, pref: int) -> int | None:
        ys = self._years()
        if not ys:
            return None
        return pref if pref in ys else ys[-1]

    def _ended_unit_after(self, s: str) -> str | None:
        """A code that is in the register but no longer valid in month ``s``."""
        d = month_first((int(s[:4]), int(s[5:])))
        for u in self.ctx.reg.units:
            if u.kind == "commune" and u.end is not None and u.end < d:
                return u.code
        for u in self.ctx.reg.units:
            if u.end is not None and u.end < d:
                return u.code
        return None

    # ------------------------------------------------------------------ plans
    def _plan_common(self) -> None:
        """What demo and all share: missing and late unit-months, an unknown name, a re-export, thin surveys."""
        for pref, kinds in (("2022-11", ("commune",)), ("2023-04", ("district",)), ("2024-08", ("dept",))):
            s = self.month(pref)
            c = self.unit(s, kinds) if s else None
            if c:
                self._drop.add((c, s))
                self.record(
                    "dossiers", "missing", self._dossier_file(s), c, s, "unit-month left out of the export"
                )
        for pref, kinds, days in (("2023-07", ("dept",), 16), ("2024-02", ("commune", "new_commune"), 22)):
            s = self.month(pref)
            c = self.unit(s, kinds) if s else None
            if c:
                self._late[(c, s)] = days
        s = self.month("2024-09")
        if s and "nganh_doc" in self.plan.human.get(s, {}):
            self._human.setdefault(("nganh_doc", s), []).append("unknown_unit_name")
        s = self.month("2024-05", self._csv_months())
        if s:
            units = [u for u in (self.unit(s, (k,)) for k in ("commune", "district", "dept")) if u]
            self._reexport = (s, units)
        y = self._year(2023)
        if y is not None:
            first, last = date(y, 1, 1), date(y, 12, 31)
            cands = [
                u.code
                for u in self.ctx.reg.units
                if u.kind in ("commune", "new_commune", "district") and u.valid_on(first) and u.valid_on(last)
            ]
            if cands:
                picks = self.rng.sample(cands, min(2, len(cands)))
                self.thin[y] = {c: n for c, n in zip(picks, (17, 24), strict=False)}
                for c, n in self.thin[y].items():
                    self.record(
                        "surveys", "small_sample", None, c, str(y), f"only {n} sipas responses in {y}"
                    )

    def _plan_demo(self) -> None:
        self._plan_common()
        for pref, kind, kinds in (
            ("2022-08", "negative_count", ("commune",)),
            ("2022-12", "unknown_procedure", ("district",)),
        ):
            s = self.month(pref)
            c = self.unit(s, kinds) if s else None
            if c:
                self._mut.setdefault(s, []).append((kind, c))
        s = self.month("2023-06", [ym_str(m) for m in self.ctx.sim_months])
        if s:
            self._pay.setdefault(s, []).append(("amount_not_positive", "0"))
        y = self._year(2024)
        if y is not None:
            self._survey.setdefault(y, []).append("answer_out_of_range")

    def _plan_all(self) -> None:
        ctx = self.ctx
        # the outlier unit must have a quiet history: reserve it before anything else is chosen
        s_out = self.month("2023-11")
        depts = [c for c in self.plan.machine.get(s_out, []) if ctx.reg.by_code[c].kind == "dept"]
        if depts:
            c = "S02" if "S02" in depts else depts[0]
            self.reserved.add(c)
            self._sim[(c, s_out)] = 6.0
            self.used.add((c, s_out))
            self.record(
                "dossiers",
                "outlier",
                self._dossier_file(s_out),
                c,
                s_out,
                "received six times the usual volume",
            )
        self._plan_common()
        for pref, kind, kinds in (
            ("2022-05", "duplicate_key", ("district",)),
            ("2023-03", "unknown_unit_code", ("commune",)),
            ("2022-08", "negative_count", ("commune",)),
            ("2023-10", "non_integer_count", ("commune",)),
            ("2024-03", "unparseable_number", ("district",)),
            ("2022-12", "unknown_procedure", ("dept",)),
            ("2023-06", "blank_procedure_code", ("commune",)),
            ("2023-09", "balance_identity", ("district",)),
            ("2024-04", "stock_continuity", ("commune",)),
        ):
            s = self.month(pref)
            c = self.unit(s, kinds) if s else None
            if c:
                self._mut.setdefault(s, []).append((kind, c))
        s = self.month("2025-09")
        ended = self._ended_unit_after(s) if s else None
        if s and ended:
            self._mut.setdefault(s, []).append(("unit_outside_validity", ended))
        # cross_source: a unit-month with no receipt at all, yet successful online payments
        s = self.month("2025-09")
        c = self.unit(s, ("new_commune",)) if s else None
        if s and c and ctx.reg.by_code[c].kind != "new_commune":
            self.used.discard((c, s))
            s = self.month("2024-06")
            c = self.unit(s, ("commune",))
        if s and c:
            self._sim[(c, s)] = 0.0
            self._cross = (c, s)
            self._pay.setdefault(s, []).append(("cross_source", c))
        # human reports
        for pref, group, kind in (
            ("2022-10", "nganh_doc", "late"),
            ("2023-02", "nganh_doc", "no_date_line"),
            ("2023-06", "nganh_doc", "total_mismatch"),
            ("2024-01", "nganh_doc", "duplicate_key"),
            ("2021-03", "huyen", "ambiguous_unit_name"),
            ("2021-05", "huyen", "non_integer_count"),
        ):
            months = [m for m in ctx.expected_strs() if group in self.plan.human.get(m, {})]
            s = self.month(pref, months)
            if s:
                self._human.setdefault((group, s), []).append(kind)
                if kind == "ambiguous_unit_name":
                    d1 = self.plan.human[s][group][0]
                    others = [
                        u.code
                        for u in ctx.reg.units
                        if u.kind == "district" and u.code != d1 and u.valid_month((int(s[:4]), int(s[5:])))
                    ]
                    if others:
                        self.shared_alias = SHARED_ALIAS
                        self._human_unit[(group, s)] = d1
                        for code in (d1, others[-1]):
                            ctx.reg.by_code[code].aliases.append(SHARED_ALIAS)
                    else:
                        self._human[(group, s)].remove(kind)
        # payments
        pay_months = [ym_str(m) for m in ctx.sim_months]
        for pref, kind, arg in (
            ("2022-04", "duplicate_key", ""),
            ("2023-05", "unknown_unit_code", UNKNOWN_UNIT),
            ("2025-10", "unit_outside_validity", ""),
            ("2022-06", "amount_not_positive", "0"),
            ("2023-08", "amount_not_positive", "-50000"),
            ("2024-07", "unknown_status", "dang_xu_ly"),
            ("2024-09", "unknown_channel", "vi_dien_tu"),
            ("2024-01", "unparseable_date", ""),
            ("2024-03", "unparseable_number", "15O000"),
            ("2023-11", "unknown_procedure", ""),
        ):
            s = self.month(pref, pay_months)
            if s:
                if kind == "unit_outside_validity":
                    arg = self._ended_unit_after(s) or ""
                    if not arg:
                        continue
                self._pay.setdefault(s, []).append((kind, arg))
        # surveys and self-report
        y = self._year(2023)
        if y is not None:
            self._survey.setdefault(y, []).extend(["duplicate_key", "unknown_unit_code", "unparseable_date"])
            self._files.append(f"missing_columns:{y}")
        y = self._year(2024)
        if y is not None:
            self._survey.setdefault(y, []).extend(
                ["unknown_survey_type", "answer_out_of_range", "unknown_channel"]
            )
        from .self_report import self_report_years

        sy = self_report_years(ctx)
        if sy:
            y1 = 2022 if 2022 in sy else sy[0]
            y2 = 2024 if 2024 in sy else sy[-1]
            self._self.setdefault(y1, []).extend(["duplicate_key", "unparseable_number"])
            self._self.setdefault(y2, []).extend(["numerator_above_denominator", "unknown_unit_code"])
            self._files += [f"wrong_encoding:{y1}", f"self_revised:{y2}"]
        self._files += ["truncated", "duplicate_file", "not_csv"]

    # ------------------------------------------------------------------ hooks used by the writers
    def sim_factor(self, code: str, ym: YM) -> float | None:
        if not self._sim:
            return None
        return self._sim.get((code, ym_str(ym)))

    def machine_rows(self, ym: YM, rows: list[dict[str, object]], file: str) -> list[dict[str, object]]:
        s = ym_str(ym)
        if not (self._drop or self._late or self._mut):
            return rows
        out: list[dict[str, object]] = []
        late_done: set[str] = set()
        for row in rows:
            key = (str(row["ma_don_vi"]), s)
            if key in self._drop:
                continue
            if key in self._late:
                d = month_last(ym) + timedelta(days=self._late[key])
                d = min(d, self.ctx.as_of - timedelta(days=1))
                if d > deadline(ym):
                    row["ngay_xuat"] = fmt_ts(d, 15 * 3600 + 1234)
                    if key[0] not in late_done:
                        late_done.add(key[0])
                        self.record(
                            "dossiers",
                            "late",
                            file,
                            key[0],
                            s,
                            f"exported {d.isoformat()}, after the deadline",
                        )
            out.append(row)
        for kind, code in self._mut.get(s, []):
            self._mutate(kind, code, s, out, file)
        return out

    def _mutate(self, kind: str, code: str, s: str, rows: list[dict[str, object]], file: str) -> None:
        mine = [r for r in rows if r["ma_don_vi"] == code]
        ts = str(rows[0]["ngay_xuat"]) if rows else fmt_ts(month_last((int(s[:4]), int(s[5:]))), 36000)
        xa_proc = next((p.code for p in self.ctx.procs if "xa" in p.caps), self.ctx.procs[0].code)

        def new_row(unit: str, proc: str) -> dict[str, object]:
            return {
                "ky_bao_cao": s,
                "ma_don_vi": unit,
                "ma_thu_tuc": proc,
                "ton_ky_truoc": 0,
                "tiep_nhan_truc_tuyen": 2,
                "tiep_nhan_truc_tiep": 3,
                "tiep_nhan_buu_chinh": 0,
                "da_giai_quyet_truoc_han": 2,
                "da_giai_quyet_dung_han": 2,
                "da_giai_quyet_qua_han": 0,
                "dang_giai_quyet_trong_han": 1,
                "dang_giai_quyet_qua_han": 0,
                "tra_lai_rut": 0,
                "ngay_xuat": ts,
            }

        if kind == "unknown_unit_code":
            rows += [new_row(UNKNOWN_UNIT, xa_proc)]
            self.record("dossiers", kind, file, UNKNOWN_UNIT, s, "unit code not in the register")
            return
        if kind == "unit_outside_validity":
            u = self.ctx.reg.by_code[code]
            rows += [new_row(code, xa_proc)]
            self.record("dossiers", kind, file, code, s, f"unit ended {u.end} but still reported")
            return
        if not mine:
            return
        first = mine[0]
        proc = str(first["ma_thu_tuc"])
        if kind == "duplicate_key":
            dup = dict(first)
            dup["tiep_nhan_truc_tiep"] = int(dup["tiep_nhan_truc_tiep"]) + 1  # type: ignore[call-overload]
            dup["da_giai_quyet_dung_han"] = int(dup["da_giai_quyet_dung_han"]) + 1  # type: ignore[call-overload]
            rows.insert(rows.index(first) + 1, dup)
            self.record("dossiers", kind, file, code, s, "same unit × procedure twice", procedure=proc)
        elif kind == "negative_count":
            first["tiep_nhan_truc_tiep"] = -int(first["tiep_nhan_truc_tiep"]) - 2  # type: ignore[call-overload]
            self.record(
                "dossiers", kind, file, code, s, "negative count", procedure=proc, field="tiep_nhan_truc_tiep"
            )
        elif kind == "non_integer_count":
            first["tiep_nhan_truc_tuyen"] = 2.5
            self.record(
                "dossiers", kind, file, code, s, "count 2.5", procedure=proc, field="tiep_nhan_truc_tuyen"
            )
        elif kind == "unparseable_number":
            first["da_giai_quyet_dung_han"] = "1O"
            self.record(
                "dossiers",
                kind,
                file,
                code,
                s,
                "count '1O' (letter O)",
                procedure=proc,
                field="da_giai_quyet_dung_han",
            )
        elif kind == "unknown_procedure":
            known = self.ctx.proc_by_code
            fake = next(c for c in ("1.009999", "2.009998", "1.009997") if c not in known)
            rows.insert(rows.index(mine[-1]) + 1, new_row(code, fake))
            self.record(
                "dossiers", kind, file, code, s, "procedure code not in the catalogue", procedure=fake
            )
        elif kind == "blank_procedure_code":
            target = next((r for r in mine if r["ton_ky_truoc"] == 0), first)
            target["ma_thu_tuc"] = ""
            self.record("dossiers", kind, file, code, s, "machine row without ma_thu_tuc", procedure=proc)
        elif kind == "balance_identity":
            target = max(mine, key=lambda r: int(r["tiep_nhan_truc_tiep"]) + int(r["tiep_nhan_truc_tuyen"]))  # type: ignore[call-overload]
            target["da_giai_quyet_truoc_han"] = int(target["da_giai_quyet_truoc_han"]) + 3  # type: ignore[call-overload]
            self.record(
                "dossiers",
                kind,
                file,
                code,
                s,
                "resolved 3 more than the stock allows",
                procedure=target["ma_thu_tuc"],
            )
        elif kind == "stock_continuity":
            cands = [r for r in mine if int(r["ton_ky_truoc"]) > 0]  # type: ignore[call-overload]
            if not cands:
                cands = [r for r in rows if int(r["ton_ky_truoc"]) > 0 and r["ma_thu_tuc"]]  # type: ignore[call-overload]
            if not cands:
                return
            target = cands[0]
            target["ton_ky_truoc"] = int(target["ton_ky_truoc"]) + 4  # type: ignore[call-overload]
            target["da_giai_quyet_dung_han"] = int(target["da_giai_quyet_dung_han"]) + 4  # type: ignore[call-overload]
            self.record(
                "dossiers",
                kind,
                file,
                str(target["ma_don_vi"]),
                s,
                "ton_ky_truoc 4 above last month's pending (row itself balanced)",
                procedure=target["ma_thu_tuc"],
            )

    def reexport(self, ym: YM, rows: list[dict[str, object]]) -> list[dict[str, object]] | None:
        if self._reexport is None or self._reexport[0] != ym_str(ym):
            return None
        s, units = self._reexport
        when = min(deadline(ym) + timedelta(days=6), self.ctx.as_of - timedelta(days=1))
        ts = fmt_ts(when, 14 * 3600 + 5 * 60)
        out: list[dict[str, object]] = []
        self._reexport_changed: list[tuple[str, str]] = []
        for code in units:
            mine = [dict(r) for r in rows if r["ma_don_vi"] == code]
            if not mine:
                continue
            target = max(mine, key=lambda r: int(r["tiep_nhan_truc_tiep"]))  # type: ignore[call-overload]
            target["tiep_nhan_truc_tiep"] = int(target["tiep_nhan_truc_tiep"]) + 3  # type: ignore[call-overload]
            target["da_giai_quyet_dung_han"] = int(target["da_giai_quyet_dung_han"]) + 3  # type: ignore[call-overload]
            for r in mine:
                r["ngay_xuat"] = ts
            out += mine
            self._reexport_changed.append((code, str(target["ma_thu_tuc"])))
        return out or None

    def note_reexport(self, file: str) -> None:
        s = self._reexport[0] if self._reexport else None
        for code, proc in getattr(self, "_reexport_changed", []):
            self.record(
                "dossiers",
                "revised",
                file,
                code,
                s,
                "corrected re-export: 3 more received and resolved",
                procedure=proc,
            )

    def human_rows(
        self, group: str, ym: YM, rows: list[list[object]], meta: dict[str, object], file: str
    ) -> tuple[list[list[object]], dict[str, object]]:
        s = ym_str(ym)
        for kind in self._human.get((group, s), []):
            if kind == "unknown_unit_name":
                rows.append([len(rows) + 1, UNKNOWN_NAME, 12, 5, 7, 0, 10, 6, 4, 0, 2, 2, None])
                self.record("dossiers", kind, file, UNKNOWN_NAME, s, "name matches no unit in the register")
            elif kind == "late":
                d = min(month_last(ym) + timedelta(days=21), self.ctx.as_of - timedelta(days=1))
                if d > deadline(ym):
                    meta["date"] = d
                    self.record(
                        "dossiers", kind, file, None, s, f"date line {d.isoformat()} after the deadline"
                    )
            elif kind == "no_date_line":
                meta["has_date_line"] = False
                self.record("dossiers", kind, file, None, s, "report without its 'ngày … tháng … năm …' line")
            elif kind == "total_mismatch":
                r = rows[0]
                r[2] = (r[2] or 0) + 2  # type: ignore[operator]
                self.record("dossiers", kind, file, str(r[1]), s, "(3) Tổng số is 2 above (4)+(5)+(6)")
            elif kind == "duplicate_key":
                rows.append([len(rows) + 1, *rows[0][1:]])
                self.record("dossiers", kind, file, str(rows[0][1]), s, "same unit listed twice")
            elif kind == "ambiguous_unit_name":
                code = self._human_unit[(group, s)]
                for r in rows:
                    if _resolves_to(self.ctx, str(r[1])) == code:
                        r[1] = SHARED_ALIAS
                        self.record(
                            "dossiers",
                            kind,
                            file,
                            SHARED_ALIAS,
                            s,
                            f"alias shared by two units (meant {code})",
                        )
                        break
            elif kind == "non_integer_count":
                r = rows[0]
                r[3] = 2.5
                r[2] = None
                self.record("dossiers", kind, file, str(r[1]), s, "online count 2.5")
        return rows, meta

    def payment_extras(
        self, ym: YM, template: dict[str, object] | None, file: str
    ) -> list[dict[str, object]]:
        s = ym_str(ym)
        specs = self._pay.get(s, [])
        if not specs or template is None:
            return []
        out: list[dict[str, object]] = []
        yymm = f"{ym[0] % 100:02d}{ym[1]:02d}"
        mid = month_first(ym) + timedelta(days=min(14, max(0, (self.ctx.as_of - month_first(ym)).days - 1)))
        for i, (kind, arg) in enumerate(specs, start=1):
            row = dict(template)
            row["ma_giao_dich"] = f"GD{yymm}9{i:06d}"
            unit: str | None = str(row["ma_don_vi"])
            detail = ""
            if kind == "duplicate_key":
                row["ma_giao_dich"] = template["ma_giao_dich"]
                row["so_tien"] = int(template["so_tien"]) + 10000  # type: ignore[call-overload]
                detail = "ma_giao_dich used twice with different amounts"
            elif kind in ("unknown_unit_code", "unit_outside_validity"):
                row["ma_don_vi"] = arg
                row["ma_ho_so"] = f"{arg}-{mid:%y%m%d}-0001"
                unit, detail = arg, "unit code not in the register / not valid in the month"
            elif kind == "amount_not_positive":
                row["so_tien"] = int(arg)
                detail = f"so_tien {arg}"
            elif kind == "unknown_status":
                row["trang_thai"] = arg
                detail = f"trang_thai {arg}"
            elif kind == "unknown_channel":
                row["kenh"] = arg
                detail = f"kenh {arg}"
            elif kind == "unparseable_date":
                row["thoi_diem"] = f"{ym[0]}-{ym[1]:02d}-32T10:15:00"
                detail = "thoi_diem with day 32"
            elif kind == "unparseable_number":
                row["so_tien"] = arg
                detail = f"so_tien {arg!r}"
            elif kind == "unknown_procedure":
                row["ma_thu_tuc"] = next(
                    c for c in ("2.009996", "1.009995") if c not in self.ctx.proc_by_code
                )
                detail = f"ma_thu_tuc {row['ma_thu_tuc']} not in the catalogue"
            elif kind == "cross_source":
                proc = self._fee_proc_for(arg, mid)
                if proc is None:
                    continue
                for j in (1, 2):
                    extra = {
                        "ma_giao_dich": f"GD{yymm}8{j:06d}",
                        "ma_ho_so": f"{arg}-{mid:%y%m%d}-{j:04d}",
                        "ma_thu_tuc": proc,
                        "ma_don_vi": arg,
                        "thoi_diem": fmt_ts(mid, 9 * 3600 + j * 600),
                        "so_tien": self.ctx.proc_by_code[proc].fee,
                        "kenh": "dvcqg",
                        "trang_thai": "thanh_cong",
                    }
                    out.append(extra)
                self.record(
                    "payments",
                    kind,
                    file,
                    arg,
                    s,
                    "successful online payments in a month with no dossier received",
                )
                continue
            out.append(row)
            self.record("payments", kind, file, unit, s, detail, id=row["ma_giao_dich"])
        return out

    def _fee_proc_for(self, code: str, d: date) -> str | None:
        u = self.ctx.reg.by_code[code]
        caps = ("xa", "huyen") if u.kind == "new_commune" else (u.cap,)
        for p in self.ctx.procs:
            if p.has_fee and any(c in p.caps for c in caps) and p.tttt and p.tttt <= d and p.valid_on(d):
                return p.code
        for p in self.ctx.procs:
            if p.has_fee and any(c in p.caps for c in caps):
                return p.code
        return None

    def survey_extras(
        self, year: int, template: dict[str, object] | None, file: str
    ) -> list[dict[str, object]]:
        kinds = self._survey.get(year, [])
        if not kinds or template is None:
            return []
        out: list[dict[str, object]] = []
        for i, kind in enumerate(kinds, start=1):
            row = dict(template)
            row["ma_phieu"] = f"PKS-{year}-9{i:06d}"
            unit: str | None = str(row["ma_don_vi"])
            if kind == "duplicate_key":
                row["ma_phieu"] = template["ma_phieu"]
                row["q1"] = 1 if template.get("q1") != 1 else 2
                detail = "ma_phieu used twice"
            elif kind == "unknown_unit_code":
                row["ma_don_vi"] = unit = UNKNOWN_UNIT
                detail = "unit code not in the register"
            elif kind == "unparseable_date":
                row["ngay_khao_sat"] = f"{year}-02-30"
                detail = "ngay_khao_sat is 30 February"
            elif kind == "unknown_survey_type":
                row["loai_khao_sat"] = "khac"
                detail = "loai_khao_sat 'khac'"
            elif kind == "answer_out_of_range":
                row["q3"] = 6
                detail = "q3 = 6 on a 1–5 scale"
            elif kind == "unknown_channel":
                row["kenh"] = "zalo"
                detail = "kenh 'zalo'"
            else:
                continue
            out.append(row)
            self.record("surveys", kind, file, unit, str(year), detail, id=row["ma_phieu"])
        return out

    def self_report_rows(self, year: int, rows: list[list[object]], file: str) -> list[list[object]]:
        """Rows are ``[nam, ma_don_vi, ma_chi_tieu, tu_so, mau_so, ghi_chu]``."""
        for kind in self._self.get(year, []):
            if not rows:
                break
            if kind == "duplicate_key":
                r = list(rows[0])
                r[3] = _bump(r[3])
                rows.insert(1, r)
                self.record(
                    "self_report", kind, file, str(r[1]), str(year), f"{r[2]} reported twice", kpi=r[2]
                )
            elif kind == "unparseable_number":
                r = rows[len(rows) // 2]
                r[3] = "không rõ"
                self.record("self_report", kind, file, str(r[1]), str(year), "tu_so 'không rõ'", kpi=r[2])
            elif kind == "numerator_above_denominator":
                r = rows[len(rows) // 3]
                r[3] = _bump(r[4], 5)
                self.record("self_report", kind, file, str(r[1]), str(year), "tu_so above mau_so", kpi=r[2])
            elif kind == "unknown_unit_code":
                r = list(rows[-1])
                r[1] = UNKNOWN_UNIT
                rows.append(r)
                self.record(
                    "self_report",
                    kind,
                    file,
                    UNKNOWN_UNIT,
                    str(year),
                    "unit code not in the register",
                    kpi=r[2],
                )
        return rows

    def note_self_report(self, year: int, header: list[str], rows: list[list[object]], path: Path) -> None:
        self._self_rows[year] = (header, [list(r) for r in rows], path)

    # ------------------------------------------------------------------ file-level faults, after all feeds
    def finish(self) -> None:
        from .common import csv_bytes

        ctx = self.ctx
        out = ctx.out
        for spec in self._files:
            kind, _, arg = spec.partition(":")
            if kind == "truncated":
                months = [
                    p for p in sorted((out / "payments").glob("payments_*.csv")) if p.stat().st_size > 400
                ]
                if not months:
                    continue
                path = out / "payments" / f"payments_{TRUNCATED_MONTH}.csv"
                if path not in months:
                    path = months[len(months) // 4]
                data = path.read_bytes()
                full = path.with_name(path.stem + "_gui_lai.csv")
                full.write_bytes(data)
                ctx.add_file("payments", full, data.count(b"\n") - 1)
                cut = data.rfind(b"\n", 0, int(len(data) * 0.6)) + 1
                line_end = data.find(b"\n", cut)
                cut += max(5, (line_end - cut) // 2)
                path.write_bytes(data[:cut])
                period = path.stem.split("_")[1]
                self.record(
                    "payments",
                    "truncated_file",
                    ctx.rel(path),
                    None,
                    period,
                    "file cut in the middle of a row",
                )
                self.record(
                    "payments", "resent_file", ctx.rel(full), None, period, "complete copy sent again"
                )
            elif kind == "duplicate_file":
                src = out / "dossiers" / f"dossiers_{DUP_FILE_MONTH}.csv"
                if not src.exists():
                    cands = sorted((out / "dossiers").glob("dossiers_*.csv"))
                    if not cands:
                        continue
                    src = cands[0]
                dst = src.with_name(src.stem + " (1).csv")
                shutil.copyfile(src, dst)
                ctx.add_file("dossiers", dst, 0)
                self.record(
                    "dossiers",
                    "duplicate_file",
                    ctx.rel(dst),
                    None,
                    src.stem.split("_")[1],
                    f"same bytes as {src.name}",
                )
            elif kind == "not_csv":
                dst = out / "dossiers" / "bao_cao_scan.csv"
                junk = random.Random(f"{ctx.seed}:scan").randbytes(700)
                dst.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + junk)
                ctx.add_file("dossiers", dst, 0)
                self.record(
                    "dossiers", "not_csv", ctx.rel(dst), None, None, "a scanned image saved with a .csv name"
                )
            elif kind == "wrong_encoding":
                y = int(arg)
                if y not in self._self_rows:
                    continue
                header, rows, path = self._self_rows[y]
                text = csv_bytes(header, [[*r[:5], r[5] or "Số liệu gửi lại"] for r in rows]).decode("utf-8")
                dst = path.with_name(f"self_report_{y}_ban_cu.csv")
                dst.write_bytes(_cp1258(text))
                ctx.add_file("self_report", dst, 0)
                self.record(
                    "self_report", "wrong_encoding", ctx.rel(dst), None, str(y), "Windows-1258, not UTF-8"
                )
            elif kind == "self_revised":
                y = int(arg)
                if y not in self._self_rows:
                    continue
                header, rows, path = self._self_rows[y]
                good = [r for r in rows if r[1] != UNKNOWN_UNIT and _num(r[3]) is not None and _num(r[4])]
                if not good:
                    continue
                r = list(good[-1])
                r[3] = max(0, (_num(r[3]) or 0) - 1)
                r[5] = "Điều chỉnh số liệu"
                dst = path.with_name(f"self_report_{y}_bo_sung.csv")
                dst.write_bytes(csv_bytes(header, [r]))
                ctx.add_file("self_report", dst, 1)
                self.record(
                    "self_report", "revised", ctx.rel(dst), str(r[1]), str(y), "corrected value", kpi=r[2]
                )
            elif kind == "missing_columns":
                y = int(arg)
                dst = out / "surveys" / f"surveys_{y}_bo_sung.csv"
                hdr = ["ma_phieu", "loai_khao_sat", "ngay_khao_sat", "kenh", "q1", "q2", "q3", "q4", "q5"]
                rows3 = [
                    [f"PKS-{y}-8{i:06d}", "cqhc", f"{y}-06-1{i}", "giay", 4, 5, 4, 4, 5] for i in range(1, 4)
                ]
                dst.write_bytes(csv_bytes(hdr, rows3))
                ctx.add_file("surveys", dst, 3)
                self.record("surveys", "missing_columns", ctx.rel(dst), None, str(y), "no ma_don_vi column")


def _bump(v: object, by: int = 1) -> object:
    n = _num(v)
    if n is None:
        return v
    return round(n + by, 2) if isinstance(n, float) else n + by


def _num(v: object) -> float | int | None:
    if isinstance(v, int | float) and not isinstance(v, bool):
        return v
    try:
        f = float(str(v))
    except ValueError:
        return None
    return int(f) if f.is_integer() and "." not in str(v) else f


def _resolves_to(ctx: Context, name: str) -> str | None:
    from .units import norm_key

    key = norm_key(name)
    for u in ctx.reg.units:
        if key in {norm_key(x) for x in [u.name, *u.aliases]}:
            return u.code
    return None


def _cp1258(text: str) -> bytes:
    """Legacy Windows-1258: precomposed base letters plus combining tone marks (invalid as UTF-8)."""
    import unicodedata

    out = bytearray()
    for ch in unicodedata.normalize("NFC", text):
        try:
            out += ch.encode("cp1258")
            continue
        except UnicodeEncodeError:
            pass
        d = unicodedata.normalize("NFD", ch)
        base, marks = d[0], d[1:]
        # keep circumflex/breve/horn on the base letter where cp1258 has it precomposed
        while marks:
            cand = unicodedata.normalize("NFC", base + marks[0])
            try:
                cand.encode("cp1258")
            except UnicodeEncodeError:
                break
            base, marks = cand, marks[1:]
        out += base.encode("cp1258", errors="replace")
        out += marks.encode("cp1258", errors="replace")
    return bytes(out)
