"""Drill 4 (issue 7): a revisions storm. One unit-month (S01, 2024-03) re-exported five times with
changes, plus a Biểu II.06a for it, plus one resend of identical bytes under another name; file-name order
and ngay_xuat order disagree; the files arrive in the sources folder over three runs, in two different
orders. In both: the machine export with the newest ngay_xuat wins (a tie goes to the file name sorting
last; the human report loses though it is newest: kpis.md Conventions), every version stays in the
archive, `marts.reporting_gaps` has the `revised` gap listing them, and the end state is identical.
"""

from __future__ import annotations

import io
import json
import time

from builders import DOSSIER_COLUMNS, dossier_row, write_bieu_ii06a, write_csv, write_registers

from pipelines.ingest.pipeline import ingest
from pipelines.lib.config import FEEDS, REGISTERS
from pipelines.lib.warehouse import connect

from .drills import archive_listing, dbt_build, diff, marts_snapshot, raw_snapshot, settings_for

AS_OF = "2024-06-30"
# file name → (ngay_xuat, received online); name order and date order disagree on purpose
VERSIONS = {
    "dossiers_2024-03.csv": ("2024-04-05T08:00:00", 1),
    "dossiers_2024-03_v2.csv": ("2024-04-03T08:00:00", 2),  # sorts after the first, is older
    "dossiers_2024-03_final.csv": ("2024-04-09T08:00:00", 3),  # "final", not the last
    "dossiers_2024-03_sua.csv": ("2024-04-12T10:00:00", 4),  # newest; ties with the next one …
    "a_dossiers_2024-03_resend.csv": ("2024-04-12T10:00:00", 5),  # … whose name sorts first: loses
}
WINNER = "dossiers_2024-03_sua.csv"
RESEND = "dossiers_2024-03_v2 (1).csv"  # a mail client's copy of v2: same bytes, one export
HUMAN = "bieu_2024-03.xlsx"  # dated 20/04/2024, newest of all, but machine beats human
ORDERS = {
    "a": [["dossiers_2024-03_final.csv", HUMAN], [WINNER, RESEND, "dossiers_2024-03.csv"],
          ["a_dossiers_2024-03_resend.csv", "dossiers_2024-03_v2.csv"]],
    "b": [["a_dossiers_2024-03_resend.csv", "dossiers_2024-03_v2.csv", WINNER],
          ["dossiers_2024-03.csv", RESEND], [HUMAN, "dossiers_2024-03_final.csv"]],
}  # fmt: skip


def counts(online: int) -> tuple:
    """Balanced: 2 + (online + 3) = 4 resolved + (online + 1) pending."""
    return (2, online, 3, 0, 4, 0, 0, online, 1, 0)


def deliveries(tmp) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    for name, (stamp, online) in VERSIONS.items():
        rows = [dossier_row("2024-03", "S01", "1.004227", counts(online), stamp)]
        if name == "dossiers_2024-03.csv":  # another unit-month, carried once: not revised
            rows.append(dossier_row("2024-03", "S02", "1.004227", counts(7), stamp))
        files[name] = write_csv(tmp / name, DOSSIER_COLUMNS, rows).read_bytes()
    files[RESEND] = files["dossiers_2024-03_v2.csv"]
    bieu = write_bieu_ii06a(
        tmp / HUMAN,
        [("Sở Tư pháp", 14, 9, 3, 2, 4, 4, 0, 0, 10, 9, 1)],
        date_line="Nghệ An, ngày 20 tháng 4 năm 2024",
    )
    files[HUMAN] = bieu.read_bytes()
    return files


def storm(root, files: dict[str, bytes], order: list[list[str]]) -> None:
    write_registers(root / "sources")
    settings = settings_for(root, PAR_AS_OF=AS_OF)
    folder = root / "sources" / "dossiers"
    folder.mkdir(parents=True, exist_ok=True)
    for batch in order:
        for name in batch:
            (folder / name).write_bytes(files[name])
        with connect(settings.warehouse) as con:
            for feed in (*REGISTERS, *FEEDS):  # empty feeds too: dbt reads every raw table
                ingest(settings, feed, con)
    dbt_build(root, select="+kpi_unit_month +reporting_gaps", PAR_AS_OF=AS_OF)


def test_revisions_storm_arrival_order_does_not_matter(tmp_path):
    started = time.monotonic()
    files = deliveries(tmp_path)
    state = {}
    for key, order in ORDERS.items():
        root = tmp_path / key
        storm(root, files, order)
        settings = settings_for(root, PAR_AS_OF=AS_OF)
        db = settings.warehouse
        state[key] = (marts_snapshot(db), raw_snapshot(db), archive_listing(settings.archive))

        con = connect_ro(db)
        # the winner's numbers in the marts: online 4 of 7 received
        assert con.execute(
            """SELECT numerator, denominator FROM marts.kpi_unit_month
               WHERE unit_code = 'S01' AND period = '2024-03' AND kpi_code = 'online_dossier_rate'"""
        ).fetchall() == [(4, 7)]
        gaps = con.execute(
            """SELECT unit_code, detail FROM marts.reporting_gaps
               WHERE gap_type = 'revised' AND feed = 'dossiers' ORDER BY 1"""
        ).fetchall()
        assert gaps == [
            (
                "S01",
                "Tháng 2024-03 có 6 phiên bản báo cáo (dossiers_2024-03_sua.csv, a_dossiers_2024-03_resend.csv, "
                "dossiers_2024-03_final.csv, dossiers_2024-03.csv, dossiers_2024-03_v2.csv, bieu_2024-03.xlsx); "
                "số liệu lấy từ dossiers_2024-03_sua.csv",
            )
        ]
        # every version stays in the archive, byte for byte; the resend is one export with two arrivals
        exports = con.execute(
            "SELECT file_name, archive_path FROM raw.exports WHERE feed = 'dossiers' ORDER BY 1"
        ).fetchall()
        con.close()
        assert sorted(n for n, _ in exports) == sorted({*VERSIONS, HUMAN})
        for name, path in exports:
            assert open(path, "rb").read() == files[name]
        sidecar = json.loads(
            next(settings.archive.rglob(f"{exports_id(files, RESEND)}.meta.json")).read_text(encoding="utf-8")
        )
        assert sorted(a["file_name"] for a in sidecar["arrivals"]) == [RESEND, "dossiers_2024-03_v2.csv"]

    assert diff(state["a"][0], state["b"][0]) == []
    assert diff(state["a"][1], state["b"][1]) == []
    assert state["a"][2] == state["b"][2]
    print(f"drill 4: {time.monotonic() - started:.0f}s")


def exports_id(files: dict[str, bytes], name: str) -> str:
    import hashlib

    return hashlib.sha256(io.BytesIO(files[name]).getvalue()).hexdigest()


def connect_ro(db):
    import duckdb

    return duckdb.connect(str(db), read_only=True)
