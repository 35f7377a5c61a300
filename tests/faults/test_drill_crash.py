"""Drill 1 (issue 7): the process is SIGKILLed part-way through loading feeds, through the dbt build and
through a publish; the next run completes and everything equals an uninterrupted run on the same sources.

Each crash is a real SIGKILL of a subprocess: no finally block, no DuckDB close, no cleanup of any kind.
The ingestion crashes are placed deterministically (crash_child.py) at every boundary where a half-done
step could leak: between copying an export and renaming it, between recording it and writing its sidecar,
inside an export's read-and-check transaction, between two exports, inside a publish. The
dbt crash kills the whole process group of a real `python -m pipelines job` once dbt is part-way through.
"""

from __future__ import annotations

import signal
import time

from .drills import (
    archive_listing,
    check_archive,
    check_no_half_loaded_export,
    copy_sources,
    crash_child,
    diff,
    exports_read_not_checked,
    group_commands,
    kill_group,
    leftover_relations,
    marts_snapshot,
    raw_snapshot,
    settings_for,
    start_job,
    tail,
    wait_for,
    wait_job,
)

# (point, n): see crash_child.py; chosen so each crash lands in a different feed/step of a fresh warehouse
INGEST_CRASHES = [
    ("archive_copy", 5),  # 3rd dossier export copied to its temporary name, not renamed
    ("archive_sidecar", 3),  # a dossier export recorded, its sidecar not written
    ("parse_txn", 2),  # inside the 2nd dossier export's transaction, its rows read
    ("parse_done", 6),  # the 6th export of the run read, its checks not committed
    ("check_batch", 3),  # the dossier exports read and committed, not checked (units, procedures first)
    ("check", 4),  # half-way through the 2nd dossier export's checks (units, procedures before it)
]


def test_sigkill_mid_ingest_mid_dbt_and_mid_publish_then_recover(reference, tmp_path):
    root = tmp_path
    copy_sources(reference.sources, root)
    settings = settings_for(root)
    started = time.monotonic()

    for point, n in INGEST_CRASHES:
        done = crash_child(root, point, n)
        assert done.returncode == -signal.SIGKILL, f"{point}: not killed ({done.returncode}): {done.stdout}"
        check_no_half_loaded_export(settings.warehouse)
        if point == "archive_copy":
            assert [p for p in settings.archive.rglob("*.tmp*")], "the copy crash left no temporary file"
        if point == "check_batch":
            assert exports_read_not_checked(settings.warehouse), (
                "the crash left no export read but not checked"
            )

    # A real job, killed with its whole process group (dbt included) once dbt has built a few models.
    log = root / "job_killed.log"
    job = start_job(root, log)
    try:
        wait_for(
            lambda: (
                log.read_text(errors="replace").count("par_dbt - ASSET_MATERIALIZATION") >= 12
                or job.poll() is not None
            ),
            timeout=240,
            what="dbt to build some models",
            interval=0.05,
        )
        assert job.poll() is None, f"the job ended before it could be killed:\n{tail(log)}"
        assert any("dbt" in c and "build" in c for c in group_commands(job.pid)), "dbt is not running"
    finally:
        kill_group(job)
    wait_for(lambda: group_commands(job.pid) == [], timeout=15, what="the killed job's processes to go")
    wal_after_kill = settings.warehouse.with_name(settings.warehouse.name + ".wal").exists()

    # A publish killed half-way leaves its temporary file beside the (absent) published copy.
    done = crash_child(root, "publish", 1)
    assert done.returncode == -signal.SIGKILL, done.stdout + done.stderr
    assert [p.name for p in settings.published.iterdir() if p.name != "par_marts.duckdb"]

    # The next run completes, whatever the crashes left (stale WAL, temp files, half-built dbt state).
    log = root / "job_recovery.log"
    out = wait_job(start_job(root, log), log)
    assert "RUN_SUCCESS" in out, tail(log)

    db = settings.warehouse
    assert diff(marts_snapshot(db), reference.marts) == []
    assert diff(raw_snapshot(db), reference.raw) == []
    assert archive_listing(settings.archive) == reference.archive
    check_archive(settings.archive, db)
    check_no_half_loaded_export(db)
    assert leftover_relations(db) == []
    published = settings.published / "par_marts.duckdb"
    assert [p.name for p in settings.published.iterdir()] == ["par_marts.duckdb"]
    assert diff(marts_snapshot(published), reference.published) == []
    print(f"drill 1: WAL left by the dbt kill: {wal_after_kill}; {time.monotonic() - started:.0f}s")
