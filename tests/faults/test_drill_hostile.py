"""Drill 3 (issue 7): hostile exports in the sources folder. Each one is quarantined with a clear reason or
parsed correctly; none escapes the sources folder, runs code, or hangs the run; the good exports beside
them still load.

The whole ingestion runs under a watchdog (faulthandler): a hang fails the drill with a traceback
instead of blocking the suite.
"""

from __future__ import annotations

import codecs
import datetime as dt
import faulthandler
import io
import os
import random
import re
import unicodedata
import zipfile
from pathlib import Path

import openpyxl
import xlsxwriter
from builders import DOSSIER_COLUMNS, UNITS, dossier_row, write_bieu_ii06a, write_csv, write_registers
from conftest import ingest_all, query

OK = (2, 5, 3, 0, 4, 2, 1, 2, 1, 0)  # ton, received (5, 3, 0), resolved (4, 2, 1), pending (2, 1), returned
SQL_NAME = "x'; drop table raw.units; --"
SQL_CODE = "S01'); DROP TABLE raw.units; --"
PWNED = "pwned"
BIEU_COUNTS = [10, 5, 3, 2, 7, 4, 2, 1, 3, 2, 1]  # (3)..(13), totals consistent, residual 0


def dossier_csv(path: Path, period: str, unit: str = "S01", day: str = "05") -> Path:
    month = int(period[5:]) % 12 + 1
    year = int(period[:4]) + (month == 1)
    stamp = f"{year}-{month:02d}-{day}T08:00:00"
    return write_csv(path, DOSSIER_COLUMNS, [dossier_row(period, unit, "1.004227", OK, stamp)])


def bieu_with_formulas(path: Path) -> None:
    """A Biểu II.06a saved with formulas and their cached values (as Excel saves them), behind a hidden
    and a very hidden sheet that carry other numbers and must not be read."""
    wb = xlsxwriter.Workbook(str(path))
    decoys = [wb.add_worksheet("Nháp"), wb.add_worksheet("Cũ")]
    main = wb.add_worksheet("Biểu II.06a")
    for ws, name, counts in (
        (decoys[0], "Sở Tài chính", [99] * 11),
        (decoys[1], "Sở Tài chính", [98] * 11),
        (main, "Sở Tư pháp", BIEU_COUNTS),
    ):
        ws.write(0, 0, "Biểu số II.06a/VPCP/KSTT")
        ws.write(1, 0, "TÌNH HÌNH, KẾT QUẢ GIẢI QUYẾT THỦ TỤC HÀNH CHÍNH")
        ws.write(2, 0, "Kỳ báo cáo: tháng 03/2024")
        ws.write(3, 8, "Nghệ An, ngày 05 tháng 4 năm 2024")
        ws.write_row(5, 0, ["STT", "Đơn vị", "Tiếp nhận", None, None, None, "Đã giải quyết"])
        ws.write_row(6, 2, ["Tổng số", "Trực tuyến", "Trực tiếp, BCCI", "Kỳ trước", "Tổng số", "Trước hạn"])
        ws.write_row(7, 0, [f"({i})" for i in range(1, 14)])
        ws.write(8, 0, 1)
        ws.write(8, 1, name)
        for j, value in enumerate(counts, start=2):
            ws.write_number(8, j, value)
        # totals as formulas with cached values; a DDE-style formula that must never be evaluated
        ws.write_formula(8, 2, "=D9+E9+F9", None, counts[0])
        ws.write_formula(8, 6, "=H9+I9+J9", None, counts[4])
        ws.write_formula(8, 14, f"=cmd|' /C touch {PWNED}'!A0", None, "")
        ws.write(9, 0, 2)
        ws.write(9, 1, SQL_NAME)
        for j, value in enumerate(counts, start=2):
            ws.write_number(9, j, value)
        ws.write(10, 1, "Tổng cộng")
        for j in range(2, 13):
            col = xlsxwriter.utility.xl_col_to_name(j)
            ws.write_formula(10, j, f"=SUM({col}9:{col}10)", None, 2 * counts[j - 2])
    decoys[0].hide()
    decoys[1].very_hidden()
    main.activate()
    main.set_first_sheet()
    wb.close()


