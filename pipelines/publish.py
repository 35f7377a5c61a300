"""Publishing the marts for analysts (interface.md: reads never fail on the writer's lock).

After a successful run the marts are copied into a new DuckDB file beside the published one and
renamed over it in one atomic step. Readers open the published file read-only: they see either the
previous complete set of marts or the new one, never a half-built state, and never touch the
warehouse the pipeline writes.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import duckdb

from pipelines.lib.archive import remove_dead_temps
from pipelines.lib.config import Settings

PUBLISHED_FILE = "par_marts.duckdb"
# Quality tables analysts need beside the marts; none holds personal data.
EXTRA_TABLES = {"raw.quarantine_rows": "quality.quarantine_rows", "raw.exports": "quality.exports"}


def published_path(settings: Settings) -> Path:
    return settings.published / PUBLISHED_FILE


def publish(con: duckdb.DuckDBPyConnection, settings: Settings) -> dict[str, int]:
    """Copy every table of schema `marts` (and the quality tables) into the published file."""
    target = published_path(settings)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{PUBLISHED_FILE}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    # a publish that was killed left its half-built copy (and WAL) beside the published one
    remove_dead_temps(target.parent.glob(f".{PUBLISHED_FILE}.*.tmp*"))
    tables = [
        r[0]
        for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'marts' ORDER BY 1"
        ).fetchall()
    ]
    counts: dict[str, int] = {}
    con.execute(f"ATTACH '{tmp}' AS pub")
    try:
        con.execute("CREATE SCHEMA pub.marts")
        con.execute("CREATE SCHEMA pub.quality")
        for table in tables:
            con.execute(f"CREATE TABLE pub.marts.{table} AS SELECT * FROM marts.{table}")
            counts[f"marts.{table}"] = con.execute(f"SELECT count(*) FROM pub.marts.{table}").fetchone()[0]
        for source, dest in EXTRA_TABLES.items():
            con.execute(f"CREATE TABLE pub.{dest} AS SELECT * FROM {source}")
            counts[dest] = con.execute(f"SELECT count(*) FROM pub.{dest}").fetchone()[0]
        con.execute("CHECKPOINT pub")
    finally:
        con.execute("DETACH pub")
    os.replace(tmp, target)
    return counts


@contextlib.contextmanager
def open_published(settings: Settings) -> Iterator[duckdb.DuckDBPyConnection]:
    path = published_path(settings)
    if not path.exists():
        raise FileNotFoundError(f"no published marts at {path}: run `make run` first")
    con = duckdb.connect(str(path), read_only=True)
    try:
        con.execute("USE marts")
        yield con
    finally:
        con.close()
