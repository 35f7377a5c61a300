"""Ingestion on real files: parsers, every quarantine case of quality.md, archive and idempotency."""

import datetime
import shutil
import unicodedata

from builders import (
    DOSSIER_COLUMNS,
    PAYMENT_COLUMNS,
    SURVEY_COLUMNS,
    dossier_row,
    write_bieu_ii06a,
    write_csv,
    write_json,
    write_registers,
)
from conftest import ingest_all, query

OK = (2, 5, 3, 0, 4, 2, 1, 2, 1, 0)  # balanced: 2+5+3+0 = 4+2+1+2+1+0


def _reasons(settings, feed):
    return {
        r[0]: r[1]
        for r in query(
            settings,
            "SELECT row_number, reason_code FROM raw.quarantine_rows WHERE feed = ? ORDER BY 1",
            [feed],
        )
    }


def test_machine_dossier_rows_every_row_check(make_settings, tmp_path):
    src = tmp_path / "sources"
    write_registers(src)
    rows = [
        dossier_row("2024-03", "S01", "1.004227", OK, "2024-04-05T08:00:00"),  # 1 loaded
        dossier_row(
            "2024-03", "S02", "1.004227", (0, -1, 1, 0, 0, 0, 0, 0, 0, 0), "2024-04-05T08:00:00"
        ),  # 2
        dossier_row(
            "2024-03", "H01", "1.004227", (0, 2.5, 1, 0, 0, 0, 0, 0, 0, 0), "2024-04-05T08:00:00"
        ),  # 3
        dossier_row("2024-03", "ZZZ", "1.004227", OK, "2024-04-05T08:00:00"),  # 4 unknown unit
        dossier_row("2024-08", "X02", "2.000001", OK, "2024-09-05T08:00:00"),  # 5 X02 ended 2024-06-30
        dossier_row("2024-03", "S02", "9.999999", OK, "2024-04-05T08:00:00"),  # 6 unknown procedure
        dossier_row("2024-03", "N01", "", OK, "2024-04-05T08:00:00"),  # 7 blank procedure
        dossier_row("2024-03", "X01", "2.000001", OK, "05/04/2024"),  # 8 date not ISO
        dossier_row("2024-03", "H01", "2.000001", OK, "2024-04-05T08:00:00"),  # 9 duplicate key …
        dossier_row("2024-03", "H01", "2.000001", OK, "2024-04-06T08:00:00"),  # 10 … of row 9
        dossier_row("2024-3", "S01", "2.000001", OK, "2024-04-05T08:00:00"),  # 11 bad period
        dossier_row(
            "2024-03", "X01", "1.004227", ("4.0", 1, 0, 0, 1, 0, 0, 4, 0, ""), "2024-04-05T08:00:00+07:00"
        ),
    ]
    write_csv(src / "dossiers" / "dossiers_2024-03.csv", DOSSIER_COLUMNS, rows, bom=True)
    settings = make_settings()
    result = ingest_all(settings, ["units", "procedures", "dossiers"])["dossiers"]

    assert _reasons(settings, "dossiers") == {
        2: "bad_count",
        3: "bad_count",
        4: "unknown_unit",
        5: "unknown_unit",
        6: "unknown_procedure",
        7: "missing_procedure",
        8: "bad_date",
        9: "duplicate_key",
        10: "duplicate_key",
        11: "bad_period",
    }
    assert result.rows_loaded == 2 and result.rows_quarantined == 10
    loaded = query(
        settings,
        "SELECT row_number, ma_don_vi, ton_ky_truoc, tra_lai_rut, ngay_xuat::VARCHAR FROM raw.dossiers ORDER BY 1",
    )
    # "4.0" is the integer 4; a blank count is 0; +07:00 is local time already.
    assert loaded == [(1, "S01", 2, 0, "2024-04-05 08:00:00"), (12, "X01", 4, 0, "2024-04-05 08:00:00")]
    # unknown-unit rows keep the code as sent but name no register unit
    unknown = query(settings, "SELECT unit_code, unit_as_sent FROM raw.quarantine_rows WHERE row_number = 4")
    assert unknown == [(None, "ZZZ")]


