"""All Dagster definitions of the PAR pipeline, assembled in one place."""

from __future__ import annotations

import os

os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")

import dagster as dg  # noqa: E402

from pipelines.defs.dbt import dbt_resource, par_dbt_assets  # noqa: E402
from pipelines.defs.ingest import ingest_assets  # noqa: E402
from pipelines.defs.resources import ParSettingsResource  # noqa: E402

all_assets = [*ingest_assets, par_dbt_assets]

par_main_job = dg.define_asset_job(
    "par_main_job",
    selection=dg.AssetSelection.all(),
    description="The whole main job: ingest → dbt (KPIs, gaps, gate, ranking) → checks → reports.",
)

defs = dg.Definitions(
    assets=all_assets,
    jobs=[par_main_job],
    resources={"par": ParSettingsResource(), "dbt": dbt_resource},
)