def bieu_formulas_without_values(path: Path) -> None:
    """Formulas written by a tool that does not compute them (openpyxl): no cached value to read."""
    write_bieu_ii06a(path, [("Sở Tư pháp", *BIEU_COUNTS)], period_line="Kỳ báo cáo: tháng 05/2024")
    wb = openpyxl.load_workbook(path)
    ws = wb.active
    row = next(r[0].row for r in ws.iter_rows() if r[0].value == 1)
    ws.cell(row, 3).value = f"=D{row}+E{row}+F{row}"  # (3) Tổng số tiếp nhận
    ws.cell(row, 4).value = f"=2+{BIEU_COUNTS[1] - 2}"  # (4) trực tuyến: a count only a formula knows
    wb.save(path)


def zip_bomb(path: Path, *, lie: bool = False) -> None:
    """A real workbook whose sheet inflates to 64 MB (of blanks) from about 64 KB. With lie=True its
    headers claim 1 KB uncompressed instead, so only the decompressor itself can notice."""
    book = io.BytesIO()
    openpyxl.Workbook().save(book)
    sheet = b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
    sheet += b" " * (64 << 20) + b"</sheetData></worksheet>"
    buf = io.BytesIO()
    with zipfile.ZipFile(book) as src, zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for info in src.infolist():
            data = sheet if info.filename == "xl/worksheets/sheet1.xml" else src.read(info)
            zf.writestr(info.filename, data)
    data = bytearray(buf.getvalue())
    if lie:
        size = len(sheet).to_bytes(4, "little")
        for sig, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
            for m in re.finditer(re.escape(sig), bytes(data)):
                at = m.start() + offset
                if data[at : at + 4] == size:
                    data[at : at + 4] = (1024).to_bytes(4, "little")
    path.write_bytes(bytes(data))


def survey_xlsx_with_serial_dates(path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Kết quả khảo sát"])  # a title line above the header
    ws.append(["ma_phieu", "loai_khao_sat", "ma_don_vi", "linh_vuc", "ngay_khao_sat", "kenh", "q1", "q2"])
    ws.append(["P1", "sipas", "S01", "tu_phap", 45366, "giay", 5, 4])  # serial 45366 = 2024-03-15
    ws.append(["P2", "sipas", "S01", "tu_phap", 45366.75, "kiosk", 4, 4])  # 2024-03-15 18:00
    ws.append(["P3", "sipas", "S01", "tu_phap", dt.datetime(2024, 3, 16), "giay", 3, 5])
    ws.append(["P4", "sipas", "S01", "tu_phap", "16/03/2024", "giay", 3, 5])  # text, and not ISO
    wb.save(path)
    with zipfile.ZipFile(path, "a") as zf:  # a member that would land outside if anyone extracted it
        zf.writestr(f"../../../{PWNED}_zip_slip", "x")


def cp1258(text: str) -> bytes:
    """Vietnamese as Windows-1258 writes it: base letters (â, ơ, đ, …) with the tone as a combining mark."""
    tones = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}
    out = []
    for ch in text:
        parts = unicodedata.normalize("NFD", ch)
        base = unicodedata.normalize("NFC", "".join(c for c in parts if c not in tones))
        out.append(base + "".join(c for c in parts if c in tones))
    return "".join(out).encode("cp1258")