def test_bieu_ii06a_human_report_resolves_names_and_checks_totals(make_settings, tmp_path):
    src = tmp_path / "sources"
    write_registers(src)
    nfd = unicodedata.normalize("NFD", "UBND huyện Nghi Lộc")
    report_rows = [
        # name, (3) total received, (4) online, (5) in person+postal, (6) carried, (7) resolved total,
        # (8) early, (9) on time, (10) late, (11) pending total, (12) in time, (13) overdue
        (nfd, 10, 4, 4, 2, 7, 3, 3, 1, 2, 2, 0),  # 1 NFD name; residual 2+8-7-2 = 1
        (
            "CÔNG AN TỈNH  NGHỆ AN",
            5.0,
            2.0,
            3,
            None,
            4,
            4,
            None,
            None,
            1,
            1,
            0,
        ),  # 2 alias, upper case, blanks
        ("Uỷ ban nhân dân xã Nghi Phong", 3, 1, 1, 1, 5, 1, 1, 1, 0, 0, 0),  # 3 (7)=5 ≠ 1+1+1
        ("Sở XD", 1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0),  # 4 alias shared by two units
        ("Phòng Không Tồn Tại", 1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0),  # 5 no such unit
        ("Sở Tư pháp", 2, 1, 1, 0, 3, 3, 0, 0, 0, 0, 0),  # 6 residual 0+2-3-0 = -1: loaded, unbalanced
    ]
    write_bieu_ii06a(src / "dossiers" / "bieu_II06a_2024-03.xlsx", report_rows)
    settings = make_settings()
    ingest_all(settings, ["units", "procedures", "dossiers"])

    export = query(
        settings,
        "SELECT report_kind, report_period, report_date::VARCHAR FROM raw.exports WHERE feed='dossiers'",
    )
    assert export == [("human", "2024-03", "2024-04-05")]
    loaded = query(
        settings,
        """SELECT ma_don_vi, ma_thu_tuc, ton_ky_truoc, tiep_nhan_truc_tuyen, tiep_nhan_truc_tiep,
                  tiep_nhan_buu_chinh, tra_lai_rut, ngay_xuat::VARCHAR, source_format
           FROM raw.dossiers ORDER BY row_number""",
    )
    assert loaded == [
        ("H01", None, 2, 4, 4, 0, 1, "2024-04-05 00:00:00", "human"),
        ("N01", None, 0, 2, 3, 0, 0, "2024-04-05 00:00:00", "human"),
        ("S01", None, 0, 1, 1, 0, -1, "2024-04-05 00:00:00", "human"),
    ]
    quarantined = query(
        settings,
        "SELECT unit_as_sent, reason_code, unit_code, period FROM raw.quarantine_rows WHERE feed='dossiers' ORDER BY row_number",
    )
    assert quarantined == [
        ("Uỷ ban nhân dân xã Nghi Phong", "total_mismatch", "X01", "2024-03"),
        ("Sở XD", "unknown_unit", None, "2024-03"),
        ("Phòng Không Tồn Tại", "unknown_unit", None, "2024-03"),
    ]
    several = query(settings, "SELECT reason FROM raw.quarantine_rows WHERE unit_as_sent = 'Sở XD'")[0][0]
    assert "2 units" in several and "S03" in several and "S04" in several


