"""The expectation suites as Dagster asset checks, and the GX Data Docs as a report asset.

Each check reads its frame(s) from the warehouse (read-only, closed before it returns), validates them with
the suite kept in `expectations/`, and reports counts and a small markdown preview (never personal data).

| check | asset | severity | blocking |
|---|---|---|---|
| `schema_validity` (one per feed and register) | `raw/<feed>` | ERROR | no |
| `dossier_balance`, `received_outliers` | `intermediate/int_dossiers__unit_month` | WARN | no |
| `cross_source` | `intermediate/int_payments__unit_month` | WARN | no |
| `survey_sample_size` | `staging/stg_surveys__responses` | WARN | no |
| `reporting_completeness` | `marts/reporting_completeness` | WARN | no |
| `ranking_gate` | `marts/ranking_gate` | WARN per blocked year; ERROR when the gate is untrusted | yes |

Warnings never block. The gate decides per year (quality.md: "the ranking asset does not materialize for
Y"): the gate's SQL leaves every year that fails a check out of `int_ranking__scores`, so `marts/par_ranking`
holds the other years. `ranking_gate` fails with WARN when check 1, 3 or 4 fails for a year that is over
(the run log and the check name the year and the check), passes naming the years kept out by check 2 alone
(reporting completeness), and fails with ERROR — blocking the ranking, the reports and the published copy —
only when the gate itself cannot be trusted: its re-check of the KPI bounds on the marts finds a failure in
a year its SQL ranks.
"""

import os
from collections.abc import Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass

import dagster as dg
import pandas as pd

from pipelines.lib.config import FEEDS, REGISTERS, Settings
from pipelines.lib.warehouse import connect, table_exists
from pipelines.quality import (
    FEED_FRAMES,
    FRAMES,
    MissingTableError,
    SuiteResult,
    build_data_docs,
    missing_tables,
    recall,
    run_frame,
)

from .resources import ParSettingsResource

os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")

GROUP = "quality"
DATA_DOCS_KEY = dg.AssetKey(["reports", "gx_data_docs"])
GATE_CHECKS = (
    ("integrity", "1 integrity"),
    ("reporting_completeness", "2 reporting completeness"),
    ("unit_coverage", "3 unit coverage"),
    ("kpi_bounds", "4 KPI bounds"),
)
BLOCKING_GATE_CHECKS = ("integrity", "unit_coverage", "kpi_bounds")


def _key(path: str) -> dg.AssetKey:
    return dg.AssetKey(path.split("/"))


def _fmt_pct(share: float) -> str:
    return f"{100 * share:.1f} %"


# --------------------------------------------------------------------------------------------------
# Results → Dagster
# --------------------------------------------------------------------------------------------------


def _suite_metadata(result: SuiteResult, grain: str) -> dict[str, dg.MetadataValue]:
    return {
        "suite": dg.MetadataValue.text(f"expectations/{result.suite}.json"),
        "grain": dg.MetadataValue.text(grain),
        "rows_validated": dg.MetadataValue.int(result.rows),
        "failing_rows": dg.MetadataValue.int(result.failing_rows),
        "failing_share": dg.MetadataValue.float(round(result.failing_share, 6)),
        "expectations_evaluated": dg.MetadataValue.int(result.evaluated),
        "expectations_failed": dg.MetadataValue.int(result.failed),
        "expectations": dg.MetadataValue.md(result.expectations_markdown()),
        "failing_rows_preview": dg.MetadataValue.md(result.failing_rows_markdown()),
    }


def _summary_sentence(result: SuiteResult, grain: str) -> str:
    if result.success:
        return f"All {result.rows} rows ({grain}) meet the {result.evaluated} expectations of {result.suite}."
    failed = "; ".join(f"{o.label}: {o.unexpected_count}" for o in result.failed_outcomes)
    return (
        f"{result.failing_rows} of {result.rows} rows ({grain}; {_fmt_pct(result.failing_share)}) fail "
        f"{result.suite}: {failed}."
    )


def _missing_result(
    name: str, exc: Exception, severity: dg.AssetCheckSeverity, **kwargs
) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        passed=False,
        severity=severity,
        description=f"{name}: cannot validate — {exc}",
        metadata={"error": dg.MetadataValue.text(str(exc))},
        **kwargs,
    )


