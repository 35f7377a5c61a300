"""The DuckDB warehouse: one writer (the pipeline), schemas raw → staging → marts.

Connections are short-lived and closed before dbt runs as a subprocess (DuckDB allows one writing
process), so every step opens its own with `connect()`.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import duckdb


def memory_limit() -> str:
    """DuckDB's memory cap for the pipeline and dbt (PAR_DUCKDB_MEMORY_LIMIT, default 2GB)."""
    return os.environ.get("PAR_DUCKDB_MEMORY_LIMIT", "2GB")


RAW_DDL = """
CREATE SCHEMA IF NOT EXISTS raw;
CREATE TABLE IF NOT EXISTS raw.exports (
    export_id VARCHAR PRIMARY KEY,      -- sha256 of the bytes: the same bytes twice are one export
    feed VARCHAR NOT NULL,
    file_name VARCHAR NOT NULL,         -- base name as delivered (first seen); HTTP: feed_window.json
    origin VARCHAR NOT NULL,            -- 'file' or 'http'
    origin_uri VARCHAR NOT NULL,
    arrived_at TIMESTAMP NOT NULL,      -- first arrival, UTC
    size_bytes BIGINT NOT NULL,
    archive_path VARCHAR NOT NULL,
    sort_key VARCHAR NOT NULL,          -- "later export wins" order: files by name, then HTTP pulls by arrival
    parse_status VARCHAR,               -- NULL = not parsed yet, 'parsed', 'quarantined'
    parse_reason VARCHAR,
    report_kind VARCHAR,                -- dossiers: 'machine' or 'human'
    report_period VARCHAR,              -- Biểu II.06a: YYYY-MM from the title
    report_date DATE,                   -- Biểu II.06a: the date line, NULL when absent
    rows_parsed BIGINT
);
CREATE TABLE IF NOT EXISTS raw.export_arrivals (
    export_id VARCHAR NOT NULL,
    feed VARCHAR NOT NULL,
    file_name VARCHAR NOT NULL,
    origin_uri VARCHAR NOT NULL,
    arrived_at TIMESTAMP NOT NULL,
    PRIMARY KEY (export_id, origin_uri)
);
CREATE TABLE IF NOT EXISTS raw.quarantine_rows (
    feed VARCHAR NOT NULL,
    export_id VARCHAR NOT NULL,
    file_name VARCHAR NOT NULL,
    row_number BIGINT NOT NULL,
    reason_code VARCHAR NOT NULL,       -- e.g. negative_count, unknown_unit, duplicate_key
    reason VARCHAR NOT NULL,            -- in words
    unit_code VARCHAR,                  -- the register code when the row names a known unit
    unit_as_sent VARCHAR,               -- code or name exactly as sent
    period VARCHAR,                     -- YYYY-MM (monthly feeds) or YYYY (annual), when parseable
    version_ts TIMESTAMP,               -- dossiers: the row's ngay_xuat (local), for version choice;
                                        -- payments, surveys: the row's own date (local), for the as-of cut
    record VARCHAR                      -- the row as sent (JSON), personal data removed
);
-- A source file's hash, kept while its size and modification time are unchanged: an unchanged file
-- is not read again to be archived (the sensor makes the same assumption).
CREATE TABLE IF NOT EXISTS raw.source_file_hashes (
    path VARCHAR PRIMARY KEY,
    size_bytes BIGINT NOT NULL,
    mtime_ns BIGINT NOT NULL,
    export_id VARCHAR NOT NULL
);
-- Which parsed exports `raw.<feed>` and its quarantine rows were derived from, and the fingerprint
-- (registers + checking SQL) they were checked against: new exports are checked alone while the
-- fingerprint holds; when it changes, every export of the feed is checked again.
CREATE TABLE IF NOT EXISTS raw.checked_exports (
    feed VARCHAR NOT NULL,
    export_id VARCHAR NOT NULL,
    PRIMARY KEY (feed, export_id)
);
CREATE TABLE IF NOT EXISTS raw.check_fingerprints (
    feed VARCHAR PRIMARY KEY,
    fingerprint VARCHAR NOT NULL
);
"""


@contextlib.contextmanager
def connect(
    path: Path | str, *, read_only: bool = False, retries: int = 20
) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the warehouse, waiting briefly if another process holds the write lock."""
    path = Path(path)
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    delay = 0.25
    for attempt in range(retries):
        try:
            con = duckdb.connect(str(path), read_only=read_only)
            break
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower() or attempt == retries - 1:
                raise RuntimeError(
                    f"warehouse {path} is locked by another process (is another run going on?): {exc}"
                ) from exc
            time.sleep(delay)
            delay = min(delay * 2, 5.0)
    try:
        if not read_only:
            # Cap DuckDB's memory (it spills to disk beyond it): by default it would take 80 % of RAM.
            # (Insertion order stays preserved: quarantine row numbers follow the file's lines.)
            con.execute(f"SET memory_limit = '{memory_limit()}'")
        yield con
    finally:
        con.close()


class WarehouseBusyError(RuntimeError):
    """Another run holds the warehouse's run lock; this run did nothing."""


def run_lock_path(warehouse: Path | str) -> Path:
    warehouse = Path(warehouse)
    return warehouse.with_name(warehouse.name + ".run.lock")


@contextlib.contextmanager
def run_lock(warehouse: Path | str, *, wait: float = 0.0) -> Iterator[Path]:
    """One run at a time per warehouse, for the whole run (fault drill 5). The DuckDB lock alone is
    not enough: a run opens and closes its connection step by step and dbt-duckdb does not wait for the
    lock, so two runs started together interleave their steps and one fails in dbt with a bare
    "Could not set lock" error. Waits up to `wait` seconds, then refuses naming the lock file and its
    holder. An flock: the kernel releases it when the holder dies, even by SIGKILL — never stale."""
    path = run_lock_path(warehouse)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    deadline = time.monotonic() + max(0.0, wait)
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    holder = os.pread(fd, 200, 0).decode(errors="replace").strip() or "holder unknown"
                    raise WarehouseBusyError(
                        f"another run holds the run lock {path} ({holder}); the warehouse {warehouse} has "
                        f"one writer, so this run did nothing. Try again when that run ends"
                        + (f" (waited {wait:.0f}s)" if wait > 0 else " (or set PAR_RUN_LOCK_WAIT)")
                    ) from None
                time.sleep(0.5)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()}, since {datetime.now(UTC):%Y-%m-%dT%H:%M:%SZ}".encode(), 0)
        yield path
    finally:
        os.close(fd)  # releases the flock


def ensure_raw_schema(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(RAW_DDL)


def table_exists(con: duckdb.DuckDBPyConnection, schema: str, name: str) -> bool:
    return bool(
        con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?",
            [schema, name],
        ).fetchone()[0]
    )
