"""Deterministic sample exports for the PAR pipeline, in the formats of sources.md / interface.md.

Same arguments give byte-identical files: fixed seeds per feed and month, no wall-clock time in any file
(XLSX properties carry dates derived from the data), stable ordering everywhere. Nothing is dated after the
as-of date: dossiers cover every *expected* month (deadline = month end + 10 days, before as-of), payments
and surveys also cover the running month up to the day before as-of.
"""

from __future__ import annotations

import shutil
import time
from datetime import date
from pathlib import Path

from .common import CsvOut, ym_str
from .context import SCALES, Context
from .dossiers import ReportingPlan, generate_dossiers_and_payments
from .faults import FaultPlan
from .national import write_national
from .procedures import PROCEDURE_COLUMNS, build_catalogue
from .self_report import generate_self_report
from .surveys import generate_surveys
from .units import UNIT_COLUMNS, build_register

FEED_DIRS = ("registers", "dossiers", "payments", "surveys", "self_report", "national_indices")


def generate(
    out: Path,
    *,
    scale: str = "demo",
    faults: str = "demo",
    as_of: date,
    seed: int = 5158,
    overwrite: bool = False,
) -> dict[str, object]:
    """Writes the sample exports under ``out`` and returns a summary (files and row counts per feed).

    ``scale``: ``small`` (tests), ``demo`` (``make run``) or ``province`` (real unit counts, millions of
    rows, streamed). ``faults``: ``none``, ``demo`` or ``all`` (see faults.py); the summary's ``injected``
    lists every planted fault. Refuses to write into feed folders that already hold files unless
    ``overwrite`` (which first empties those folders), so a rerun never mixes two generations.
    """
    if scale not in SCALES:
        raise ValueError(f"unknown scale {scale!r} (small, demo, province)")
    if faults not in ("none", "demo", "all"):
        raise ValueError(f"unknown faults {faults!r} (none, demo, all)")
    started = time.perf_counter()
    out = Path(out)
    _prepare(out, overwrite)

    reg = build_register(scale, as_of, seed)
    handlers = {u.code for u in reg.units if u.cap == "tinh"}
    procs = build_catalogue(scale, as_of, seed, handlers)
    ctx = Context(out, scale, faults, as_of, seed, SCALES[scale], reg, procs)
    plan = ReportingPlan(ctx)
    ctx.faults = FaultPlan(ctx, plan, faults)

    generate_dossiers_and_payments(ctx, plan)
    generate_surveys(ctx)
    generate_self_report(ctx)
    write_national(ctx)
    ctx.faults.finish()
    _write_registers(ctx)

    return {
        "out": str(out),
        "scale": scale,
        "faults": faults,
        "as_of": as_of.isoformat(),
        "seed": seed,
        "months": {
            "first": ym_str(ctx.expected[0]) if ctx.expected else None,
            "last_expected": ym_str(ctx.expected[-1]) if ctx.expected else None,
        },
        "units": len(reg.units),
        "procedures": len(procs),
        "files": {k: len(v) for k, v in sorted(ctx.files.items())},
        "file_names": {k: sorted(v) for k, v in sorted(ctx.files.items())},
        "rows": dict(sorted(ctx.rows.items())),
        "injected": ctx.faults.injected,
        "seconds": round(time.perf_counter() - started, 2),
    }


def _prepare(out: Path, overwrite: bool) -> None:
    busy = [d for d in FEED_DIRS if (out / d).is_dir() and any((out / d).iterdir())]
    if busy and not overwrite:
        raise FileExistsError(
            f"{out} already holds exports in {', '.join(busy)}; pass overwrite=True (--overwrite)"
        )
    for d in busy:
        shutil.rmtree(out / d)
    out.mkdir(parents=True, exist_ok=True)


def _write_registers(ctx: Context) -> None:
    path = ctx.out / "registers" / "units.csv"
    with CsvOut(path, UNIT_COLUMNS) as w:
        for u in ctx.reg.units:
            w.write(u.register_row())
        n = w.rows
    ctx.add_file("registers", path, n)
    path = ctx.out / "registers" / "procedures.csv"
    with CsvOut(path, PROCEDURE_COLUMNS, bom=True) as w:
        for p in ctx.procs:
            w.write(p.register_row())
        n = w.rows
    ctx.add_file("registers", path, n)