def test_bieu_ii06a_period_range_and_missing_date_line(make_settings, tmp_path):
    src = tmp_path / "sources"
    write_registers(src)
    write_bieu_ii06a(
        src / "dossiers" / "bieu_2024-02.xlsx",
        [("Sở Tư pháp", 1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0)],
        period_line="Từ ngày 01/02/2024 đến ngày 29/02/2024",
        date_line=None,
    )
    write_bieu_ii06a(
        src / "dossiers" / "bieu_bad_period.xlsx",
        [("Sở Tư pháp", 1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0)],
        period_line="Từ ngày 01/02/2024 đến ngày 15/03/2024",
    )
    write_bieu_ii06a(
        src / "dossiers" / "bieu_2024-01.xlsx",
        [("Sở Tư pháp", 1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0)],
        period_line="Kỳ báo cáo: Tháng 1 năm 2024",
        date_line="Nghệ An, ngày 9 tháng 02 năm 2024",
        date_at_bottom=True,
    )
    settings = make_settings()
    ingest_all(settings, ["units", "procedures", "dossiers"])
    rows = query(
        settings,
        "SELECT file_name, parse_status, report_period, report_date, parse_reason FROM raw.exports ORDER BY 1",
    )
    by_name = {r[0]: r for r in rows}
    assert by_name["bieu_2024-02.xlsx"][1:4] == ("parsed", "2024-02", None)
    # a date line below the table, above the signature, is the report's date too
    assert by_name["bieu_2024-01.xlsx"][1:4] == ("parsed", "2024-01", datetime.date(2024, 2, 9))
    assert by_name["bieu_bad_period.xlsx"][1] == "quarantined"
    assert "not one calendar month" in by_name["bieu_bad_period.xlsx"][4]


def test_json_array_items_wrapper_and_json_lines_load_like_csv(make_settings, tmp_path):
    src = tmp_path / "sources"
    write_registers(src)
    record = dict(
        zip(
            DOSSIER_COLUMNS, dossier_row("2024-03", "S01", "1.004227", OK, "2024-04-05T08:00:00"), strict=True
        )
    )
    record_num = {
        k: (v if k in ("ky_bao_cao", "ma_don_vi", "ma_thu_tuc", "ngay_xuat") else int(v))
        for k, v in record.items()
    }
    write_json(src / "dossiers" / "dossiers_2024-03.json", {"items": [record_num], "page": 1, "pages": 1})
    record2 = {**record_num, "ky_bao_cao": "2024-04", "ngay_xuat": "2024-05-05T08:00:00"}
    write_json(src / "dossiers" / "dossiers_2024-04.json", [record2])
    payments = src / "payments" / "payments_2024-03.jsonl"
    payments.parent.mkdir(parents=True)
    payments.write_text(
        '{"ma_giao_dich":"T1","ma_ho_so":"S01-240301-0001","ma_thu_tuc":"1.004227","ma_don_vi":"S01",'
        '"thoi_diem":"2024-03-01T10:00:00","so_tien":50000,"kenh":"dvcqg","trang_thai":"thanh_cong"}\n'
        '{"ma_giao_dich":"T2","ma_ho_so":"S01-240301-0002","ma_thu_tuc":"1.004227","ma_don_vi":"S01",'
        '"thoi_diem":"2024-03-01T03:00:00Z","so_tien":"20000","kenh":"truc_tiep","trang_thai":"that_bai"}\n',
        encoding="utf-8",
    )
    settings = make_settings()
    ingest_all(settings, ["units", "procedures", "dossiers", "payments"])
    assert query(
        settings, "SELECT ky_bao_cao, ma_don_vi, tiep_nhan_truc_tuyen FROM raw.dossiers ORDER BY 1"
    ) == [
        ("2024-03", "S01", 5),
        ("2024-04", "S01", 5),
    ]
    # 03:00Z is 10:00 in Asia/Ho_Chi_Minh
    assert query(
        settings, "SELECT ma_giao_dich, thoi_diem::VARCHAR, so_tien FROM raw.payments ORDER BY 1"
    ) == [
        ("T1", "2024-03-01 10:00:00", 50000),
        ("T2", "2024-03-01 10:00:00", 20000),
    ]


