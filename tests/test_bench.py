"""`make bench`'s floor: one plain DuckDB script over the export files, checked against the same
unit-year groups counted with Python's csv module on a small generated sample."""

import csv
from datetime import date

from pipelines.bench import median_run, restore_work, run_floor, snapshot_work
from pipelines.sample.generator import generate


def _groups(folder, key) -> set:
    out = set()
    for path in sorted(folder.glob("*.csv")):
        with path.open(encoding="utf-8-sig", newline="") as handle:
            out |= {key(row) for row in csv.DictReader(handle)}
    return out


def test_floor_computes_every_unit_year_kpi_group(tmp_path):
    src = tmp_path / "sources"
    generate(src, scale="small", faults="none", as_of=date(2023, 6, 15))
    dossiers = _groups(src / "dossiers", lambda r: (r["ma_don_vi"], r["ky_bao_cao"][:4]))
    payments = _groups(src / "payments", lambda r: (r["ma_don_vi"], r["thoi_diem"][:4]))
    surveys = _groups(src / "surveys", lambda r: (r["ma_don_vi"], r["ngay_khao_sat"][:4], r["loai_khao_sat"]))
    assert dossiers and payments and surveys

    floor = run_floor(src)

    # two dossier KPIs per unit-year, one payment KPI per unit-year, one per unit-year-survey type
    assert floor["rows"] == 2 * len(dossiers) + len(payments) + len(surveys)
    assert floor["wall_s"] > 0 and floor["peak_rss_mib"] > 0


def test_each_incremental_run_starts_from_the_state_after_the_full_run(tmp_path):
    """The snapshot links the exports and archive copies (written once, replaced by rename) and copies
    the rest; whatever a run then changes, adds or replaces is undone by the restore."""
    work, snap, parse = tmp_path / "work", tmp_path / "snap", tmp_path / "target" / "partial_parse.msgpack"
    files = {
        "sources/dossiers/2025-11.csv": b"ma_don_vi\nS01\n",
        "warehouse/archive/dossiers/1/2025-11.csv": b"ma_don_vi\nS01\n",
        "warehouse/par.duckdb": b"full run",
        "dagster_home/history/runs.db": b"one run",
    }
    for rel, content in files.items():
        (work / rel).parent.mkdir(parents=True, exist_ok=True)
        (work / rel).write_bytes(content)
    parse.parent.mkdir()
    parse.write_bytes(b"parsed for the full run's date")

    snapshot_work(work, snap, parse)
    linked = work / "sources/dossiers/2025-11.csv"
    assert (snap / "work/sources/dossiers/2025-11.csv").stat().st_ino == linked.stat().st_ino
    assert (snap / "work/warehouse/par.duckdb").stat().st_ino != (work / "warehouse/par.duckdb").stat().st_ino

    # an incremental run: a new export, the warehouse written in place, an archive file replaced, a new parse
    (work / "sources/dossiers/2025-12.csv").write_bytes(b"ma_don_vi\nS02\n")
    with (work / "warehouse/par.duckdb").open("ab") as handle:
        handle.write(b" + incremental")
    tmp = work / "warehouse/archive/dossiers/1/.tmp"
    tmp.write_bytes(b"replaced")
    tmp.replace(work / "warehouse/archive/dossiers/1/2025-11.csv")
    parse.write_bytes(b"parsed for the next date")

    restore_work(snap, work, parse)
    for rel, content in files.items():
        assert (work / rel).read_bytes() == content, rel
    assert not (work / "sources/dossiers/2025-12.csv").exists()
    assert parse.read_bytes() == b"parsed for the full run's date"


def test_the_incremental_figures_are_the_median_runs_own():
    runs = [{"wall_s": 38.8, "dbt": 17.3}, {"wall_s": 35.79, "dbt": 16.1}, {"wall_s": 36.79, "dbt": 16.9}]
    figures = median_run(runs)
    assert (figures["wall_s"], figures["dbt"]) == (36.79, 16.9)  # the middle run's stages, not a mix
    assert figures["runs_wall_s"] == [38.8, 35.79, 36.79]
    # an even count reports the lower middle run; a single run is its own median
    assert median_run([{"wall_s": w} for w in (4.0, 1.0, 3.0, 2.0)])["wall_s"] == 2.0
    assert median_run([{"wall_s": 5.0}]) == {"wall_s": 5.0, "runs_wall_s": [5.0]}
