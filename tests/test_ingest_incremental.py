"""Incremental ingestion: a new month's exports are checked alone and appended, and the result is the
same, row for row, as checking every export from an empty warehouse. A changed register (or a changed
check) makes every export be checked again."""

import csv
from datetime import date

from builders import link_tree
from conftest import ingest_all, query

from pipelines.lib.config import FEEDS
from pipelines.sample.generator import generate

AS_OF = date(2025, 9, 15)
LATER = date(2025, 10, 15)


def _snapshot(settings) -> dict[str, list]:
    """Every loaded row and quarantine record of every feed, by export and row number."""
    out = {}
    for feed in FEEDS:
        out[feed] = query(
            settings, f"SELECT * EXCLUDE (sort_key) FROM raw.{feed} ORDER BY export_id, row_number"
        )
        out[f"{feed} quarantine"] = query(
            settings,
            "SELECT * FROM raw.quarantine_rows WHERE feed = ? ORDER BY export_id, row_number, reason_code",
            [feed],
        )
    return out


def _checked_mode(settings) -> dict[str, int]:
    return dict(query(settings, "SELECT feed, count(*) FROM raw.checked_exports GROUP BY feed"))


def test_new_month_is_appended_and_equals_a_full_check(make_settings, tmp_path, caplog):
    base, later = tmp_path / "base", tmp_path / "later"
    generate(base, scale="small", faults="all", as_of=AS_OF)
    generate(later, scale="small", faults="all", as_of=LATER)
    run_src = tmp_path / "run"
    link_tree(base, run_src)

    settings = make_settings(sources=run_src, as_of=AS_OF.isoformat())
    ingest_all(settings)
    before = _checked_mode(settings)
    new_files = link_tree(later, run_src, only_new=True)
    assert any(f.startswith("payments/") for f in new_files), new_files
    assert any(f.startswith("dossiers/") for f in new_files), new_files

    caplog.set_level("INFO")
    ingest_all(settings)
    messages = [r.getMessage() for r in caplog.records]
    assert not [m for m in messages if "checked again" in m]
    # only the new month's exports were read: "<feed>: read and checked n/n exports", n = new files
    read = {m.split(":")[0]: m.rsplit(" ", 2)[1] for m in messages if "read and checked" in m}
    for feed in FEEDS:
        n = sum(f.startswith(f"{feed}/") for f in new_files)
        assert read.get(feed, "0/0") == f"{n}/{n}", (feed, read)
    after = _checked_mode(settings)
    assert after["payments"] > before["payments"]

    fresh = make_settings(
        sources=run_src, as_of=LATER.isoformat(), PAR_WAREHOUSE=str(tmp_path / "fresh.duckdb")
    )
    ingest_all(fresh)
    incremental, full = _snapshot(settings), _snapshot(fresh)
    for key in full:
        assert incremental[key] == full[key], key
    assert sum(len(v) for v in full.values()) > 1000


def test_changed_register_checks_every_export_again(make_settings, tmp_path, caplog):
    src = tmp_path / "src"
    generate(src, scale="small", faults="none", as_of=AS_OF)
    settings = make_settings(sources=src, as_of=AS_OF.isoformat())
    ingest_all(settings)
    (unit,) = query(
        settings,
        "SELECT ma_don_vi FROM raw.payments GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1",
    )[0]
    assert not query(
        settings, "SELECT 1 FROM raw.quarantine_rows WHERE feed = 'payments' AND unit_as_sent = ?", [unit]
    )

    # a corrected register arrives (a later file name wins) in which that unit no longer exists
    (register,) = [p for p in (src / "registers").iterdir() if p.name.startswith("units")]
    with register.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    kept = [rows[0]] + [r for r in rows[1:] if r[rows[0].index("ma_don_vi")] != unit]
    assert len(kept) == len(rows) - 1
    with (src / "registers" / "units_zz_corrected.csv").open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(kept)

    caplog.set_level("INFO")
    ingest_all(settings)
    rechecked = {r.getMessage().split(":")[0] for r in caplog.records if "checked again" in r.getMessage()}
    assert {"payments", "dossiers", "surveys"} <= rechecked
    assert not query(settings, "SELECT 1 FROM raw.payments WHERE ma_don_vi = ?", [unit])
    quarantined = query(
        settings,
        "SELECT count(*) FROM raw.quarantine_rows WHERE feed = 'payments' AND unit_as_sent = ? "
        "AND reason_code = 'unknown_unit'",
        [unit],
    )[0][0]
    assert quarantined > 0