def test_unreadable_files_are_quarantined_and_the_rest_loads(make_settings, tmp_path):
    src = tmp_path / "sources"
    write_registers(src)
    folder = src / "payments"
    good = write_csv(
        folder / "payments_2024-03.csv",
        PAYMENT_COLUMNS,
        [["T1", "S01-1", "1.004227", "S01", "2024-03-01T10:00:00", "1000", "dvcqg", "thanh_cong"]],
    )
    (folder / "payments_2024-04.csv").write_bytes(good.read_bytes() + b"T2,S01-2,1.004227,S01,2024-04-0")
    (folder / "payments_2024-05.csv").write_bytes(b"\x00\x01\x02PK garbage \xff\xfe" * 20)
    (folder / "payments_2024-06.csv").write_text("ma_giao_dich,so_tien\nT9,100\n", encoding="utf-8")
    (folder / "payments_2024-07.csv").write_bytes(good.read_text(encoding="utf-8").encode("utf-16"))
    (folder / "notes.txt").write_text("not an export", encoding="utf-8")
    settings = make_settings()
    result = ingest_all(settings, ["units", "procedures", "payments"])["payments"]
    status = dict(query(settings, "SELECT file_name, parse_status FROM raw.exports WHERE feed = 'payments'"))
    assert status == {
        "payments_2024-03.csv": "parsed",
        "payments_2024-04.csv": "quarantined",
        "payments_2024-05.csv": "quarantined",
        "payments_2024-06.csv": "quarantined",
        "payments_2024-07.csv": "quarantined",
        "notes.txt": "quarantined",
    }
    reasons = dict(
        query(settings, "SELECT file_name, parse_reason FROM raw.exports WHERE parse_status = 'quarantined'")
    )
    assert "Expected Number of Columns" in reasons["payments_2024-04.csv"]
    assert "missing required columns" in reasons["payments_2024-06.csv"]
    assert "UTF-16" in reasons["payments_2024-07.csv"]
    assert "unsupported file type" in reasons["notes.txt"]
    assert result.rows_loaded == 1 and result.exports_quarantined == 5


def test_reingestion_is_idempotent_and_same_bytes_are_one_export(make_settings, tmp_path):
    src = tmp_path / "sources"
    write_registers(src)
    path = write_csv(
        src / "dossiers" / "dossiers_2024-03.csv",
        DOSSIER_COLUMNS,
        [dossier_row("2024-03", "S01", "1.004227", OK, "2024-04-05T08:00:00")],
    )
    settings = make_settings()
    ingest_all(settings)
    snapshot = lambda: (  # noqa: E731
        query(settings, "SELECT * EXCLUDE (export_id) FROM raw.dossiers ORDER BY ALL"),
        query(settings, "SELECT export_id, feed, file_name, sort_key FROM raw.exports ORDER BY ALL"),
        query(settings, "SELECT * FROM raw.quarantine_rows ORDER BY ALL"),
    )
    first = snapshot()
    second_result = ingest_all(settings)
    assert snapshot() == first
    assert second_result["dossiers"].exports_new == 0
    # The same bytes under another name are the same export: stored once, loaded once.
    shutil.copy(path, src / "dossiers" / "dossiers_2024-03_copy.csv")
    third = ingest_all(settings)["dossiers"]
    assert third.exports_new == 0 and third.rows_loaded == 1
    assert query(settings, "SELECT count(*) FROM raw.export_arrivals WHERE feed = 'dossiers'") == [(2,)]
    archived = list((settings.archive / "dossiers").rglob("*.csv"))
    assert len(archived) == 1 and archived[0].read_bytes() == path.read_bytes()


def test_corrected_export_keeps_every_version_in_the_archive(make_settings, tmp_path):
    src = tmp_path / "sources"
    write_registers(src)
    write_csv(
        src / "dossiers" / "dossiers_2024-03.csv",
        DOSSIER_COLUMNS,
        [dossier_row("2024-03", "S01", "1.004227", OK, "2024-04-05T08:00:00")],
    )
    write_csv(
        src / "dossiers" / "dossiers_2024-03_v2.csv",
        DOSSIER_COLUMNS,
        [dossier_row("2024-03", "S01", "1.004227", (2, 6, 3, 0, 5, 2, 1, 2, 1, 0), "2024-04-20T08:00:00")],
    )
    settings = make_settings()
    ingest_all(settings, ["units", "procedures", "dossiers"])
    rows = query(settings, "SELECT file_name, tiep_nhan_truc_tuyen FROM raw.dossiers ORDER BY file_name")
    assert rows == [("dossiers_2024-03.csv", 5), ("dossiers_2024-03_v2.csv", 6)]
    assert len(list((settings.archive / "dossiers").rglob("*.csv"))) == 2


