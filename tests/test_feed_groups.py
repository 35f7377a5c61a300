"""The big feeds' check frames kept as per-export groups by ingestion (pipelines/quality/feed_groups.py):
after a first load and after a new month, the frame read from the kept groups is the frame of the loaded
rows; a new month groups only the new exports; anything that makes the kept groups differ from the rows
(registers, exports gone, rows deleted, an edit by hand) makes the check group the rows themselves."""

from datetime import date

from builders import link_tree
from conftest import ingest_all

from pipelines.lib.warehouse import connect
from pipelines.quality.feed_groups import forget_groups, kept_groups_current
from pipelines.quality.frames import FEED_FRAMES, FEED_GROUPS, plain_dtypes, read_frame
from pipelines.sample.generator import generate

AS_OF = date(2024, 5, 15)
LATER = date(2024, 6, 15)


def _frames(con) -> dict[str, tuple]:
    """Per feed: (frame read by the check, frame grouped from the loaded rows now, kept groups current)."""
    out = {}
    for feed, groups in FEED_GROUPS.items():
        name = FEED_FRAMES[feed].name
        live = con.execute(FEED_FRAMES[feed].sql).df()
        out[feed] = (read_frame(con, name), live, kept_groups_current(con, groups))
    return out


def test_kept_groups_are_the_frame_of_the_loaded_rows_and_a_new_month_groups_only_its_exports(
    make_settings, tmp_path, caplog
):
    base, later, run_src = tmp_path / "base", tmp_path / "later", tmp_path / "run"
    generate(base, scale="small", faults="all", as_of=AS_OF)
    generate(later, scale="small", faults="all", as_of=LATER)
    link_tree(base, run_src)
    settings = make_settings(sources=run_src, as_of=AS_OF.isoformat())
    ingest_all(settings)

    with connect(settings.warehouse, read_only=True) as con:
        for feed, (frame, live, current) in _frames(con).items():
            assert current, feed
            assert frame.equals(plain_dtypes(live)), feed
        # the frame's counts, by an independent route: the loaded rows counted per unit and month
        direct = dict(
            con.execute(
                "SELECT ma_don_vi || strftime(thoi_diem, '%Y-%m'), count(*) FROM raw.payments GROUP BY 1"
            ).fetchall()
        )
        frame = read_frame(con, "feed_payments")
        per_unit_month = frame.groupby(frame["unit_code"] + frame["period"])["rows"].sum().to_dict()
        assert per_unit_month == direct and sum(direct.values()) > 1000

    new_files = link_tree(later, run_src, only_new=True)
    caplog.set_level("INFO")
    ingest_all(make_settings(sources=run_src, as_of=LATER.isoformat()))
    kept = {
        m.split(":")[0]: int(m.split(" for ")[1].split()[0])
        for m in (r.getMessage() for r in caplog.records)
        if "check groups kept" in m
    }
    for feed in FEED_GROUPS:
        n = sum(f.startswith(f"{feed}/") for f in new_files)
        assert kept.get(feed, 0) == n, (feed, kept, new_files)
    assert kept["payments"] >= 1 and kept["dossiers"] >= 1
    with connect(settings.warehouse, read_only=True) as con:
        for feed, (frame, live, current) in _frames(con).items():
            assert current, feed
            assert frame.equals(plain_dtypes(live)), feed


def test_kept_groups_are_not_used_once_they_could_differ_from_the_rows(make_settings, tmp_path):
    src = tmp_path / "src"
    generate(src, scale="small", faults="none", as_of=AS_OF)
    settings = make_settings(sources=src, as_of=AS_OF.isoformat())
    ingest_all(settings)
    payments = FEED_GROUPS["payments"]
    with connect(settings.warehouse) as con:
        assert kept_groups_current(con, payments)
        # a register changed after the feed was loaded: the frame counts against the register of now
        (procedure, n) = con.execute(
            "SELECT ma_thu_tuc, count(*) FROM raw.payments GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 1"
        ).fetchone()
        con.execute("DELETE FROM raw.procedures WHERE ma_thu_tuc = ?", [procedure])
        assert not kept_groups_current(con, payments)
        assert int(read_frame(con, "feed_payments")["unknown_procedure_rows"].sum()) == n
    ingest_all(settings)  # every export checked again against the new register, and grouped again
    with connect(settings.warehouse) as con:
        assert kept_groups_current(con, payments)
        # an export's rows gone (deleted by hand)
        (export_id,) = con.execute("SELECT min(export_id) FROM raw.payments").fetchone()
        con.execute("CREATE TEMP TABLE gone AS SELECT * FROM raw.payments WHERE export_id = ?", [export_id])
        con.execute("DELETE FROM raw.payments WHERE export_id = ?", [export_id])
        assert not kept_groups_current(con, payments)
        con.execute("INSERT INTO raw.payments SELECT * FROM gone")
        assert kept_groups_current(con, payments)
        # rows edited in place keep the count and the exports: whoever edits them forgets the groups
        con.execute(
            "UPDATE raw.payments SET kenh = 'tien_mat' WHERE rowid = (SELECT min(rowid) FROM raw.payments)"
        )
        forget_groups(con)
        assert not kept_groups_current(con, payments)
        frame = read_frame(con, "feed_payments")
        assert int(frame.loc[frame["kenh"] == "tien_mat", "rows"].sum()) == 1
