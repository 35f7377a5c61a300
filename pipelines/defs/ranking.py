"""The annual PAR ranking, published only after the gate (quality.md, ranking.md).

dbt computes the ranking with the KPIs (`intermediate.int_ranking__scores`: the SQL, its unit tests
and data tests; the years the gate's own SQL blocks are already left out). This asset is the one step
after the blocking `ranking_gate` check: it copies those rows, unchanged, to `marts.par_ranking`, where
analysts, the reports and the published copy read them. The gate decides per year: a year that fails
it is not in `int_ranking__scores`, so it is not in `marts.par_ranking` either. Only when the gate check
fails with ERROR (the gate itself untrusted) is the step skipped, and `marts.par_ranking` keeps the last
ranking that passed. A second dbt process for this step cost
~3.5 s a night for 0.7 s of SQL.
"""

import dagster as dg

from pipelines.lib.warehouse import connect
from pipelines.ranking import publish_ranking

from .resources import ParSettingsResource

RANKING_KEY = dg.AssetKey(["marts", "par_ranking"])
SCORES_KEY = dg.AssetKey(["intermediate", "int_ranking__scores"])
GATE_KEY = dg.AssetKey(["marts", "ranking_gate"])


@dg.asset(
    key=RANKING_KEY,
    group_name="marts",
    deps=[GATE_KEY, SCORES_KEY],
    kinds={"duckdb"},
    description=(
        "The annual PAR ranking (ranking.md) per year that is over and passed the gate: points per component, "
        "score, rank and grade within each ranking group, changes against the year before, notes. Computed by "
        "dbt with the KPIs (intermediate/int_ranking__scores, where its tests and column docs are) and "
        "published here after the blocking ranking_gate check (years that fail the gate are left out)."
    ),
)
def par_ranking(context: dg.AssetExecutionContext, par: ParSettingsResource) -> dg.MaterializeResult:
    settings = par.get()
    with connect(settings.warehouse) as con:
        per_group = publish_ranking(con)
        top = con.execute(
            """SELECT year, ranking_group, rank, unit_name, score, grade FROM marts.par_ranking
               WHERE year = (SELECT max(year) FROM marts.par_ranking) AND rank <= 3
               ORDER BY ranking_group, rank, unit_name"""
        ).fetchall()
    years = sorted({row[0] for row in per_group})
    context.log.info(
        f"par_ranking: {sum(r[2] for r in per_group)} rows for year(s) {', '.join(map(str, years)) or 'none'}"
    )
    table = "| year | group | units | ranked | mean score |\n|---|---|---|---|---|\n" + "\n".join(
        f"| {y} | {g} | {n} | {r} | {m} |" for y, g, n, r, m in per_group
    )
    preview = "| year | group | rank | unit | score | grade |\n|---|---|---|---|---|---|\n" + "\n".join(
        f"| {y} | {g} | {k} | {u} | {s} | {gr} |" for y, g, k, u, s, gr in top
    )
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": dg.MetadataValue.int(sum(r[2] for r in per_group)),
            "years_ranked": dg.MetadataValue.text(", ".join(map(str, years)) or "none"),
            "per_year_and_group": dg.MetadataValue.md(table),
            "top_3_latest_year": dg.MetadataValue.md(preview),
        }
    )