def suite_check_result(
    name: str,
    settings: Settings,
    *,
    severity: dg.AssetCheckSeverity,
    run_id: str | None = None,
    **kwargs,
) -> dg.AssetCheckResult:
    """Validate frame `name` and turn the summary into an AssetCheckResult (failed when any expectation
    fails, with the given severity). The result is remembered for the Data Docs of run `run_id`."""
    frame = FRAMES[name]
    try:
        with connect(settings.warehouse, read_only=True) as con:
            df, result = run_frame(con, name, settings, run_id=run_id)
            extra = EXTRA_METADATA.get(name, lambda *_: {})(con, df, result, settings)
    except MissingTableError as exc:
        return _missing_result(name, exc, severity, **kwargs)
    metadata = {**_suite_metadata(result, frame.grain), **extra}
    return dg.AssetCheckResult(
        passed=result.success,
        severity=severity,
        description=_summary_sentence(result, frame.grain),
        metadata=metadata,
        **kwargs,
    )


# Extra metadata per check ------------------------------------------------------------------------


def _per_year_md(df: pd.DataFrame, columns: dict[str, pd.Series], title: str) -> str:
    if df.empty:
        return "no rows"
    table = pd.DataFrame({"year": df["year"], **columns}).groupby("year").sum(numeric_only=True)
    table.insert(0, title, df.groupby("year").size())
    lines = ["| year | " + " | ".join(table.columns) + " |", "|---" * (len(table.columns) + 1) + "|"]
    for year, row in table.iterrows():
        lines.append(f"| {year} | " + " | ".join(str(int(v)) for v in row.values) + " |")
    return "\n".join(lines)


def _completeness_extra(con, df: pd.DataFrame, result: SuiteResult, settings: Settings) -> dict:
    threshold = settings.completeness_threshold
    below_c = df["completeness"] < threshold
    below_t = df["timeliness"] < threshold
    return {
        "threshold": dg.MetadataValue.float(float(threshold)),
        "units_below_completeness": dg.MetadataValue.int(int(below_c.sum())),
        "units_below_timeliness": dg.MetadataValue.int(int(below_t.sum())),
        "per_year": dg.MetadataValue.md(
            _per_year_md(
                df,
                {"below completeness": below_c.astype(int), "below timeliness": below_t.astype(int)},
                "units",
            )
        ),
    }


def _survey_extra(con, df: pd.DataFrame, result: SuiteResult, settings: Settings) -> dict:
    small = df["sipas_responses"] < 30
    return {
        "unit_years_below_30": dg.MetadataValue.int(int(small.sum())),
        "per_year": dg.MetadataValue.md(_per_year_md(df, {"below 30 responses": small.astype(int)}, "units")),
    }


def _gap_count(con, gap_type: str) -> int | None:
    """How many rows of marts.reporting_gaps (the SQL side of the same rule) have this gap type."""
    if not table_exists(con, "marts", "reporting_gaps"):
        return None
    return con.execute("SELECT count(*) FROM marts.reporting_gaps WHERE gap_type = ?", [gap_type]).fetchone()[
        0
    ]


def _gap_extra(gap_type: str):
    def extra(con, df: pd.DataFrame, result: SuiteResult, settings: Settings) -> dict:
        in_gaps = _gap_count(con, gap_type)
        if in_gaps is None:
            return {}
        return {
            f"reporting_gaps_{gap_type}": dg.MetadataValue.int(int(in_gaps)),
            "agrees_with_reporting_gaps": dg.MetadataValue.bool(int(in_gaps) == result.failing_rows),
        }

    return extra


def _balance_extra(con, df: pd.DataFrame, result: SuiteResult, settings: Settings) -> dict:
    unbalanced = int((df["unbalanced_rows"] > 0).sum()) if not df.empty else 0
    breaks = int((df["stock_breaks"].fillna(0) > 0).sum()) if not df.empty else 0
    return {
        "unit_months_unbalanced": dg.MetadataValue.int(unbalanced),
        "unit_months_stock_break": dg.MetadataValue.int(breaks),
        "share_unit_months_failing": dg.MetadataValue.text(_fmt_pct(result.failing_share)),
    }


