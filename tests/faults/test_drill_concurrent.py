"""Drill 5 (issue 7): analysts query the published marts in a loop (another process) while two runs of
`python -m pipelines job` are started at once on the same warehouse. The second waits or refuses with a
message naming the lock; the warehouse is never corrupted; the readers never fail; the final marts equal
those of a single run."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time

import pytest

from .drills import (
    HERE,
    REPO,
    check_archive,
    check_no_half_loaded_export,
    diff,
    env_for,
    kill_group,
    leftover_relations,
    marts_snapshot,
    raw_snapshot,
    settings_for,
    start_job,
    tail,
    wait_job,
)


def test_two_runs_at_once_with_readers(reference, tmp_path):
    started = time.monotonic()
    root = tmp_path / "w"
    # the state of yesterday's run: warehouse, archive and published copy, as an analyst finds them
    shutil.copytree(reference.root, root, ignore=shutil.ignore_patterns("dbt_target"))
    settings = settings_for(root)
    published = settings.published / "par_marts.duckdb"
    # both runs share one Dagster instance, as `make run` and the nightly schedule do
    home = root / "dagster_home"
    home.mkdir()
    shutil.copy(REPO / "dagster.yaml", home / "dagster.yaml")

    stop = root / "stop-readers"
    readers = [
        subprocess.Popen(
            [sys.executable, str(HERE / "reader_child.py"), str(published), str(stop), "280"],
            env=env_for(root),
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(1)  # one analyst: the machine has two cores for both runs and the reader
    ]
    logs = [root / "job_a.log", root / "job_b.log"]
    jobs = [start_job(root, log, DAGSTER_HOME=str(home)) for log in logs]
    try:
        outs = [wait_job(job, log, timeout=280) for job, log in zip(jobs, logs, strict=True)]
    finally:
        for job in jobs:
            if job.poll() is None:
                kill_group(job)
        stop.touch()
    results = [json.loads(r.communicate(timeout=60)[0].strip().splitlines()[-1]) for r in readers]

    codes = [job.returncode for job in jobs]
    assert 0 in codes, "\n\n".join(tail(log) for log in logs)
    for code, out, log in zip(codes, outs, logs, strict=True):
        if code != 0:  # refused: clearly, naming the lock, before touching anything
            assert "another run" in out and str(settings.warehouse) in out, tail(log)
            assert "STEP_START" not in out, tail(log)
        else:
            assert "RUN_SUCCESS" in out, tail(log)

    for result in results:
        assert result["errors"] == [], result["errors"][:5]
        assert result["rounds"] > 10
        # readers only ever saw complete states (all marts there), and here every state is the same data
        assert len(result["states"]) == 1, result["states"]

    db = settings.warehouse
    assert diff(marts_snapshot(db), reference.marts) == []
    assert diff(raw_snapshot(db), reference.raw) == []
    assert diff(marts_snapshot(published), reference.published) == []
    check_archive(settings.archive, db)
    check_no_half_loaded_export(db)
    assert leftover_relations(db) == []
    assert [p.name for p in settings.published.iterdir()] == ["par_marts.duckdb"]
    print(f"drill 5: exit codes {codes}; reader rounds {[r['rounds'] for r in results]}; ", end="")
    print(f"{time.monotonic() - started:.0f}s")


HOLD = """
import os, signal, sys, time
from pipelines.lib.warehouse import run_lock
with run_lock(sys.argv[1]):
    print("held", flush=True)
    if sys.argv[2] == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    time.sleep(float(sys.argv[2]))
"""


def test_run_lock_refuses_waits_and_is_never_stale(tmp_path):
    """The lock behind drill 5, alone: refusal names the lock and its holder; a waiting run gets it when
    the holder ends; a holder killed by SIGKILL leaves no stale lock."""
    from pipelines.lib.warehouse import WarehouseBusyError, run_lock, run_lock_path

    warehouse = tmp_path / "wh" / "par.duckdb"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(warehouse), "1.5"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(WarehouseBusyError) as err, run_lock(warehouse):
            pass
        assert str(run_lock_path(warehouse)) in str(err.value) and f"pid {holder.pid}" in str(err.value)
        started = time.monotonic()
        with run_lock(warehouse, wait=30):
            assert 0.3 < time.monotonic() - started < 25
    finally:
        holder.kill()
        holder.wait()

    killed = subprocess.run(
        [sys.executable, "-c", HOLD, str(warehouse), "kill"], capture_output=True, text=True, timeout=60
    )
    assert killed.stdout.strip() == "held" and killed.returncode == -9
    with run_lock(warehouse):  # at once: the kernel released the dead holder's lock
        pass
