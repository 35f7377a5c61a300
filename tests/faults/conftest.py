"""The reference the crash and concurrency drills compare against: one uninterrupted run over the small
generated sample (every planted fault of quality.md) — ingestion, dbt, publish — done once per session."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from pipelines.ingest.pipeline import ingest
from pipelines.lib.config import FEEDS, REGISTERS
from pipelines.lib.warehouse import connect
from pipelines.publish import publish
from pipelines.sample import generate

from .drills import AS_OF, archive_listing, dbt_build, marts_snapshot, raw_snapshot, settings_for


@dataclass(frozen=True)
class Reference:
    root: Path
    sources: Path
    marts: dict
    raw: dict
    archive: list[str]
    published: dict


@pytest.fixture(scope="session")
def reference(tmp_path_factory) -> Reference:
    root = tmp_path_factory.mktemp("reference")
    generate(root / "sources", scale="small", faults="all", as_of=AS_OF)
    settings = settings_for(root)
    with connect(settings.warehouse) as con:
        for feed in (*REGISTERS, *FEEDS):
            ingest(settings, feed, con)
    dbt_build(root)
    with connect(settings.warehouse) as con:
        publish(con, settings)
    return Reference(
        root=root,
        sources=root / "sources",
        marts=marts_snapshot(settings.warehouse),
        raw=raw_snapshot(settings.warehouse),
        archive=archive_listing(settings.archive),
        published=marts_snapshot(settings.published / "par_marts.duckdb"),
    )
