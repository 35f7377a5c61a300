"""Expectation suites over the warehouse (quality.md): SQL frames at each rule's grain (`frames`), GX
suites kept as JSON in `expectations/`, and a small GX runner (`gx`).

The suite results of one Dagster run are remembered (`run_frame(..., run_id=…)`, `recall`) so that the Data
Docs asset, which runs after the checks in the same run, renders the validations the checks made instead of
reading and validating every frame again. Only results of the same run, warehouse file and suite parameters
are ever reused: within a run every frame's tables are materialized before the check that reads them, and the
Data Docs come after all of those assets, so what the check validated is what the Data Docs would read.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
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
    "forget_results",
    "missing_tables",
    "read_frame",
    "recall",
    "run_frame",
    "suite_parameters",
    "validate_frame",
]


def suite_parameters(settings: Settings) -> dict[str, Any]:
    """Run-time values the suites refer to as `{"$PARAMETER": …}`."""
    return {"completeness_threshold": float(settings.completeness_threshold)}


# Results of the latest run only: {(run_id, warehouse, parameters): {frame name: SuiteResult}}.
_RESULTS: dict[tuple[str, str, str], dict[str, SuiteResult]] = {}
_RESULTS_LOCK = threading.Lock()


def _scope(run_id: str, settings: Settings) -> tuple[str, str, str]:
    warehouse = str(Path(settings.warehouse).resolve())
    return run_id, warehouse, json.dumps(suite_parameters(settings), sort_keys=True)


def remember(run_id: str | None, settings: Settings, name: str, result: SuiteResult) -> None:
    if not run_id:
        return
    scope = _scope(run_id, settings)
    with _RESULTS_LOCK:
        for other in [s for s in _RESULTS if s[0] != run_id]:
            del _RESULTS[other]  # an earlier run's results are never wanted again
        _RESULTS.setdefault(scope, {})[name] = result


def recall(run_id: str | None, settings: Settings, name: str) -> SuiteResult | None:
    """The result of frame `name` validated earlier in run `run_id` on the same warehouse with the same
    parameters, if any."""
    if not run_id:
        return None
    with _RESULTS_LOCK:
        return _RESULTS.get(_scope(run_id, settings), {}).get(name)


def forget_results() -> None:
    with _RESULTS_LOCK:
        _RESULTS.clear()


def run_frame(
    con: duckdb.DuckDBPyConnection, name: str, settings: Settings, *, run_id: str | None = None
) -> tuple[pd.DataFrame, SuiteResult]:
    """Read frame `name` from the warehouse and validate it with its suite (remembered for run `run_id`)."""
    frame = FRAMES[name]
    df = read_frame(con, name)
    result = validate_frame(df, frame.suite, keys=frame.keys, parameters=suite_parameters(settings))
    remember(run_id, settings, name, result)
    return df, result