EXTRA_METADATA = {
    "reporting_completeness": _completeness_extra,
    "survey_sample_size": _survey_extra,
    "cross_source": _gap_extra("cross_source"),
    "received_outliers": _gap_extra("outlier"),
    "dossier_balance": _balance_extra,
}


# --------------------------------------------------------------------------------------------------
# The ranking gate
# --------------------------------------------------------------------------------------------------


@dataclass
class GateVerdict:
    passed: bool
    description: str
    metadata: dict[str, dg.MetadataValue]
    blocked_years: dict[int, list[str]]
    unranked_years: dict[int, str]
    final_years_despite: dict[int, str]
    # ERROR (blocks the ranking and everything after it) only when the gate itself cannot be trusted;
    # a year that fails check 1, 3 or 4 is left out of the ranking by the gate's SQL (WARN here)
    severity: dg.AssetCheckSeverity = dg.AssetCheckSeverity.ERROR


def _flag(value) -> bool:
    return bool(value) if value is not None and not (isinstance(value, float) and pd.isna(value)) else False


def gate_verdict(settings: Settings, run_id: str | None = None) -> GateVerdict:
    """Validate the gate's years (marts.ranking_gate) and the KPI bounds once more; decide pass/fail."""
    with connect(settings.warehouse, read_only=True) as con:
        gate_df, gate = run_frame(con, "ranking_gate", settings, run_id=run_id)
        _, bounds = run_frame(con, "kpi_bounds", settings, run_id=run_id)

    blocked: dict[int, list[str]] = {}
    unranked: dict[int, str] = {}
    despite: dict[int, str] = {}
    over_years: list[int] = []
    ranked_by_sql: set[int] = set()  # the years the gate's SQL lets into int_ranking__scores
    for row in gate_df.to_dict("records"):
        year = int(row["year"])
        if not _flag(row["year_is_over"]):
            continue
        over_years.append(year)
        if _flag(row["year_is_ranked"]):
            ranked_by_sql.add(year)
        for check, label in GATE_CHECKS:
            if check in BLOCKING_GATE_CHECKS and not _flag(row[check]):
                blocked.setdefault(year, []).append(f"check {label}: {row[f'{check}_detail']}")
        if not _flag(row["reporting_completeness"]):
            reason = str(row["reporting_completeness_detail"])
            if _flag(row["is_final_year"]):
                despite[year] = reason
            else:
                unranked[year] = reason
    sql_blocked = set(blocked)  # the years the gate's SQL leaves out of int_ranking__scores
    if bounds.critical_failures:
        # Gate check 4 re-checked on the KPI marts: which years, how many KPI rows (failing_keys are the
        # frame's keys: grain, year, unit_code, kpi_code).
        per_year: dict[int, int] = {}
        for key in bounds.failing_keys:
            per_year[int(key[1])] = per_year.get(int(key[1]), 0) + 1
        labels = ", ".join(o.label for o in bounds.critical_failures)
        for year, n in per_year.items():
            blocked.setdefault(year, []).append(
                f"check 4 KPI bounds re-checked on the KPI marts: {n} rows fail ({labels})"
            )
    # The gate cannot be trusted when its re-check finds a failure in a year its SQL ranks, or its suite
    # fails with no year failing: then nothing is ranked or published (ERROR, blocking).
    untrusted = bool(ranked_by_sql & set(blocked)) or bool(gate.critical_failures and not sql_blocked)
    passed = not blocked and not gate.critical_failures and not bounds.critical_failures
    # a passing gate keeps the check's own severity (ERROR); a year left out by the SQL fails it as WARN
    severity = dg.AssetCheckSeverity.WARN if blocked and not untrusted else dg.AssetCheckSeverity.ERROR
    ranked_years = [] if untrusted else sorted(ranked_by_sql)
    parts: list[str] = []
    if untrusted:
        parts.append(
            "RANKING BLOCKED — the gate's own SQL and its re-check disagree, so no year is ranked: "
            + (
                "; ".join(f"{y}: " + " / ".join(v) for y, v in sorted(blocked.items()))
                or ", ".join(o.label for o in (*gate.critical_failures, *bounds.critical_failures))
            )
        )
    elif blocked:
        parts.append(
            "Ranking NOT computed for "
            + "; ".join(f"{y} ({' / '.join(v)})" for y, v in sorted(blocked.items()))
            + " — the data of that year cannot be trusted (quality.md, gate checks 1, 3, 4); "
            "the other years are ranked."
        )
    else:
        parts.append(
            "Gate checks 1, 3 and 4 pass for every year that is over"
            + (f" ({', '.join(map(str, over_years))})" if over_years else " (no year is over yet)")
            + "."
        )
    if unranked:
        parts.append(
            "NOT ranked (reporting completeness below the threshold; add the year to PAR_FINAL_YEARS to rank "
            "it anyway): " + "; ".join(f"{y}: {reason}" for y, reason in sorted(unranked.items()))
        )
    if despite:
        parts.append(
            "Ranked despite low reporting completeness (PAR_FINAL_YEARS): "
            + "; ".join(f"{y}: {reason}" for y, reason in sorted(despite.items()))
        )
    if not untrusted:
        parts.append(f"Years ranked: {', '.join(map(str, ranked_years)) or 'none'}.")

    metadata = {
        "gate_by_year": dg.MetadataValue.md(_gate_table(gate_df)),
        "years_over": dg.MetadataValue.int(len(over_years)),
        "years_ranked": dg.MetadataValue.text(", ".join(map(str, ranked_years)) or "none"),
        "years_blocked": dg.MetadataValue.text(", ".join(map(str, sorted(blocked))) or "none"),
        "years_not_ranked": dg.MetadataValue.md(
            "\n".join(f"- **{y}**: {reason}" for y, reason in sorted(unranked.items())) or "none"
        ),
        "years_ranked_despite_completeness": dg.MetadataValue.text(
            ", ".join(map(str, sorted(despite))) or "none"
        ),
        "blocking_failures": dg.MetadataValue.int(sum(len(v) for v in blocked.values())),
        "completeness_threshold": dg.MetadataValue.float(float(settings.completeness_threshold)),
        "final_years": dg.MetadataValue.text(", ".join(map(str, sorted(settings.final_years))) or "none"),
        "kpi_rows_rechecked": dg.MetadataValue.int(bounds.rows),
        "kpi_bounds_violations": dg.MetadataValue.int(bounds.failing_rows),
        "expectations": dg.MetadataValue.md(
            gate.expectations_markdown() + "\n\n" + bounds.expectations_markdown()
        ),
        "kpi_bounds_preview": dg.MetadataValue.md(bounds.failing_rows_markdown()),
    }
    return GateVerdict(passed, " ".join(parts), metadata, blocked, unranked, despite, severity)


