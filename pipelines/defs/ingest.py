"""Ingestion assets: one per feed and one per register, each archive → raw (pipelines/ingest)."""

import json

import dagster as dg

from pipelines.ingest.pipeline import IngestResult, ingest
from pipelines.lib.config import FEEDS, REGISTERS
from pipelines.lib.warehouse import connect
from pipelines.quality.gx import import_in_background

from .resources import ParSettingsResource

FEED_DESCRIPTIONS = {
    "units": "Unit register (đơn vị): registers/units.csv",
    "procedures": "Procedure catalogue (thủ tục hành chính): registers/procedures.csv",
    "dossiers": "Dossier counts (hồ sơ TTHC), monthly: machine CSV/JSON and Biểu II.06a XLSX reports",
    "payments": "Online-payment transactions (thanh toán trực tuyến): CSV/JSON-lines or the payment API",
    "surveys": "Satisfaction-survey responses (khảo sát sự hài lòng): CSV/XLSX",
    "self_report": "Self-reported indicators (chỉ tiêu tự đánh giá), annual: CSV/XLSX",
    "national_indices": "National index results (PAR INDEX, SIPAS, PAPI, PCI, ICT Index): CSV",
}


def raw_key(feed: str) -> dg.AssetKey:
    return dg.AssetKey(["raw", feed])


def _metadata(result: IngestResult, preview: str) -> dict:
    return {
        "exports_seen": result.exports_seen,
        "exports_new": result.exports_new,
        "exports_parsed": result.exports_parsed,
        "exports_quarantined": result.exports_quarantined,
        "rows_loaded": dg.MetadataValue.int(result.rows_loaded),
        "rows_quarantined": dg.MetadataValue.int(result.rows_quarantined),
        "quarantine_reasons": dg.MetadataValue.json(result.quarantine_reasons),
        "unreadable_exports": dg.MetadataValue.md("\n".join(f"- {p}" for p in result.problems) or "none"),
        "quarantine_preview": dg.MetadataValue.md(preview),
    }


def _preview(con, feed: str) -> str:
    rows = con.execute(
        """SELECT file_name, row_number, reason_code, reason, coalesce(unit_code, unit_as_sent), period
           FROM raw.quarantine_rows WHERE feed = ? ORDER BY file_name, row_number LIMIT 10""",
        [feed],
    ).fetchall()
    if not rows:
        return "no quarantined rows"
    lines = ["| file | row | reason | detail | unit | period |", "|---|---|---|---|---|---|"]
    lines += ["| " + " | ".join(str(v).replace("|", "/") for v in r) + " |" for r in rows]
    return "\n".join(lines)


def build_ingest_asset(feed: str) -> dg.AssetsDefinition:
    deps = [] if feed in REGISTERS else [raw_key(r) for r in REGISTERS]

    @dg.asset(
        key=raw_key(feed),
        group_name="registers" if feed in REGISTERS else "ingest",
        deps=deps,
        description=FEED_DESCRIPTIONS[feed]
        + ". Archives every export by content hash, parses new ones, re-checks all rows; bad rows and "
        "unreadable files go to raw.quarantine_rows / raw.exports with reasons.",
        kinds={"duckdb", "python"},
    )
    def _ingest(context: dg.AssetExecutionContext, par: ParSettingsResource) -> dg.MaterializeResult:
        settings = par.get()
        if feed in FEEDS:  # the feed checks come next and need GX: import it while DuckDB reads exports
            import_in_background()
        with connect(settings.warehouse) as con:
            result = ingest(settings, feed, con)
            preview = _preview(con, feed)
        context.log.info(
            f"{feed}: {result.exports_seen} exports ({result.exports_new} new), {result.rows_loaded} rows "
            f"loaded, {result.rows_quarantined} quarantined; reasons {json.dumps(result.quarantine_reasons)}"
        )
        return dg.MaterializeResult(metadata=_metadata(result, preview))

    _ingest.__name__ = f"ingest_{feed}"
    return _ingest


ingest_assets = [build_ingest_asset(feed) for feed in (*REGISTERS, *FEEDS)]