def build_sources(root: Path, outside: Path) -> dict[str, tuple[str, str]]:
    """Writes the hostile tree; returns file name → (expected parse_status, reason pattern)."""
    write_registers(root)
    d = root / "dossiers"
    expect: dict[str, tuple[str, str]] = {}

    dossier_csv(d / "dossiers_2024-01.csv", "2024-01")
    expect["dossiers_2024-01.csv"] = ("parsed", "")

    long = d / "dossiers_2024-02.csv"
    dossier_csv(long, "2024-02")
    with long.open("a", encoding="utf-8") as handle:  # a 10 MB line after the good row
        handle.write("2024-02,S01,1.004227," + "9" * (10 << 20) + ",0,0,0,0,0,0,0,0,0,2024-03-05\n")
    expect[long.name] = ("quarantined", r"CSV cannot be parsed.*(line size|[Mm]aximum)")

    rng = random.Random(7)
    (d / "bao_cao_2024-03.csv").write_bytes(bytes(rng.randrange(256) for _ in range(200_000)))
    expect["bao_cao_2024-03.csv"] = ("quarantined", "binary|not UTF-8")

    zip_bomb(d / "dossiers_2024-06.xlsx")
    expect["dossiers_2024-06.xlsx"] = ("quarantined", r"XLSX refused: it would inflate to \d+ bytes")
    zip_bomb(d / "dossiers_2024-07.xlsx", lie=True)
    expect["dossiers_2024-07.xlsx"] = (
        "quarantined",
        "XLSX cannot be opened|Bad CRC|Biểu II.06a|cannot be read",
    )

    bieu_with_formulas(d / "bieu_2024-03.xlsx")
    expect["bieu_2024-03.xlsx"] = ("parsed", "")
    bieu_formulas_without_values(d / "bieu_2024-05.xlsx")
    expect["bieu_2024-05.xlsx"] = ("quarantined", "formula")

    # file names an unwary script would run or follow; distinct contents, so distinct exports
    for i, name in enumerate(
        ["a;rm -rf x.csv", f"$(touch {PWNED}).csv", f"`touch {PWNED}`.csv", r"x..\..\..\evil 2024-08.csv"]
    ):
        dossier_csv(d / name, "2024-08", day=f"{10 + i}")
        expect[name] = ("parsed", "")
    # a name starting with a dot is a hidden file (like .DS_Store): passed over, as are partial downloads
    dossier_csv(d / r"..\..\evil.csv", "2024-08", day="20")
    dossier_csv(d / "dossiers_2024-11.csv.part", "2024-11")

    # a machine row whose unit code is SQL, and a header that is SQL
    write_csv(
        d / "dossiers_2024-09.csv",
        [*DOSSIER_COLUMNS, 'x"); DROP TABLE raw.units; --'],
        [[*dossier_row("2024-09", SQL_CODE, "1.004227", OK, "2024-10-05T08:00:00"), "1"]],
    )
    expect["dossiers_2024-09.csv"] = ("parsed", "")

    # links that lead outside the sources folder are not followed (not even archived)
    secret = outside / "secret.csv"
    dossier_csv(secret, "2024-10")
    (d / "link.csv").symlink_to(secret)
    (d / "linkdir").symlink_to(outside, target_is_directory=True)

    s = root / "self_report"
    s.mkdir()
    header = "nam,ma_don_vi,ma_chi_tieu,tu_so,mau_so,ghi_chu\r\n"
    line = "2024,S01,T01,1,2,Đã rà soát số liệu của Sở Tư pháp\r\n"
    (s / "self_report_2024_cp1258.csv").write_bytes(cp1258(header + line))
    expect["self_report_2024_cp1258.csv"] = ("quarantined", r"not UTF-8 text")
    (s / "self_report_2024_utf16.csv").write_bytes(codecs.BOM_UTF16_LE + (header + line).encode("utf-16-le"))
    expect["self_report_2024_utf16.csv"] = ("quarantined", "UTF-16")
    (s / "self_report_2024_utf16_nobom.csv").write_bytes((header + line).encode("utf-16-le"))
    expect["self_report_2024_utf16_nobom.csv"] = ("quarantined", "UTF-16")

    (root / "surveys").mkdir()
    survey_xlsx_with_serial_dates(root / "surveys" / "surveys_2024-03.xlsx")
    expect["surveys_2024-03.xlsx"] = ("parsed", "")
    return expect