def test_payment_survey_and_self_report_row_checks(make_settings, tmp_path):
    src = tmp_path / "sources"
    write_registers(src)
    base = ["S01-1", "1.004227", "S01", "2024-03-01T10:00:00"]
    write_csv(
        src / "payments" / "payments_2024-03.csv",
        PAYMENT_COLUMNS,
        [
            ["T1", *base, "1000", "dvcqg", "thanh_cong"],  # 1 ok
            ["T2", *base, "0", "dvcqg", "thanh_cong"],  # 2 amount ≤ 0
            ["T3", *base, "-5", "dvcqg", "thanh_cong"],  # 3 amount ≤ 0
            ["T4", *base, "12.5", "dvcqg", "thanh_cong"],  # 4 not whole VND
            ["T5", *base, "1000", "zalo", "thanh_cong"],  # 5 unknown channel
            ["T6", *base, "1000", "dvcqg", "dang_xu_ly"],  # 6 unknown status
            ["T7", *base, "1000", "cong_tinh", "hoan_tien"],  # 7 duplicate …
            ["T7", *base, "1000", "cong_tinh", "hoan_tien"],  # 8 … of 7
            [
                "T9",
                "x",
                "1.004227",
                "S01",
                "2024-13-01T10:00:00",
                "1000",
                "dvcqg",
                "thanh_cong",
            ],  # 9 bad date
        ],
    )
    write_csv(
        src / "surveys" / "surveys_2024.csv",
        SURVEY_COLUMNS,
        [
            ["P1", "sipas", "S01", "tu_phap", "2024-03-02", "giay", "5", "4", "", "0912345678"],  # ok
            ["P2", "sipas", "S01", "tu_phap", "2024-03-02", "giay", "6", "4", "3", "0912345679"],  # answer 6
            ["P3", "khac", "S01", "", "2024-03-02", "giay", "5", "", "", ""],  # unknown type
            ["P4", "cqhc", "S01", "", "2024-03-02", "fax", "5", "", "", ""],  # unknown channel
        ],
    )
    write_csv(
        src / "self_report" / "self_report_2024.csv",
        ["nam", "ma_don_vi", "ma_chi_tieu", "tu_so", "mau_so", "ghi_chu"],
        [
            ["2024", "S01", "legal_docs_implemented_rate", "49", "50", ""],  # ok
            ["2024", "S01", "legal_docs_quality_on_time_rate", "51", "50", ""],  # above denominator
            ["2024", "S01", "not_a_target", "1", "2", ""],  # unknown indicator
            ["2024", "S02", "budget_staff_reduction_rate", "1,5", "20", ""],  # ok, decimal comma
            ["2024", "S02", "budget_staff_reduction_rate", "2", "20", ""],  # duplicate of the row above
        ],
    )
    settings = make_settings()
    ingest_all(settings)
    assert _reasons(settings, "payments") == {
        2: "bad_amount",
        3: "bad_amount",
        4: "bad_amount",
        5: "unknown_channel",
        6: "unknown_status",
        7: "duplicate_key",
        8: "duplicate_key",
        9: "bad_date",
    }
    assert _reasons(settings, "surveys") == {2: "bad_answer", 3: "unknown_survey_type", 4: "unknown_channel"}
    assert _reasons(settings, "self_report") == {
        2: "numerator_above_denominator",
        3: "unknown_indicator",
        4: "duplicate_key",
        5: "duplicate_key",
    }
    assert query(settings, "SELECT ma_phieu, q1, q2, q3 FROM raw.surveys") == [("P1", 5, 4, None)]
    # personal data never enters the warehouse, not even the quarantine records
    columns = [r[0] for r in query(settings, "SELECT column_name FROM information_schema.columns")]
    assert "so_dien_thoai" not in columns
    dumped = query(settings, "SELECT string_agg(record, ' ') FROM raw.quarantine_rows")[0][0]
    assert "0912345679" not in dumped and "so_dien_thoai" not in dumped


