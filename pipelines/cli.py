"""Command line: `python -m pipelines run | summary | sql QUERY | generate`.

`run` is what `make run` does: sample exports when the sources folder is empty, the whole main job in
one process (run history kept in DAGSTER_HOME), then the tables people look at first.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import logging
import os
import sys
from pathlib import Path

from pipelines.lib.config import FEEDS, REGISTERS, Settings, load_settings
from pipelines.lib.warehouse import WarehouseBusyError

log = logging.getLogger("pipelines")


def _has_exports(sources: Path) -> bool:
    return sources.is_dir() and any(p.is_file() for p in sources.rglob("*"))


def ensure_sample(settings: Settings) -> None:
    """Write the deterministic demo exports when the sources folder is empty (interface.md)."""
    if _has_exports(settings.sources):
        return
    from pipelines.sample.generator import generate

    print(f"No exports in {settings.sources}: writing the demo sample (as of {settings.as_of}) …", flush=True)
    summary = generate(settings.sources, scale="demo", faults="demo", as_of=settings.as_of)
    files = summary.get("files", {})
    print("  files written per feed: " + ", ".join(f"{k} {v}" for k, v in sorted(files.items())), flush=True)


def run_job(settings: Settings, *, console_level: str = "DEBUG") -> bool:
    from pipelines.lib.warehouse import run_lock

    # One run per warehouse at a time: a second one waits PAR_RUN_LOCK_WAIT seconds, then refuses.
    with run_lock(settings.warehouse, wait=settings.run_lock_wait):
        return _run_job(settings, console_level)


def _run_job(settings: Settings, console_level: str) -> bool:
    from dagster import DagsterInstance

    from pipelines.definitions import defs

    instance = DagsterInstance.get() if os.environ.get("DAGSTER_HOME") else DagsterInstance.ephemeral()
    if os.environ.get("DAGSTER_HOME"):
        Path(os.environ["DAGSTER_HOME"]).mkdir(parents=True, exist_ok=True)
    job = defs.resolve_job_def("par_main_job")
    # dbt's own console lines (and GX's) go to a log file, not between the progress log and the
    # summary; Dagster's progress log (stderr) stays on the terminal.
    console_log = settings.warehouse.parent / "logs" / "last_run_console.log"
    console_log.parent.mkdir(parents=True, exist_ok=True)
    with console_log.open("w", encoding="utf-8") as handle, contextlib.redirect_stdout(handle):
        result = job.execute_in_process(
            instance=instance,
            raise_on_error=False,
            run_config={"loggers": {"console": {"config": {"log_level": console_level}}}},
        )
    print(f"dbt and GX console output of this run: {console_log}")
    if not result.success:
        for event in result.all_events:
            if event.is_step_failure:
                print(f"FAILED step {event.step_key}: {event.event_specific_data.error.message.strip()}")
    return result.success


def _fmt_pct(value, measure: str) -> str:
    if value is None:
        return "—"
    return f"#{value:.0f}" if measure == "rank" else f"{100 * value:.1f}%"


def print_summary(settings: Settings) -> None:
    from pipelines.lib.warehouse import connect

    with connect(settings.warehouse, read_only=True) as con:
        print("\n== Ingestion: exports, rows loaded, rows quarantined ==")
        for feed in (*REGISTERS, *FEEDS):
            exports = con.execute(
                "SELECT count(*), count(*) FILTER (WHERE parse_status = 'quarantined') FROM raw.exports "
                "WHERE feed = ?",
                [feed],
            ).fetchone()
            loaded = con.execute(f"SELECT count(*) FROM raw.{feed}").fetchone()[0]
            quarantined = con.execute(
                "SELECT count(*) FROM raw.quarantine_rows WHERE feed = ?", [feed]
            ).fetchone()[0]
            print(
                f"  {feed:<17} {exports[0]:>5} exports ({exports[1]} unreadable)  {loaded:>9} rows loaded"
                f"  {quarantined:>6} rows quarantined"
            )
        _print_kpis(con, settings)
        _print_gaps(con)
        _print_ranking(con)
    print(f"\nReports: {settings.reports.resolve()}")
    print(
        f"Warehouse (writer): {settings.warehouse.resolve()}   published copy for analysts: {settings.published.resolve()}"
    )


def _print_kpis(con, settings: Settings) -> None:
    years = settings.years
    rows = con.execute(
        """SELECT p.kpi_code, d.name_vi, d.measure, p.year, p.value, p.target, p.met, p.on_track,
                  d.target_2025, d.target_2030, d.target_2030_as_written
           FROM marts.kpi_province_year p JOIN marts.dim_kpis d USING (kpi_code)
           ORDER BY coalesce(d.target_id, 'T99'), p.kpi_code, p.year"""
    ).fetchall()
    print("\n== Province KPIs against targets (value; ✓ met / ✗ not met; ↗ on track / ↘ behind) ==")
    header = f"  {'KPI':<62} {'2025':>6} {'2030':>6} " + " ".join(f"{y:>12}" for y in years)
    print(header)
    by_kpi: dict[str, dict] = {}
    for code, name, measure, year, value, _target, met, on_track, t25, t30, t30w in rows:
        entry = by_kpi.setdefault(
            code, {"name": name, "measure": measure, "cells": {}, "t25": t25, "t30": t30w or t30}
        )
        mark = {True: "✓", False: "✗", None: " "}[met] + {True: "↗", False: "↘", None: " "}[on_track]
        entry["cells"][year] = f"{_fmt_pct(value, measure)} {mark}"
    for code, entry in by_kpi.items():
        label = f"{entry['name'][:48]} ({code})"[:62]
        t25 = _fmt_pct(entry["t25"], entry["measure"]) if entry["t25"] is not None else "—"
        t30 = entry["t30"]
        t30 = (
            _fmt_pct(t30, entry["measure"])
            if isinstance(t30, float)
            else {"improve_vs_2025": "<2025"}.get(t30, t30 or "—")
        )
        cells = " ".join(f"{entry['cells'].get(y, '—'):>12}" for y in years)
        print(f"  {label:<62} {t25:>6} {t30:>6} {cells}")


def _print_gaps(con) -> None:
    print("\n== Reporting gaps (quality.md) ==")
    for gap_type, severity, n in con.execute(
        "SELECT gap_type, severity, count(*) FROM marts.reporting_gaps GROUP BY 1, 2 ORDER BY 2, 3 DESC"
    ).fetchall():
        print(f"  {gap_type:<14} {severity:<8} {n:>6}")
    worst = con.execute(
        """SELECT unit_code, any_value(unit_name), count(*) FILTER (WHERE severity = 'error') AS errors,
                  count(*) AS gaps
           FROM marts.reporting_gaps WHERE unit_code IS NOT NULL
           GROUP BY unit_code ORDER BY errors DESC, gaps DESC, unit_code LIMIT 5"""
    ).fetchall()
    if worst:
        print("  Units with the most gaps:")
        for code, name, errors, gaps in worst:
            print(f"    {code:<14} {name or '':<40} {gaps:>4} gaps ({errors} errors)")


def _print_ranking(con) -> None:
    print("\n== PAR ranking (top and bottom 3 per group) ==")
    gate = con.execute(
        """SELECT year, string_agg(check_name || ': ' || detail, '; ') FILTER (WHERE NOT passed),
                  bool_or(year_is_ranked), bool_or(year_is_over)
           FROM marts.ranking_gate GROUP BY year ORDER BY year"""
    ).fetchall()
    for year, failures, ranked, over in gate:
        if not over:
            print(f"  {year}: year in progress — KPIs year-to-date, no ranking")
            continue
        if not ranked:
            print(f"  {year}: NOT RANKED — gate blocked: {failures}")
            continue
        note = f" (ranked despite: {failures})" if failures else ""
        print(f"  {year}:{note}")
        for (group,) in con.execute(
            "SELECT DISTINCT ranking_group FROM marts.par_ranking WHERE year = ? ORDER BY 1", [year]
        ).fetchall():
            rows = con.execute(
                """SELECT rank, unit_name, score, grade FROM marts.par_ranking
                   WHERE year = ? AND ranking_group = ? AND rank IS NOT NULL ORDER BY rank, unit_code""",
                [year, group],
            ).fetchall()
            if not rows:
                continue
            shown = rows if len(rows) <= 6 else rows[:3] + [None] + rows[-3:]
            text = "; ".join("…" if r is None else f"{r[0]}. {r[1]} {r[2]:.2f} ({r[3]})" for r in shown)
            print(f"    {group:<11} {text}")


def sql(query: str, settings: Settings) -> None:
    """Run a query on the published read-only copy: never blocked by, nor blocking, a running pipeline."""
    from pipelines.publish import open_published

    with open_published(settings) as con:
        cursor = con.execute(query)
        names = [d[0] for d in cursor.description] if cursor.description else []
        rows = cursor.fetchall()
    if names:
        print("\t".join(names))
    for row in rows:
        print("\t".join("" if v is None else str(v) for v in row))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipelines", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="the whole main job, then the summary")
    sub.add_parser("job", help="the main job only (no sample data, no summary): for benchmarks and cron")
    sub.add_parser("summary", help="print the KPI table, gap summary and ranking heads")
    q = sub.add_parser("sql", help="query the published marts")
    q.add_argument("query")
    g = sub.add_parser("generate", help="write sample exports")
    g.add_argument("--out", type=Path)
    g.add_argument("--scale", default="demo")
    g.add_argument("--faults", default="demo")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # GX logs its internals (temporary folders, datasource dumps) and alembic Dagster's storage
    # migrations at INFO: not for this console (GX resets its loggers' levels, hence a filter)
    for handler in logging.getLogger().handlers:
        handler.addFilter(
            lambda r: r.levelno >= logging.WARNING or not r.name.startswith(("great_expectations", "alembic"))
        )
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    settings = load_settings()
    try:
        return _dispatch(args, settings)
    except WarehouseBusyError as exc:
        print(f"REFUSED: {exc}", file=sys.stderr)
        return 75  # EX_TEMPFAIL: nothing was done, try later
    finally:
        # Everything is written and closed. Python's shutdown would now run its garbage collector over
        # the ~0.5 M objects GX, Dagster and dbt-core leave behind, several times (~1.4 s a run); frozen,
        # they are skipped. atexit handlers and finalizers still run as usual.
        gc.freeze()


def _dispatch(args: argparse.Namespace, settings: Settings) -> int:
    if args.command == "run":
        ensure_sample(settings)
        # the terminal shows each step's own INFO lines; Dagster's per-event DEBUG lines stay in the
        # run's history (`make dev`), and `job` (cron, benchmarks, drills) keeps them on its console
        ok = run_job(settings, console_level="INFO")
        try:
            print_summary(settings)
        except Exception as exc:  # the summary must never hide the run's own outcome
            print(f"(summary unavailable: {exc})")
        if not ok:
            print("\nThe run FAILED: see the failed steps above (and the Dagster UI via `make dev`).")
            return 1
        return 0
    if args.command == "job":
        return 0 if run_job(settings) else 1
    if args.command == "summary":
        print_summary(settings)
        return 0
    if args.command == "sql":
        sql(args.query, settings)
        return 0
    if args.command == "generate":
        from pipelines.sample.generator import generate

        generate(args.out or settings.sources, scale=args.scale, faults=args.faults, as_of=settings.as_of)
        return 0
    return 2


if __name__ == "__main__":
    sys.exit(main())
