import os
import sys
from pathlib import Path

import pytest

os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
sys.path.insert(0, str(Path(__file__).parent))

from pipelines.ingest.pipeline import ingest  # noqa: E402
from pipelines.lib.config import FEEDS, REGISTERS, load_settings  # noqa: E402
from pipelines.lib.warehouse import connect  # noqa: E402


@pytest.fixture
def make_settings(tmp_path):
    """Settings for a throw-away warehouse over a sources tree under tmp_path."""

    def _make(sources: Path | None = None, as_of: str = "2026-11-27", **extra):
        env = {
            "PAR_SOURCES": str(sources or tmp_path / "sources"),
            "PAR_WAREHOUSE": str(tmp_path / "wh" / "par.duckdb"),
            "PAR_REPORTS": str(tmp_path / "reports"),
            "PAR_AS_OF": as_of,
            **extra,
        }
        return load_settings(env)

    return _make


def ingest_all(settings, feeds=None):
    results = {}
    with connect(settings.warehouse) as con:
        for feed in feeds or (*REGISTERS, *FEEDS):
            results[feed] = ingest(settings, feed, con)
    return results


def query(settings, sql, params=None):
    with connect(settings.warehouse, read_only=True) as con:
        return con.execute(sql, params or []).fetchall()
