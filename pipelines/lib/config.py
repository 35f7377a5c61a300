"""Run configuration, read from the environment only (spec interface.md).

Secrets (feed tokens) are read here and nowhere else; nothing in the repository holds one.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

FEEDS = ("dossiers", "payments", "surveys", "self_report", "national_indices")
REGISTERS = ("units", "procedures")
PROGRAMME_FIRST_YEAR = 2021
# Asia/Ho_Chi_Minh has been UTC+7 without daylight saving since 1975.
LOCAL_TZ = timezone(timedelta(hours=7), "Asia/Ho_Chi_Minh")


def today_local() -> date:
    return datetime.now(LOCAL_TZ).date()


@dataclass(frozen=True)
class Settings:
    sources: Path
    warehouse: Path
    reports: Path
    archive: Path
    published: Path
    as_of: date
    final_years: frozenset[int] = frozenset()
    completeness_threshold: float = 0.9
    run_lock_wait: float = 0.0  # seconds a run waits for another run on the same warehouse, then refuses
    env: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False)

    def feed_url(self, feed: str) -> str | None:
        return self.env.get(f"PAR_{feed.upper()}_URL") or None

    def feed_token(self, feed: str) -> str | None:
        return self.env.get(f"PAR_{feed.upper()}_TOKEN") or None

    @property
    def years(self) -> list[int]:
        return list(range(PROGRAMME_FIRST_YEAR, self.as_of.year + 1))

    def dbt_vars(self) -> dict[str, object]:
        return {
            "as_of": self.as_of.isoformat(),
            "final_years": ",".join(str(y) for y in sorted(self.final_years)),
            "completeness_threshold": self.completeness_threshold,
        }


def _parse_years(text: str) -> frozenset[int]:
    years: set[int] = set()
    for part in text.replace(";", ",").split(","):
        part = part.strip()
        if not part:
            continue
        if not part.isdigit():
            raise ValueError(f"PAR_FINAL_YEARS: '{part}' is not a year (expected e.g. 2023,2024)")
        years.add(int(part))
    return frozenset(years)


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Build settings from environment variables; defaults serve the embedded demo."""
    env = dict(os.environ if env is None else env)
    warehouse = Path(env.get("PAR_WAREHOUSE") or "warehouse/par.duckdb")
    as_of_text = env.get("PAR_AS_OF", "").strip()
    try:
        as_of = date.fromisoformat(as_of_text) if as_of_text else today_local()
    except ValueError as exc:
        raise ValueError(f"PAR_AS_OF must be a date YYYY-MM-DD, got '{as_of_text}'") from exc
    threshold = float(env.get("PAR_COMPLETENESS_THRESHOLD") or 0.9)
    return Settings(
        sources=Path(env.get("PAR_SOURCES") or "sources/sample"),
        warehouse=warehouse,
        reports=Path(env.get("PAR_REPORTS") or "reports"),
        archive=Path(env.get("PAR_ARCHIVE") or warehouse.parent / "archive"),
        published=Path(env.get("PAR_PUBLISHED") or warehouse.parent / "published"),
        as_of=as_of,
        final_years=_parse_years(env.get("PAR_FINAL_YEARS", "")),
        completeness_threshold=threshold,
        run_lock_wait=float(env.get("PAR_RUN_LOCK_WAIT") or 0),
        env=env,
    )