def test_hostile_exports(make_settings, tmp_path, monkeypatch):
    sources, outside = tmp_path / "sources", tmp_path / "outside"
    outside.mkdir()
    expect = build_sources(sources, outside)
    monkeypatch.chdir(tmp_path)  # a `touch pwned` that ran anywhere would land here or in sources
    before = {p for p in tmp_path.rglob("*") if "wh" not in p.relative_to(tmp_path).parts[:1]}
    settings = make_settings(sources)

    faulthandler.dump_traceback_later(90, exit=True)  # a hang ends the run with a traceback
    try:
        ingest_all(settings, ["units", "procedures", "dossiers", "surveys", "self_report"])
    finally:
        faulthandler.cancel_dump_traceback_later()

    exports = {
        n: (s, r or "")
        for n, s, r in query(
            settings,
            "SELECT file_name, parse_status, parse_reason FROM raw.exports WHERE feed NOT IN ('units', 'procedures')",
        )
    }
    assert set(exports) == set(expect), "links leading outside the sources folder must not be archived"
    for name, (status, pattern) in expect.items():
        got_status, reason = exports[name]
        assert got_status == status, f"{name}: {got_status} ({reason})"
        assert re.search(pattern, reason), f"{name}: reason {reason!r} does not match {pattern!r}"
        assert len(reason) <= 500 and "9999999999" not in reason  # clear, bounded, never the line itself

    # nothing ran, nothing was written outside the warehouse folder, every export stored by its hash
    planted = [p for p in tmp_path.rglob(f"{PWNED}*")]
    planted += [
        p for base in (tmp_path, *tmp_path.parents[:3], Path(os.getcwd())) for p in base.glob(f"{PWNED}*")
    ]
    assert planted == []
    after = {p for p in tmp_path.rglob("*") if "wh" not in p.relative_to(tmp_path).parts[:1]}
    assert after == before
    for path in settings.archive.rglob("*"):
        if path.is_file():
            assert re.fullmatch(r"[0-9a-f]{64}(\.(csv|xlsx|meta\.json))", path.name), path.name
            assert path.resolve().is_relative_to(settings.archive.resolve())

    # the register survived the SQL in names and codes
    assert query(settings, "SELECT count(*) FROM raw.units") == [(len(UNITS),)]
    quarantined = query(
        settings,
        "SELECT file_name, reason_code, unit_as_sent FROM raw.quarantine_rows WHERE feed = 'dossiers' ORDER BY 1",
    )
    assert quarantined == [
        ("bieu_2024-03.xlsx", "unknown_unit", SQL_NAME),
        ("dossiers_2024-09.csv", "unknown_unit", SQL_CODE),
    ]
    # the Biểu: cached formula values, the visible sheet only (never the hidden ones' 99s and 98s)
    assert query(
        settings,
        """SELECT ma_don_vi, ky_bao_cao, tiep_nhan_truc_tuyen, tiep_nhan_truc_tiep, ton_ky_truoc,
                  da_giai_quyet_truoc_han, dang_giai_quyet_qua_han, tra_lai_rut
           FROM raw.dossiers WHERE source_format = 'human'""",
    ) == [("S01", "2024-03", 5, 3, 2, 4, 1, 0)]
    # the four oddly named files and the plain one are loaded like any export
    assert query(
        settings,
        "SELECT ky_bao_cao, count(*) FROM raw.dossiers WHERE source_format = 'machine' GROUP BY 1 ORDER BY 1",
    ) == [("2024-01", 1), ("2024-08", 4)]
    # Excel serial dates in a survey XLSX are dates (a fraction is the time of day); a dd/mm/yyyy text in
    # a machine export is not ISO (sources.md): that row is quarantined, saying why
    assert query(settings, "SELECT ma_phieu, ngay_khao_sat FROM raw.surveys ORDER BY 1") == [
        ("P1", dt.date(2024, 3, 15)),
        ("P2", dt.date(2024, 3, 15)),
        ("P3", dt.date(2024, 3, 16)),
    ]
    assert query(settings, "SELECT reason_code, reason FROM raw.quarantine_rows WHERE feed = 'surveys'") == [
        ("bad_date", "ngay_khao_sat '16/03/2024' is not a date")
    ]
