"""All Dagster definitions of the PAR pipeline, assembled in one place.

Flow: sources → archive → raw (ingest) → staging → intermediate → marts (dbt) → checks (GX suites,
dbt tests, the blocking ranking gate) → ranking → reports → publish.
"""

import os

os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")

import dagster as dg  # noqa: E402

from pipelines.defs.automation import export_sensor, nightly_schedule  # noqa: E402
from pipelines.defs.dbt import dbt_resource, par_dbt_assets  # noqa: E402
from pipelines.defs.ingest import ingest_assets  # noqa: E402
from pipelines.defs.publish import build_publish_asset  # noqa: E402
from pipelines.defs.quality import quality_assets, quality_checks  # noqa: E402
from pipelines.defs.ranking import par_ranking  # noqa: E402
from pipelines.defs.reports import report_assets  # noqa: E402
from pipelines.defs.resources import ParSettingsResource  # noqa: E402

report_keys: list[dg.AssetKey] = [key for asset in (*report_assets, *quality_assets) for key in asset.keys]
all_assets = [
    *ingest_assets,
    par_dbt_assets,
    par_ranking,
    *report_assets,
    *quality_assets,
    build_publish_asset(report_keys),
]

par_main_job = dg.define_asset_job(
    "par_main_job",
    selection=dg.AssetSelection.all(),
    description="The whole main job: ingest → dbt (KPIs, gaps, gate) → checks → ranking → reports → publish.",
    # One process, one step at a time: DuckDB has a single writer, and dbt-duckdb does not wait for it.
    executor_def=dg.in_process_executor,
)

defs = dg.Definitions(
    assets=all_assets,
    asset_checks=quality_checks,
    jobs=[par_main_job],
    schedules=[nightly_schedule(par_main_job)],
    sensors=[export_sensor(par_main_job)],
    resources={"par": ParSettingsResource(), "dbt": dbt_resource},
)
