"""Dagster's SQLite event log, with its connections kept open (configured in dagster.yaml).

Dagster's own `SqliteEventLogStorage` creates a SQLAlchemy engine, opens the SQLite file, commits
and closes it again for every event it stores: ~6 ms per asset event and ~2 ms per log line on this
machine, and a run of the main job stores ~540 events (its run history is the same either way). This
subclass keeps one engine per database file (the index and the most recently used run shards) and
reuses its connection: ~1.7 ms and ~0.4 ms. Every event is still its own committed transaction with
SQLite's default durability, and the files, their layout (`<DAGSTER_HOME>/history/runs/*.db`) and
their schema are Dagster's, so a DAGSTER_HOME written by either class is read by the other.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from dagster import Field, StringSource
from dagster._core.storage.event_log.sqlite.sqlite_event_log import (
    INDEX_SHARD_NAME,
    SQLITE_BUSY_TIMEOUT_SECONDS,
    SqliteEventLogStorage,
)
from sqlalchemy import create_engine
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import QueuePool

# Run shards kept open at once besides the index: the running run's, and a few a webserver reads.
OPEN_RUN_SHARDS = 4


class PooledSqliteEventLogStorage(SqliteEventLogStorage):
    """`SqliteEventLogStorage` that reuses one connection per database file instead of opening one
    per event. Pinned to dagster 1.13 (it overrides the private `_connect`); tests/test_dagster_storage.py
    checks it against the installed Dagster."""

    def __init__(self, base_dir: str, inst_data: Any = None):
        self._engines: OrderedDict[str, Engine] = OrderedDict()
        self._engines_pid = os.getpid()
        self._engines_lock = threading.Lock()
        super().__init__(base_dir, inst_data=inst_data)

    @classmethod
    def config_type(cls):
        return {
            "dagster_home": Field(
                StringSource,
                description="DAGSTER_HOME; the event logs go to <dagster_home>/history/runs, as by default.",
            )
        }

    @classmethod
    def from_config_value(cls, inst_data, config_value) -> PooledSqliteEventLogStorage:
        base_dir = os.path.join(config_value["dagster_home"], "history", "runs")
        return cls(base_dir, inst_data=inst_data)

    def _engine(self, shard: str) -> Engine:
        with self._engines_lock:
            if self._engines_pid != os.getpid():
                # a forked child must not share its parent's open SQLite files: start afresh
                self._engines = OrderedDict()
                self._engines_pid = os.getpid()
            engine = self._engines.get(shard)
            if engine is not None:
                self._engines.move_to_end(shard)
                return engine
            engine = create_engine(
                self.conn_string_for_shard(shard),
                poolclass=QueuePool,
                pool_size=1,
                max_overflow=4,
                # the watchdog thread of a webserver reads through the same engine (under _db_lock)
                connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS, "check_same_thread": False},
            )
            self._engines[shard] = engine
            run_shards = [name for name in self._engines if name != INDEX_SHARD_NAME]
            for name in run_shards[:-OPEN_RUN_SHARDS]:
                self._engines.pop(name).dispose()
            return engine

    @contextmanager
    def _connect(self, shard: str) -> Iterator[Connection]:
        with self._db_lock:
            engine = self._engine(shard)
            if shard not in self._initialized_dbs:
                self._initdb(engine)
                self._initialized_dbs.add(shard)
            with engine.connect() as conn, conn.begin():
                yield conn

    def _dispose_engines(self) -> None:
        with self._engines_lock:
            while self._engines:
                self._engines.popitem()[1].dispose()

    def wipe(self) -> None:
        """The run shards' files are deleted: close them first."""
        self._dispose_engines()
        super().wipe()

    def dispose(self) -> None:
        self._dispose_engines()
        super().dispose()
