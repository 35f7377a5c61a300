"""The nightly schedule and the sensor that starts a run when new exports arrive in a feed folder."""

import hashlib
import json
from pathlib import Path

import dagster as dg

from pipelines.ingest.pipeline import discover_files
from pipelines.lib.archive import sha256_file
from pipelines.lib.config import FEEDS, REGISTERS, load_settings

NIGHTLY_CRON = "0 1 * * *"
TIMEZONE = "Asia/Ho_Chi_Minh"


def nightly_schedule(job) -> dg.ScheduleDefinition:
    return dg.ScheduleDefinition(
        name="par_nightly",
        job=job,
        cron_schedule=NIGHTLY_CRON,
        execution_timezone=TIMEZONE,
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description="Every night at 01:00 Asia/Ho_Chi_Minh: pull new exports, rebuild, publish, report.",
    )


def scan_exports(sources: Path, previous: dict[str, list]) -> dict[str, list]:
    """path → [size, mtime_ns, sha256] for every export file; only changed files are hashed again."""
    current: dict[str, list] = {}
    for feed in (*REGISTERS, *FEEDS):
        for path in discover_files(sources, feed):
            stat = path.stat()
            key = str(path.relative_to(sources))
            old = previous.get(key)
            if old and old[0] == stat.st_size and old[1] == stat.st_mtime_ns:
                current[key] = old
            else:
                current[key] = [stat.st_size, stat.st_mtime_ns, sha256_file(path)]
    return current


def new_export_hashes(previous: dict[str, list], current: dict[str, list]) -> list[str]:
    known = {entry[2] for entry in previous.values()}
    return sorted({entry[2] for entry in current.values()} - known)


def export_sensor(job) -> dg.SensorDefinition:
    @dg.sensor(
        name="par_new_exports",
        job=job,
        minimum_interval_seconds=60,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Starts the main job when a feed folder holds exports (by content hash) not seen before.",
    )
    def _sensor(context: dg.SensorEvaluationContext):
        settings = load_settings()
        previous = json.loads(context.cursor) if context.cursor else {}
        current = scan_exports(settings.sources, previous)
        fresh = new_export_hashes(previous, current)
        context.update_cursor(json.dumps(current, sort_keys=True))
        if not fresh:
            return dg.SkipReason("no new exports")
        run_key = "exports-" + hashlib.sha256("\n".join(fresh).encode()).hexdigest()[:32]
        return dg.RunRequest(run_key=run_key, tags={"par/new_exports": str(len(fresh))})

    return _sensor
