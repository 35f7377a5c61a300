"""`make bench`'s floor: one plain DuckDB script over the export files, checked against the same
unit-year groups counted with Python's csv module on a small generated sample."""

import csv
from datetime import date

from pipelines.bench import run_floor
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