def test_unchanged_files_are_taken_as_recorded_and_changed_ones_go_through_add_file(make_settings, tmp_path):
    """Archive.add_files (the nightly path) gives what add_file gives file by file, without touching the
    records of unchanged files; a touched file, a renamed copy and a missing sidecar go the long way."""
    import os

    from pipelines.lib.archive import Archive
    from pipelines.lib.warehouse import connect

    src = tmp_path / "sources"
    write_registers(src)
    rows = [dossier_row("2024-03", "S01", "1.004227", OK, "2024-04-05T08:00:00")]
    for name in ("dossiers_2024-03.csv", "dossiers_2024-04.csv"):
        write_csv(src / "dossiers" / name, DOSSIER_COLUMNS, rows if "03" in name else [])
    settings = make_settings()
    ingest_all(settings, ["units", "procedures", "dossiers"])
    records = "SELECT * FROM raw.source_file_hashes, raw.exports, raw.export_arrivals ORDER BY ALL"
    before = query(settings, records)
    paths = sorted((src / "dossiers").glob("*.csv"))

    with connect(settings.warehouse) as con:
        archive = Archive(settings.archive, con)
        nightly = archive.add_files("dossiers", paths)
        assert con.execute(records).fetchall() == before  # nothing re-written
        one_by_one = [archive.add_file("dossiers", p) for p in paths]
    assert nightly == one_by_one
    assert [e.is_new for e in nightly] == [False, False]

    # touched (same bytes, new modification time), and its sidecar gone: both repaired through add_file
    first = paths[0]
    os.utime(first, ns=(first.stat().st_atime_ns, first.stat().st_mtime_ns + 10**9))
    sidecar = nightly[1].archive_path.with_name(nightly[1].export_id + ".meta.json")
    sidecar.unlink()
    with connect(settings.warehouse) as con:
        again = Archive(settings.archive, con).add_files("dossiers", paths)
        mtime = con.execute(
            "SELECT mtime_ns FROM raw.source_file_hashes WHERE path = ?", [str(first)]
        ).fetchone()[0]
    assert again == nightly
    assert mtime == first.stat().st_mtime_ns
    assert sidecar.exists()

    # the same bytes under a name that sorts later: recorded under the later name, as add_file does
    later = src / "dossiers" / "dossiers_2024-03_z.csv"
    shutil.copy(first, later)
    with connect(settings.warehouse) as con:
        renamed = Archive(settings.archive, con).add_files("dossiers", sorted([*paths, later]))
        names = con.execute(
            "SELECT file_name FROM raw.exports WHERE export_id = ?", [nightly[0].export_id]
        ).fetchone()
    assert [e.file_name for e in renamed] == [
        "dossiers_2024-03.csv",
        "dossiers_2024-03_z.csv",
        "dossiers_2024-04.csv",
    ]
    assert names == ("dossiers_2024-03_z.csv",)


def test_rows_of_a_large_csv_are_numbered_in_file_order_inside_and_outside_a_transaction(tmp_path):
    """Row numbers come from DuckDB's row ids of a parallel read (pipelines/ingest/readers.py): the
    file spans several row groups and both cores, and inside a transaction the ids start at an
    offset. Each line carries its own number, written independently of the reader."""
    import duckdb

    from pipelines.ingest.readers import EXPORT_TABLE, read_csv

    lines = 300_000
    path = tmp_path / "big.csv"
    with path.open("w", encoding="utf-8") as handle:
        handle.write("line,value\n")
        handle.writelines(f"{i},{i * 7919 % 104729}\n" for i in range(1, lines + 1))
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    try:
        for in_transaction in (False, True):
            if in_transaction:
                con.execute("BEGIN TRANSACTION")
            assert read_csv(con, path) == ["line", "value"]
            counts = con.execute(
                f"""SELECT count(*), count(*) FILTER (WHERE _row <> CAST(line AS BIGINT)),
                           min(_row), max(_row) FROM {EXPORT_TABLE}"""
            ).fetchone()
            assert counts == (lines, 0, 1, lines)
            if in_transaction:
                con.execute("ROLLBACK")
    finally:
        con.close()