def _gate_table(df: pd.DataFrame) -> str:
    def mark(value) -> str:
        return "✓" if _flag(value) else "✗"

    lines = [
        "| year | over | final year | 1 integrity | 2 completeness | 3 unit coverage | 4 KPI bounds | ranked |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in df.to_dict("records"):
        cells = [mark(r[c]) for c, _ in GATE_CHECKS]
        lines.append(
            f"| {int(r['year'])} | {'yes' if _flag(r['year_is_over']) else 'no (in progress)'} | "
            f"{'yes' if _flag(r['is_final_year']) else ''} | "
            + " | ".join(cells)
            + f" | {mark(r['year_is_ranked'])} |"
        )
    lines.append("")
    for r in df.to_dict("records"):
        failing = [f"{label}: {r[f'{c}_detail']}" for c, label in GATE_CHECKS if not _flag(r[c])]
        if failing and _flag(r["year_is_over"]):
            lines.append(f"- {int(r['year'])}: " + "; ".join(failing))
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------------
# Asset checks
# --------------------------------------------------------------------------------------------------

FEED_CHECK_NAME = "schema_validity"
_FEED_KEYS = {feed: dg.AssetKey(["raw", feed]) for feed in (*REGISTERS, *FEEDS)}


@dg.multi_asset_check(
    name="feed_schema_validity",
    specs=[
        dg.AssetCheckSpec(
            FEED_CHECK_NAME,
            asset=_FEED_KEYS[feed],
            description=(
                f"GX suite expectations/{FEED_FRAMES[feed].suite}.json on the loaded rows of raw.{feed} per "
                f"{FEED_FRAMES[feed].grain}: required columns present, counts ≥ 0, accepted values, unique "
                "keys per export (ERROR, non-blocking)."
            ),
        )
        for feed in _FEED_KEYS
    ],
    can_subset=True,
)
def feed_schema_validity(
    context: dg.AssetCheckExecutionContext, par: ParSettingsResource
) -> Iterator[dg.AssetCheckResult]:
    """Schema and validity of every feed and register: what quarantine promises, checked again."""
    settings = par.get()
    selected = context.selected_asset_check_keys
    for feed, key in _FEED_KEYS.items():
        if dg.AssetCheckKey(key, FEED_CHECK_NAME) not in selected:
            continue
        yield suite_check_result(
            FEED_FRAMES[feed].name,
            settings,
            severity=dg.AssetCheckSeverity.ERROR,
            run_id=context.run.run_id,
            asset_key=key,
            check_name=FEED_CHECK_NAME,
        )


def _warn_check(name: str, asset: str, description: str, additional_deps: Sequence[str] = ()):
    @dg.asset_check(
        asset=_key(asset),
        name=name,
        description=description,
        blocking=False,
        additional_deps=[_key(d) for d in additional_deps],
    )
    def _check(context: dg.AssetCheckExecutionContext, par: ParSettingsResource) -> dg.AssetCheckResult:
        return suite_check_result(
            name, par.get(), severity=dg.AssetCheckSeverity.WARN, run_id=context.run.run_id
        )

    return _check


dossier_balance_check = _warn_check(
    "dossier_balance",
    "intermediate/int_dossiers__unit_month",
    "Balance identity and stock continuity per unit-month (expectations/dossier_balance.json): the share of "
    "unit-months failing (gap type inconsistent). WARN.",
    ["intermediate/int_dossiers__unit_month_balance"],
)
received_outliers_check = _warn_check(
    "received_outliers",
    "intermediate/int_dossiers__unit_month",
    "Modified z-score of each unit's monthly total received against its previous 12 months "
    "(expectations/received_outliers.json; gap type outlier). WARN.",
)
reporting_completeness_check = _warn_check(
    "reporting_completeness",
    "marts/reporting_completeness",
    "Reporting completeness and timeliness of the monthly dossiers feed per unit-year against the gate's "
    "threshold (expectations/reporting_completeness.json; gap types missing, late). WARN.",
    ["staging/stg_registers__units"],
)
survey_sample_size_check = _warn_check(
    "survey_sample_size",
    "staging/stg_surveys__responses",
    "At least 30 SIPAS responses per ranking-group unit-year (expectations/survey_sample_size.json; gap type "
    "small_sample). WARN.",
    ["intermediate/int_calendar__unit_years"],
)
cross_source_check = _warn_check(
    "cross_source",
    "intermediate/int_payments__unit_month",
    "Unit-months with a successful online payment but no dossier received (expectations/cross_source.json; "
    "gap type cross_source). WARN.",
    ["intermediate/int_dossiers__unit_month"],
)


@dg.asset_check(
    asset=dg.AssetKey(["marts", "ranking_gate"]),
    name="ranking_gate",
    blocking=True,
    description=(
        "The four gate checks of quality.md per year that is over (expectations/ranking_gate.json on "
        "marts.ranking_gate, and expectations/kpi_bounds.json on the KPI marts). A year that fails check 1 "
        "(integrity), 3 (unit coverage) or 4 (KPI bounds) is not ranked and the check FAILS with WARN naming it; "
        "the other years are ranked. A year kept out only by check 2 (reporting completeness) passes, named. "
        "FAILS with ERROR — blocking everything downstream — when the re-check on the KPI marts finds a failure "
        "in a year the gate's SQL ranks."
    ),
    additional_deps=[dg.AssetKey(["marts", "kpi_unit_year"]), dg.AssetKey(["marts", "kpi_province_year"])],
)
def ranking_gate_check(
    context: dg.AssetCheckExecutionContext, par: ParSettingsResource
) -> dg.AssetCheckResult:
    settings = par.get()
    try:
        verdict = gate_verdict(settings, run_id=context.run.run_id)
    except MissingTableError as exc:
        return _missing_result("ranking_gate", exc, dg.AssetCheckSeverity.ERROR)
    for year, reasons in sorted(verdict.blocked_years.items()):
        context.log.error(f"ranking_gate: {year} is not ranked: {' / '.join(reasons)}")
    return dg.AssetCheckResult(
        passed=verdict.passed,
        severity=verdict.severity,
        description=verdict.description,
        metadata=verdict.metadata,
    )


quality_checks: list = [
    feed_schema_validity,
    dossier_balance_check,
    received_outliers_check,
    reporting_completeness_check,
    survey_sample_size_check,
    cross_source_check,
    ranking_gate_check,
]

# --------------------------------------------------------------------------------------------------
# Data Docs
# --------------------------------------------------------------------------------------------------

_DOCS_DEPS = sorted(
    {*(_FEED_KEYS.values())}
    | {
        _key(p)
        for p in (
            "intermediate/int_dossiers__winning_rows",
            "intermediate/int_dossiers__unit_month",
            "intermediate/int_payments__unit_month",
            "intermediate/int_calendar__unit_years",
            "staging/stg_surveys__responses",
            "staging/stg_registers__units",
            "marts/reporting_completeness",
            # after the gate (par_ranking is built from it) without being its direct child: a failing
            # blocking gate check skips direct children only, and the Data Docs are wanted most then.
            "marts/par_ranking",
            "marts/kpi_unit_year",
            "marts/kpi_province_year",
        )
    },
    key=lambda k: k.to_user_string(),
)


def data_docs_dir(settings: Settings):
    return settings.reports / "data_docs"


def build_gx_data_docs(settings: Settings, run_id: str | None = None) -> dict[str, object]:
    """Build the static GX Data Docs site into <PAR_REPORTS>/data_docs/ from every suite's result on its
    frame: the validation the check made earlier in run `run_id` when there is one (the same frame, the same
    suite, the same parameters), otherwise the frame is read and validated here."""
    results: list[SuiteResult] = []
    skipped: list[str] = []
    reused: list[str] = []
    with ExitStack() as stack:
        con = None  # opened only when some frame was not validated earlier in the run
        for name, frame in FRAMES.items():
            result = recall(run_id, settings, name)
            if result is not None:
                reused.append(name)
                results.append(result)
                continue
            if con is None:
                con = stack.enter_context(connect(settings.warehouse, read_only=True))
            if missing_tables(con, frame):
                skipped.append(name)
                continue
            results.append(run_frame(con, name, settings)[1])
    outcome = build_data_docs(results, data_docs_dir(settings))
    return {
        "outcome": outcome,
        "skipped": skipped,
        "reused": reused,
        "index": data_docs_dir(settings) / "index.html",
    }


@dg.asset(
    key=DATA_DOCS_KEY,
    group_name="reports",
    deps=_DOCS_DEPS,
    kinds={"great_expectations", "html"},
    description=(
        "Great Expectations Data Docs: every expectation suite of expectations/ validated on its frame, as a "
        "static HTML site in <PAR_REPORTS>/data_docs/ (index.html). No personal data."
    ),
)
def gx_data_docs(context: dg.AssetExecutionContext, par: ParSettingsResource) -> dg.MaterializeResult:
    settings = par.get()
    built = build_gx_data_docs(settings, run_id=context.run.run_id)
    outcome: dict[str, bool] = built["outcome"]  # type: ignore[assignment]
    failing = sorted(s for s, ok in outcome.items() if not ok)
    context.log.info(
        f"Data Docs: {len(outcome)} suites ({len(built['reused'])} rendered from this run's checks), "  # type: ignore[arg-type]
        f"{len(failing)} with failures → {built['index']}"
    )
    return dg.MaterializeResult(
        metadata={
            "index": dg.MetadataValue.path(str(built["index"])),
            "suites": dg.MetadataValue.int(len(outcome)),
            "suites_failing": dg.MetadataValue.text(", ".join(failing) or "none"),
            "suites_skipped": dg.MetadataValue.text(", ".join(built["skipped"]) or "none"),  # type: ignore[arg-type]
        }
    )


quality_assets: list = [gx_data_docs]
