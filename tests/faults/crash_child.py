"""Run the ingestion of every feed (or a publish) and SIGKILL this very process at a chosen point.

    python crash_child.py POINT N

POINT is where the N-th occurrence kills the process: `archive_copy` (an export copied to its temporary
name, not yet renamed), `archive_sidecar` (export recorded in raw.exports, sidecar not yet written),
`parse_txn` (inside an export's transaction, its rows read, not checked), `parse_done` (an export read,
its transaction not committed), `check_batch` (exports read and committed, their checks not begun),
`check` (inside an export's transaction, half its rows' checks written),
`publish` (N tables copied into the new published file, not yet renamed). Settings come from PAR_*.
A SIGKILL runs no cleanup at all: no finally, no atexit, no DuckDB close — the harshest crash there is.
"""

from __future__ import annotations

import os
import signal
import sys
import types


def main() -> None:
    point, n = sys.argv[1], int(sys.argv[2])
    from pipelines.ingest import pipeline
    from pipelines.lib import archive
    from pipelines.lib.config import FEEDS, REGISTERS, load_settings
    from pipelines.lib.warehouse import connect

    calls = {"n": 0}

    def tick() -> None:
        calls["n"] += 1
        if calls["n"] == n:
            sys.stdout.flush()
            os.kill(os.getpid(), signal.SIGKILL)

    def after(fn):
        def wrapped(*args, **kwargs):
            out = fn(*args, **kwargs)
            tick()
            return out

        return wrapped

    def before(fn):
        def wrapped(*args, **kwargs):
            tick()
            return fn(*args, **kwargs)

        return wrapped

    if point == "archive_copy":
        real_copy = archive.shutil.copyfile

        def copy_then_crash(src, dst):
            real_copy(src, dst)
            tick()

        # only the archive module's view of shutil is replaced (it uses copyfile and nothing else)
        archive.shutil = types.SimpleNamespace(copyfile=copy_then_crash)
    elif point == "archive_sidecar":
        archive.Archive._write_sidecar = before(archive.Archive._write_sidecar)
    elif point == "parse_txn":
        pipeline._insert_text = after(pipeline._insert_text)
    elif point == "parse_done":
        pipeline.parse_export = after(pipeline.parse_export)
    elif point == "check_batch":
        pipeline._check_and_commit = before(pipeline._check_and_commit)
    elif point == "check":
        from pipelines.ingest.feeds import CHECK_SQL

        def check(con, feed, *, replace=False):
            statements = CHECK_SQL[feed](replace)
            for i, statement in enumerate(statements):
                con.execute(statement)
                if i == len(statements) // 2:
                    tick()

        pipeline.check = check
    elif point != "publish":
        raise SystemExit(f"unknown crash point {point}")

    settings = load_settings()
    with connect(settings.warehouse) as con:
        if point == "publish":
            from pipelines import publish as pub

            class Counting:
                def __init__(self, con):
                    self.con = con

                def execute(self, sql, *args):
                    out = self.con.execute(sql, *args)
                    if sql.startswith("CREATE TABLE pub."):
                        tick()
                    return out

            pub.publish(Counting(con), settings)
        else:
            for feed in (*REGISTERS, *FEEDS):
                pipeline.ingest(settings, feed, con)
    print("FINISHED WITHOUT CRASH", calls["n"])


if __name__ == "__main__":
    main()
