"""The last step of a run: publish the marts for analysts (pipelines/publish.py)."""

import dagster as dg

from pipelines.lib.warehouse import connect
from pipelines.publish import publish, published_path

from .resources import ParSettingsResource

MART_DEPS = [
    dg.AssetKey(["marts", name])
    for name in (
        "kpi_unit_month",
        "kpi_unit_year",
        "kpi_unit_year_current_map",
        "kpi_province_year",
        "reporting_completeness",
        "reporting_gaps",
        "ranking_gate",
        "par_ranking",
        "dim_units",
        "dim_procedures",
        "dim_kpis",
    )
]


def build_publish_asset(extra_deps: list[dg.AssetKey]) -> dg.AssetsDefinition:
    @dg.asset(
        key=dg.AssetKey(["publish", "marts"]),
        group_name="publish",
        deps=[*MART_DEPS, *extra_deps],
        description="Atomically replaces the analysts' read-only copy of the marts (PAR_PUBLISHED/marts.duckdb).",
        kinds={"duckdb"},
    )
    def published_marts(context: dg.AssetExecutionContext, par: ParSettingsResource) -> dg.MaterializeResult:
        settings = par.get()
        with connect(settings.warehouse) as con:
            counts = publish(con, settings)
        context.log.info(f"published {len(counts)} tables to {published_path(settings)}")
        return dg.MaterializeResult(
            metadata={
                "path": dg.MetadataValue.path(str(published_path(settings).resolve())),
                "tables": dg.MetadataValue.json(counts),
            }
        )

    return published_marts
