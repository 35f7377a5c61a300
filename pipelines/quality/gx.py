"""A small Great Expectations (1.x Core) runner for the pipeline's expectation suites.

Suites live as JSON in `expectations/` (one per concern; `gx.ExpectationSuite(**json)`). A suite is
validated against a pandas DataFrame through one ephemeral context shared by the whole process (`add_pandas`
→ one dataframe asset per suite → whole-dataframe batch; set up once, not per validation), and the result
is boiled down to a compact, JSON-safe `SuiteResult`: success, evaluated/failed expectation counts, and per
expectation the unexpected count and a few unexpected values with the keys of their rows. `dagster-ge` only
supports GX 0.x, hence this module.

Each validation also keeps the GX result in the form the Data Docs show (`SUMMARY`: counts and the first few
unexpected values), so the Data Docs are rendered from the validations already run instead of validating
every frame a second time (`build_data_docs`).

Personal data never reaches GX: a frame carrying a personal column is refused, and any value that
looks like a phone number is masked before it is put in a summary.

`great_expectations` is imported lazily (it takes seconds), so loading the Dagster definitions stays fast.
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
import shutil
import sys
import tempfile
import threading
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pandas as pd

os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")

log = logging.getLogger(__name__)

EXPECTATIONS_DIR = Path(__file__).resolve().parents[2] / "expectations"
# Columns that hold personal data (sources.md: the respondent's phone number); never validated.
PERSONAL_COLUMNS = frozenset({"so_dien_thoai"})
_PERSONAL_NAME = re.compile(r"dien_thoai|phone|sdt", re.IGNORECASE)
# A Vietnamese phone number: 0 or (+)84, a mobile/landline prefix digit, 8–9 more digits (spaces or
# hyphens allowed between them).
_PHONE = re.compile(r"(?<![\w.])(?:\+84|84|0)[235789](?:[ -]?\d){8,9}(?![\w.])")
SAMPLE_VALUES = 5
PREVIEW_ROWS = 10
DATA_DOCS_SITE = "par_data_docs"


class PersonalDataError(ValueError):
    """A frame handed to GX carries a column that may hold personal data."""


# --------------------------------------------------------------------------------------------------
# Suites
# --------------------------------------------------------------------------------------------------


def suite_path(name: str) -> Path:
    return EXPECTATIONS_DIR / f"{name}.json"


def suite_config(name: str) -> dict[str, Any]:
    """The suite as kept in the repository (plain JSON)."""
    path = suite_path(name)
    if not path.is_file():
        raise FileNotFoundError(f"expectation suite {name}: {path} does not exist")
    return json.loads(path.read_text(encoding="utf-8"))


def list_suites() -> list[str]:
    return sorted(p.stem for p in EXPECTATIONS_DIR.glob("*.json"))


_IMPORTING: list[threading.Thread] = []


def import_in_background() -> None:
    """Start importing great_expectations (~2.5 s of pure Python) on a side thread, once per process,
    while ingestion keeps DuckDB busy: the checks after it then find GX imported. Python's import lock
    makes a check that comes too early wait for this import instead of importing GX twice."""
    if _IMPORTING or "great_expectations" in sys.modules:
        return
    thread = threading.Thread(target=_import_gx, name="import-great-expectations", daemon=True)
    _IMPORTING.append(thread)
    thread.start()


def _import_gx() -> None:
    try:
        import great_expectations  # noqa: F401
    except Exception:  # the check that needs GX imports it again and reports the error itself
        log.exception("importing great_expectations in the background failed")


def load_suite(name: str):
    """The suite as a `gx.ExpectationSuite` (not attached to any context)."""
    import great_expectations as gx

    config = suite_config(name)
    suite = gx.ExpectationSuite(
        name=config["name"],
        expectations=config.get("expectations", []),
        meta=dict(config.get("meta") or {}),
        notes=config.get("notes"),
    )
    if len(suite.expectations) != len(config.get("expectations", [])):
        raise ValueError(f"expectation suite {name}: some expectations are not valid GX 1.x configurations")
    return suite


# --------------------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------------------


@dataclass
class ExpectationOutcome:
    """One expectation's result, without the frame's data beyond a few sample values."""

    label: str
    expectation: str
    columns: tuple[str, ...]
    severity: str
    success: bool
    element_count: int
    unexpected_count: int
    unexpected_percent: float | None
    sample: list[Any] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None

    @property
    def critical(self) -> bool:
        return self.severity == "critical"

    def as_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "expectation": self.expectation,
            "columns": list(self.columns),
            "severity": self.severity,
            "success": self.success,
            "element_count": self.element_count,
            "unexpected_count": self.unexpected_count,
            "unexpected_percent": self.unexpected_percent,
            "sample": self.sample,
            "error": self.error,
        }


@dataclass
class SuiteResult:
    """The compact summary of one suite run against one frame."""

    suite: str
    success: bool
    rows: int
    evaluated: int
    failed: int
    outcomes: list[ExpectationOutcome]
    keys: tuple[str, ...] = ()
    failing_keys: list[tuple] = field(default_factory=list)
    description: str = ""
    # The GX result as the Data Docs show it (SUMMARY format; see `_docs_validation`); not in `as_dict`.
    docs_validation: Any = field(default=None, repr=False, compare=False)

    @property
    def failed_outcomes(self) -> list[ExpectationOutcome]:
        return [o for o in self.outcomes if not o.success]

    @property
    def critical_failures(self) -> list[ExpectationOutcome]:
        return [o for o in self.failed_outcomes if o.critical]

    @property
    def failing_rows(self) -> int:
        """Rows of the frame failing at least one expectation (by key; at least the largest count)."""
        largest = max((o.unexpected_count for o in self.failed_outcomes), default=0)
        return max(len(self.failing_keys), largest)

    @property
    def failing_share(self) -> float:
        return self.failing_rows / self.rows if self.rows else 0.0

    def outcome(self, label_or_column: str) -> ExpectationOutcome:
        """The outcome whose label or first column is `label_or_column`."""
        for o in self.outcomes:
            if o.label == label_or_column or (o.columns and o.columns[0] == label_or_column):
                return o
        raise KeyError(f"{self.suite}: no expectation {label_or_column!r}")

    def as_dict(self) -> dict[str, Any]:
        return {
            "suite": self.suite,
            "success": self.success,
            "rows": self.rows,
            "evaluated_expectations": self.evaluated,
            "failed_expectations": self.failed,
            "failing_rows": self.failing_rows,
            "expectations": [o.as_dict() for o in self.outcomes],
        }

    def expectations_markdown(self) -> str:
        lines = [
            f"**{self.suite}** — {self.rows} rows, {self.evaluated} expectations, {self.failed} failed",
            "",
            "| expectation | column(s) | severity | result | unexpected | % | e.g. |",
            "|---|---|---|---|---|---|---|",
        ]
        for o in self.outcomes:
            result = "error" if o.error else ("pass" if o.success else "FAIL")
            pct = "" if o.unexpected_percent is None else f"{o.unexpected_percent:.1f}"
            sample = ", ".join(_cell(v) for v in o.sample)
            lines.append(
                f"| {_cell(o.label)} | {_cell(', '.join(o.columns))} | {o.severity} | {result} | "
                f"{o.unexpected_count} | {pct} | {sample} |"
            )
        return "\n".join(lines)

    def failing_rows_markdown(self, limit: int = PREVIEW_ROWS) -> str:
        rows: list[tuple[str, dict[str, Any]]] = []
        for o in self.failed_outcomes:
            for r in o.rows:
                rows.append((o.label, r))
        if not rows:
            return "no failing rows"
        keys = list(self.keys)
        extra = sorted({k for _, r in rows for k in r if k not in keys})
        header = [*keys, *extra, "expectation"]
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        for label, r in rows[:limit]:
            lines.append(
                "| " + " | ".join(_cell(r.get(k, "")) for k in [*keys, *extra]) + f" | {_cell(label)} |"
            )
        if len(rows) > limit:
            lines.append(f"\n… and more ({self.failing_rows} failing rows in all)")
        return "\n".join(lines)


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    text = "" if value is None else str(value)
    return text.replace("|", "/").replace("\n", " ")[:80]


def safe_value(value: Any) -> Any:
    """A JSON-safe, personal-data-safe copy of a value from a result (numpy → Python, phones masked)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, dict):
        return {str(k): safe_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [safe_value(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        try:
            value = value.item()
        except (ValueError, AttributeError):
            value = str(value)
    if isinstance(value, float):
        return None if math.isnan(value) else value
    if isinstance(value, bool | int):
        return value
    if isinstance(value, datetime | date):
        return value.isoformat()
    text = str(value)
    masked = _PHONE.sub("[số điện thoại đã ẩn]", text)
    return masked[:120]


def assert_no_personal_columns(frame: pd.DataFrame) -> None:
    bad = [c for c in frame.columns if c in PERSONAL_COLUMNS or _PERSONAL_NAME.search(str(c))]
    if bad:
        raise PersonalDataError(f"frame carries personal data column(s) {bad}: they must never be validated")


# --------------------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------------------


def _context():
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    for site in list(context.list_data_docs_sites()):
        context.delete_data_docs_site(site)
    return context


class _Validator:
    """The process's GX set-up, made once: an ephemeral context, its pandas datasource and one dataframe
    asset (with its whole-dataframe batch definition) per suite. Creating them costs more than validating
    a frame of a few thousand rows (every `add_*` re-serialises the project config), so they are reused;
    what a validation leaves behind in the execution engine (the frame, the metrics computed from it) is
    dropped after each one, so no validation can see another's data."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self._context = None
        self._source = None
        self._batch_definitions: dict[str, Any] = {}

    def batch_definition(self, asset: str):
        if self._context is None:
            self._context = _context()
            self._source = self._context.data_sources.add_pandas("par")
        if asset not in self._batch_definitions:
            self._batch_definitions[asset] = self._source.add_dataframe_asset(
                asset
            ).add_batch_definition_whole_dataframe("whole")
        return self._batch_definitions[asset]

    def forget_data(self) -> None:
        engine = getattr(self._source, "execution_engine", None)
        if engine is None:
            return
        cache = getattr(engine, "_metric_cache", None)
        if isinstance(cache, dict):
            cache.clear()
        manager = getattr(engine, "batch_manager", None)
        if manager is not None:
            manager.reset_batch_cache()
            batches = getattr(manager, "_batch_data_cache", None)
            if isinstance(batches, dict):
                batches.clear()


_VALIDATOR = _Validator()


def validate_frame(
    frame: pd.DataFrame,
    suite_name: str,
    *,
    keys: Sequence[str] = (),
    parameters: Mapping[str, Any] | None = None,
) -> SuiteResult:
    """Validate `frame` against `expectations/<suite_name>.json` and summarise the result."""
    assert_no_personal_columns(frame)
    suite = load_suite(suite_name)
    keys = tuple(k for k in keys if k in frame.columns)
    result_format: dict[str, Any] = {
        "result_format": "COMPLETE",
        "partial_unexpected_count": SAMPLE_VALUES,
        "return_unexpected_index_query": False,
    }
    if keys:
        result_format["unexpected_index_column_names"] = list(keys)
    run_time = datetime.now(UTC)
    with _VALIDATOR.lock:
        try:
            batch = _VALIDATOR.batch_definition(suite_name).get_batch(batch_parameters={"dataframe": frame})
            validation = batch.validate(
                suite, expectation_parameters=dict(parameters or {}), result_format=result_format
            )
        finally:
            _VALIDATOR.forget_data()
    result = summarise(
        suite_name, validation, rows=len(frame), keys=keys, description=suite.meta.get("description", "")
    )
    result.docs_validation = _docs_validation(validation, run_time)
    return result


# What a SUMMARY result of a map expectation holds beyond COMPLETE's lists (GX 1.x `_format_map_output`).
_COMPLETE_ONLY = (
    "unexpected_list",
    "unexpected_index_list",
    "unexpected_index_query",
    "unexpected_index_column_names",
)


def _summary_result(result: Mapping[str, Any] | None) -> dict[str, Any]:
    """A COMPLETE map-expectation result cut down to what a SUMMARY run would have returned: the first
    SAMPLE_VALUES unexpected values and their counts (GX counts those among the first values only), no full
    lists, no row keys (the Data Docs never show the frame's rows)."""
    out = {k: v for k, v in dict(result or {}).items() if k not in _COMPLETE_ONLY}
    out.pop("partial_unexpected_index_list", None)
    unexpected = (result or {}).get("unexpected_list")
    if unexpected is None:
        return out
    first = list(unexpected[:SAMPLE_VALUES])
    out["partial_unexpected_list"] = first
    hashable = [tuple(v.values()) if isinstance(v, dict) else v for v in first]
    try:
        out["partial_unexpected_counts"] = [
            {"value": value, "count": count}
            for value, count in sorted(
                Counter(hashable).most_common(SAMPLE_VALUES), key=lambda x: (-x[1], x[0])
            )
        ]
    except TypeError:  # as GX: no counts when the values cannot be counted or ordered
        out.pop("partial_unexpected_counts", None)
    return out


def _docs_validation(validation, run_time: datetime):
    """The suite validation result as a GX Checkpoint run with SUMMARY format would have stored it."""
    from great_expectations.core.expectation_validation_result import (
        ExpectationSuiteValidationResult,
        ExpectationValidationResult,
    )
    from great_expectations.core.run_identifier import RunIdentifier

    results = [
        ExpectationValidationResult(
            success=r.success,
            expectation_config=r.expectation_config,
            result=_summary_result(r.result),
            meta=dict(r.meta or {}),
            exception_info=r.exception_info,
        )
        for r in validation.results
    ]
    run_id = RunIdentifier(run_time=run_time)
    meta = {
        **dict(validation.meta or {}),
        "run_id": run_id,
        "validation_time": run_id.run_time,
        "batch_parameters": {"dataframe": "<DATAFRAME>"},
    }
    return ExpectationSuiteValidationResult(
        success=validation.success,
        results=results,
        suite_name=validation.suite_name,
        statistics=dict(validation.statistics or {}),
        meta=meta,
        batch_id=validation.batch_id,
    )


def summarise(
    suite_name: str, validation, *, rows: int, keys: tuple[str, ...] = (), description: str = ""
) -> SuiteResult:
    outcomes: list[ExpectationOutcome] = []
    failing: dict[tuple, None] = {}
    for r in validation.results:
        config = r.expectation_config
        kwargs = config.kwargs
        columns = tuple(
            str(kwargs[k]) for k in ("column", "column_A", "column_B") if kwargs.get(k) is not None
        ) or tuple(kwargs.get("column_list") or ())
        res = r.result or {}
        error = None
        if r.exception_info and r.exception_info.get("raised_exception"):
            error = str(r.exception_info.get("exception_message") or "exception")[:300]
        index_list = res.get("unexpected_index_list") or res.get("partial_unexpected_index_list") or []
        sample_rows = [safe_value(d) for d in index_list[:SAMPLE_VALUES]]
        if keys and not r.success:
            for d in index_list:
                failing[tuple(str(d.get(k)) for k in keys)] = None
        counts = res.get("partial_unexpected_counts") or []
        sample = [safe_value(c.get("value")) for c in counts[:SAMPLE_VALUES]] or [
            safe_value(v) for v in (res.get("partial_unexpected_list") or [])[:SAMPLE_VALUES]
        ]
        severity = getattr(config, "severity", None) or "critical"
        severity = getattr(severity, "value", severity)
        unexpected = res.get("unexpected_count")
        if unexpected is None:
            unexpected = 0 if r.success else 1
        pct = res.get("unexpected_percent")
        outcomes.append(
            ExpectationOutcome(
                label=str((config.meta or {}).get("label") or config.type),
                expectation=str(config.type),
                columns=columns,
                severity=str(severity),
                success=bool(r.success),
                element_count=int(res.get("element_count") or 0),
                unexpected_count=int(unexpected),
                unexpected_percent=None if pct is None else float(pct),
                sample=sample,
                rows=sample_rows,
                error=error,
            )
        )
    failed = sum(not o.success for o in outcomes)
    return SuiteResult(
        suite=suite_name,
        success=failed == 0,
        rows=rows,
        evaluated=len(outcomes),
        failed=failed,
        outcomes=outcomes,
        keys=keys,
        failing_keys=list(failing),
        description=description,
    )


# --------------------------------------------------------------------------------------------------
# Data Docs
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DocsRun:
    """One suite run for Data Docs: the suite, the frame, the suite parameters (validated when the site is
    built; pass the `SuiteResult` of a validation already run instead to render that one)."""

    suite: str
    frame: pd.DataFrame
    parameters: Mapping[str, Any] = field(default_factory=dict)


def build_data_docs(runs: Iterable[SuiteResult | DocsRun], out_dir: Path) -> dict[str, bool]:
    """Build the static Data Docs site into `out_dir` (replaced as a whole: built beside it, then swapped
    in) from suite results — the validations already run (`SuiteResult.docs_validation`), or a `DocsRun`
    validated here. The site shows what a GX Checkpoint with SUMMARY results would: one page per suite and
    one per validation. Returns suite → success."""
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )

    results: list[SuiteResult] = []
    for run in runs:
        if isinstance(run, DocsRun):
            run = validate_frame(run.frame, run.suite, parameters=run.parameters)
        if run.docs_validation is None:
            raise ValueError(f"{run.suite}: the suite result carries no GX validation to render")
        results.append(run)
    out_dir = Path(out_dir).resolve()
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    outcome: dict[str, bool] = {}
    try:
        context = _context()
        context.add_data_docs_site(
            DATA_DOCS_SITE,
            {
                "class_name": "SiteBuilder",
                "store_backend": {
                    "class_name": "TupleFilesystemStoreBackend",
                    "base_directory": str(staging),
                },
                "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            },
        )
        for result in results:
            validation = result.docs_validation
            context.suites.add(load_suite(result.suite))
            suite_id = ExpectationSuiteIdentifier(name=result.suite)
            context.validation_results_store.store_validation_results(
                suite_validation_result=validation,
                suite_validation_result_identifier=ValidationResultIdentifier(
                    expectation_suite_identifier=suite_id,
                    run_id=validation.meta["run_id"],
                    batch_identifier=validation.batch_id,
                ),
                expectation_suite_identifier=suite_id,
            )
            outcome[result.suite] = bool(validation.success)
        context.build_data_docs(site_names=[DATA_DOCS_SITE])
        _mask_phones_in_tree(staging)
        staging.chmod(0o755)  # mkdtemp made it private; the site is meant to be read
        old = out_dir.with_name(f".{out_dir.name}.old")
        if old.exists():
            shutil.rmtree(old)
        if out_dir.exists():
            out_dir.rename(old)
        staging.rename(out_dir)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return outcome


def _mask_phones_in_tree(root: Path) -> None:
    """Belt and braces: no page of the site may show anything that looks like a phone number."""
    for path in root.rglob("*"):
        if path.suffix not in (".html", ".json", ".js") or not path.is_file():
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        masked = _PHONE.sub("[số điện thoại đã ẩn]", text)
        if masked != text:
            log.warning("Data Docs page %s showed a phone-like value; masked", path.name)
            path.write_text(masked, encoding="utf-8")
