"""Expectation suites over the warehouse (quality.md): SQL frames at each rule's grain (`frames`), GX
suites kept as JSON in `expectations/`, and a small GX runner (`gx`)."""

from __future__ import annotations

from typing import Any

import duckdb
import pandas as pd

from pipelines.lib.config import Settings
from pipelines.quality.frames import FEED_FRAMES, FRAMES, Frame, MissingTableError, missing_tables, read_frame
from pipelines.quality.gx import DocsRun, SuiteResult, build_data_docs, validate_frame

__all__ = [
    "FEED_FRAMES",
    "FRAMES",
    "DocsRun",
    "Frame",
    "MissingTableError",
    "SuiteResult",
    "build_data_docs",
    "missing_tables",
    "read_frame",
    "run_frame",
    "suite_parameters",
    "validate_frame",
]


def suite_parameters(settings: Settings) -> dict[str, Any]:
    """Run-time values the suites refer to as `{"$PARAMETER": …}`."""
    return {"completeness_threshold": float(settings.completeness_threshold)}


def run_frame(
    con: duckdb.DuckDBPyConnection, name: str, settings: Settings
) -> tuple[pd.DataFrame, SuiteResult]:
    """Read frame `name` from the warehouse and validate it with its suite."""
    frame = FRAMES[name]
    df = read_frame(con, name)
    return df, validate_frame(df, frame.suite, keys=frame.keys, parameters=suite_parameters(settings))
