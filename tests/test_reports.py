"""The reports people read (pipelines/reports): the follow-up workbook/HTML and the annual ranking
workbook/HTML, on a hand-written warehouse whose content is known exactly.

The marts are created directly in a temporary DuckDB (same columns as dbt builds them; the raw tables
with the ingestion's own DDL and the ranking method from the dbt seed), so every assertion is about a
known row: a unit's missing month, its points lost, one bar per ranked unit. The HTML is also opened in
a real headless Chromium (Debian's package) to check that the SVG charts render.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import openpyxl
import pytest

from pipelines.lib.config import load_settings
from pipelines.lib.warehouse import connect, ensure_raw_schema
from pipelines.reports import write_all
from pipelines.reports.render import PHONE, atomic_path

SEED_METHOD = Path(__file__).resolve().parents[1] / "dbt_project" / "seeds" / "ranking_method.csv"
AS_OF = "2026-03-15"
PLANTED_PHONE = "0912345678"

UNITS = [
    # code, name, level, group, valid_from, valid_to
    ("S01", "Sở Tư pháp", "tinh", "so_nganh", None, None),
    ("S02", "Sở Y tế", "tinh", "so_nganh", None, None),
    ("D01", "Cục Thuế tỉnh", "tinh", "nganh_doc", None, None),
    ("H01", "UBND huyện Nghi Lộc", "huyen", "ubnd_huyen", None, "2025-06-30"),
    ("X01", "UBND xã Nghi Phong", "xa", "ubnd_xa", None, "2025-06-30"),
    ("X03", "UBND xã Mới Lập", "xa", "ubnd_xa", "2024-03-01", "2025-06-30"),
    ("X99", "UBND xã Nghi Lộc", "xa", "ubnd_xa", "2025-07-01", None),
]

# 2024 ranking: year, group, unit, name, score, rank, grade, tien_do, truc_tuyen, thanh_toan, hai_long,
# bao_cao, applicable_max, rank_change, score_change, note
RANKING_2024 = [
    ("so_nganh", "S01", "Sở Tư pháp", 92.5, 1, "A", 30, 20, 12.5, 16, 14, 100, 1, 12.5, None),
    ("so_nganh", "S02", "Sở Y tế", 71.0, 2, "C", 24, 15, 9, 12, 11, 100, -1, -9.0, None),
    ("nganh_doc", "D01", "Cục Thuế tỉnh", 85.0, 1, "B", 27, 18, 10, 18, 12, 100, None, None, None),
    ("ubnd_huyen", "H01", "UBND huyện Nghi Lộc", 60.0, 1, "D", 20, 10, 5, 15, 10, 100, 0, 1.0, None),
    (
        "ubnd_xa",
        "X01",
        "UBND xã Nghi Phong",
        80.0,
        1,
        "B",
        25,
        16,
        None,
        14,
        13,
        85,
        None,
        None,
        "thanh_toan không áp dụng (không có hồ sơ TTHC có nghĩa vụ tài chính và không có giao dịch)",
    ),
    (
        "ubnd_xa",
        "X03",
        "UBND xã Mới Lập",
        50.0,
        None,
        None,
        15,
        10,
        10,
        10,
        5,
        100,
        None,
        None,
        "Không xếp hạng: đơn vị không tồn tại đủ cả năm 2024 (hiệu lực 01/03/2024 – 30/06/2025)",
    ),
]
RANKING_2023 = [
    ("so_nganh", "S01", "Sở Tư pháp", 80.0, 2, "B", 25, 18, 10, 15, 12, 100, None, None, None),
    ("so_nganh", "S02", "Sở Y tế", 80.0, 1, "B", 25, 18, 10, 15, 12, 100, None, None, None),
]

GAPS = [
    # feed, unit, period, gap_type, severity, detail
    (
        "dossiers",
        "S01",
        "2024-05",
        "missing",
        "warning",
        "Chưa gửi báo cáo hồ sơ TTHC tháng 05/2024 (hạn 10/06/2024)",
    ),
    (
        "dossiers",
        "S01",
        "2024-09",
        "missing",
        "warning",
        "Chưa gửi báo cáo hồ sơ TTHC tháng 09/2024 (hạn 10/10/2024)",
    ),
    (
        "dossiers",
        "S01",
        "2024-02",
        "late",
        "warning",
        "Báo cáo tháng 02/2024 xuất ngày 20/03/2024, quá hạn 10/03/2024 10 ngày",
    ),
    (
        "dossiers",
        "X01",
        "2024-03",
        "invalid",
        "error",
        "1 dòng bị loại: negative count tiep_nhan_truc_tuyen=-1 (tệp dossiers_2024-03.csv)",
    ),
    (
        "dossiers",
        None,
        "2024-03",
        "unknown_unit",
        "error",
        "tên đơn vị 'UBND xã Không Tồn Tại' (no unit of that name; tệp bieu_2024-03.xlsx)",
    ),
    (
        "payments",
        None,
        "2024-07",
        "invalid",
        "error",
        "Tệp payments_2024-07.csv không đọc được: file is not UTF-8 text",
    ),
    (
        "surveys",
        "S02",
        "2024",
        "small_sample",
        "warning",
        "Chỉ có 12 phiếu khảo sát SIPAS năm 2024 (cần ít nhất 30)",
    ),
    ("dossiers", "H01", "2024-08", "outlier", "warning", f"Tổng hồ sơ bất thường; liên hệ {PLANTED_PHONE}"),
    ("self_report", "D01", "2024", "revised", "warning", "Năm 2024 có 2 phiên bản báo cáo tự đánh giá"),
    (
        "dossiers",
        "S02",
        "2025-01",
        "missing",
        "warning",
        "Chưa gửi báo cáo hồ sơ TTHC tháng 01/2025 (hạn 10/02/2025)",
    ),
]

COMPLETENESS_2024 = [  # unit, expected, received, on_time
    ("S01", 12, 10, 9),
    ("S02", 12, 12, 12),
    ("D01", 12, 12, 11),
    ("H01", 12, 12, 12),
    ("X01", 12, 11, 11),
    ("X03", 10, 10, 10),
]

KPIS = [
    # code, target_id, name_vi, measure, comparator, t2025, t2030, t2030 as written
    (
        "online_dossier_rate",
        "T24",
        "Tỷ lệ hồ sơ được giải quyết trực tuyến",
        "fraction",
        ">=",
        0.6,
        0.85,
        "85",
    ),
    (
        "par_index_national_rank",
        "T01",
        "Xếp hạng Chỉ số PAR INDEX của tỉnh",
        "rank",
        "top_n",
        15,
        None,
        "improve_vs_2025",
    ),
    ("satisfaction_health", "T16", "Mức độ hài lòng về dịch vụ y tế công", "fraction", ">=", 0.85, 0.9, "90"),
    ("on_time_rate", None, "Tỷ lệ hồ sơ giải quyết đúng hạn", "fraction", None, None, None, None),
]
KPI_VALUES = {
    "online_dossier_rate": {2021: 0.30, 2022: 0.38, 2023: 0.47, 2024: 0.55, 2025: 0.62, 2026: 0.64},
    "par_index_national_rank": {2021: 17, 2022: 16, 2023: 15},
    "on_time_rate": {2024: 0.93, 2025: 0.95},
}


def _build_warehouse(path: Path) -> None:
    with connect(path) as con:
        ensure_raw_schema(con)
        con.execute("CREATE SCHEMA marts; CREATE SCHEMA reference")
        con.execute(
            """CREATE TABLE marts.dim_units (unit_code VARCHAR, unit_name VARCHAR, unit_level VARCHAR,
               ranking_group VARCHAR, parent_code VARCHAR, valid_from DATE, valid_to DATE, successor_code VARCHAR,
               current_unit_code VARCHAR, aliases VARCHAR, is_current BOOLEAN)"""
        )
        for code, name, level, group, vf, vt in UNITS:
            con.execute(
                "INSERT INTO marts.dim_units VALUES (?, ?, ?, ?, NULL, ?, ?, NULL, ?, NULL, ?)",
                [code, name, level, group, vf, vt, code, vt is None],
            )
        con.execute(
            """CREATE TABLE marts.reporting_completeness (year INTEGER, unit_code VARCHAR, feed VARCHAR,
               expected BIGINT, received BIGINT, on_time BIGINT, completeness DOUBLE, timeliness DOUBLE)"""
        )
        for unit, exp, rec, ont in COMPLETENESS_2024:
            con.execute(
                "INSERT INTO marts.reporting_completeness VALUES (2024, ?, 'dossiers', ?, ?, ?, ?, ?)",
                [unit, exp, rec, ont, rec / exp, ont / exp],
            )
        con.execute(
            """CREATE TABLE marts.reporting_gaps (feed VARCHAR, unit_code VARCHAR, period VARCHAR,
               gap_type VARCHAR, severity VARCHAR, detail VARCHAR, year INTEGER, unit_name VARCHAR,
               ranking_group VARCHAR)"""
        )
        names = {u[0]: (u[1], u[3]) for u in UNITS}
        for feed, unit, period, gap_type, severity, detail in GAPS:
            name, group = names.get(unit, (None, None))
            con.execute(
                "INSERT INTO marts.reporting_gaps VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [feed, unit, period, gap_type, severity, detail, int(period[:4]), name, group],
            )
        # raw: two unreadable files (one dated, one not) and quarantined rows (one carrying a phone
        # number in `record`, which no report may show)
        for i, (feed, file_name) in enumerate(
            [("payments", "payments_2024-07.csv"), ("surveys", "garbage.csv")]
        ):
            con.execute(
                """INSERT INTO raw.exports (export_id, feed, file_name, origin, origin_uri, arrived_at, size_bytes,
                   archive_path, sort_key, parse_status, parse_reason)
                   VALUES (?, ?, ?, 'file', ?, TIMESTAMP '2026-03-01 08:00:00', 10, ?, ?, 'quarantined',
                   'file is not UTF-8 text')""",
                [f"e{i}", feed, file_name, f"/src/{file_name}", f"/archive/{file_name}", f"0|{file_name}"],
            )
        con.executemany(
            """INSERT INTO raw.quarantine_rows (feed, export_id, file_name, row_number, reason_code, reason,
               unit_code, unit_as_sent, period, record) VALUES (?, 'q', ?, ?, ?, ?, ?, ?, ?, ?)""",
            [
                (
                    "dossiers",
                    "dossiers_2024-03.csv",
                    3,
                    "bad_count",
                    "negative count tiep_nhan_truc_tuyen=-1",
                    "X01",
                    "X01",
                    "2024-03",
                    '{"ma_don_vi":"X01"}',
                ),
                (
                    "dossiers",
                    "bieu_2024-03.xlsx",
                    9,
                    "unknown_unit",
                    "no unit of that name",
                    None,
                    "UBND xã Không Tồn Tại",
                    "2024-03",
                    "{}",
                ),
                (
                    "surveys",
                    "surveys_2024.csv",
                    2,
                    "bad_answer",
                    "answers outside 1–5: q1=6",
                    "S02",
                    "S02",
                    "2024-04",
                    f'{{"so_dien_thoai":"{PLANTED_PHONE}"}}',
                ),
            ],
        )
        # the gate: 2021–2022 and 2025 blocked on completeness, 2023 ranked through PAR_FINAL_YEARS,
        # 2024 ranked, 2026 in progress
        con.execute(
            """CREATE TABLE marts.ranking_gate (year INTEGER, check_id INTEGER, check_name VARCHAR, passed BOOLEAN,
               detail VARCHAR, year_is_over BOOLEAN, is_final_year BOOLEAN, year_is_ranked BOOLEAN)"""
        )
        for year in range(2021, 2027):
            completeness_ok = year == 2024
            final = year == 2023
            over = year < 2026
            ranked = over and (completeness_ok or final)
            checks = [
                (1, "integrity", True, "no duplicate key, unknown code or negative count in the loaded data"),
                (
                    2,
                    "reporting_completeness",
                    completeness_ok,
                    f"province reporting completeness {'95.83' if completeness_ok else '61.2'} %, threshold 90.0 %",
                ),
                (3, "unit_coverage", True, "every whole-year unit of a ranking group has KPI rows"),
                (4, "kpi_bounds", True, "every KPI value within [0, 1] and 0 ≤ numerator ≤ denominator"),
            ]
            for cid, name, passed, detail in checks:
                con.execute(
                    "INSERT INTO marts.ranking_gate VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [year, cid, name, passed, detail, over, final, ranked],
                )
        con.execute(
            """CREATE TABLE marts.par_ranking (year INTEGER, ranking_group VARCHAR, unit_code VARCHAR,
               unit_name VARCHAR, score DOUBLE, rank BIGINT, grade VARCHAR, points_tien_do DOUBLE,
               points_truc_tuyen DOUBLE, points_thanh_toan DOUBLE, points_hai_long DOUBLE, points_bao_cao DOUBLE,
               applicable_max DOUBLE, rank_change BIGINT, score_change DOUBLE, note VARCHAR)"""
        )
        for year, rows in ((2024, RANKING_2024), (2023, RANKING_2023)):
            for r in rows:
                con.execute(
                    "INSERT INTO marts.par_ranking VALUES (?, " + ", ".join("?" * len(r)) + ")", [year, *r]
                )
        con.execute(
            """CREATE TABLE marts.dim_kpis (kpi_code VARCHAR, target_id VARCHAR, name_vi VARCHAR, name_en VARCHAR,
               formula_en VARCHAR, grains VARCHAR, measure VARCHAR, higher_is_better BOOLEAN, comparator VARCHAR,
               target_2025 DOUBLE, target_2030 DOUBLE, target_2030_as_written VARCHAR, source_kind VARCHAR,
               seed_section VARCHAR)"""
        )
        con.execute(
            """CREATE TABLE marts.kpi_province_year (year INTEGER, kpi_code VARCHAR, numerator DOUBLE,
               denominator DOUBLE, value DOUBLE, target DOUBLE, target_year INTEGER, met BOOLEAN,
               expected_on_trajectory DOUBLE, on_track BOOLEAN)"""
        )
        for code, tid, name, measure, comp, t25, t30, t30w in KPIS:
            con.execute(
                "INSERT INTO marts.dim_kpis VALUES (?, ?, ?, ?, '', '', ?, ?, ?, ?, ?, ?, '', '')",
                [code, tid, name, code, measure, measure != "rank", comp, t25, t30, t30w],
            )
            values = KPI_VALUES.get(code, {})
            for year in range(2021, 2027):
                v = values.get(year)
                target = (t25 if year <= 2025 else t30) if tid else None
                met = (
                    None
                    if v is None or target is None
                    else (v <= target if measure == "rank" else v >= target)
                )
                con.execute(
                    "INSERT INTO marts.kpi_province_year VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL)",
                    [
                        year,
                        code,
                        v,
                        None if measure == "rank" else (1 if v is not None else 0),
                        v,
                        target,
                        (2025 if year <= 2025 else 2030) if tid else None,
                        met,
                    ],
                )
        con.execute(
            "UPDATE marts.kpi_province_year SET expected_on_trajectory = 0.5, on_track = true "
            "WHERE kpi_code = 'online_dossier_rate' AND year = 2024"
        )
        # the ranking method straight from the dbt seed, with one changed weight the report must show
        con.execute(
            f"""CREATE TABLE reference.ranking_method AS
                SELECT * FROM read_csv('{SEED_METHOD}', header = true, all_varchar = true)"""
        )
        con.execute(
            """CREATE OR REPLACE TABLE reference.ranking_method AS SELECT kind, code, nullif(kpi_code, '') AS kpi_code,
               try_cast(max_points AS INTEGER) AS max_points, full_points_at, try_cast(weight AS DOUBLE) AS weight,
               try_cast(min_score AS INTEGER) AS min_score, name_vi FROM reference.ranking_method"""
        )
        con.execute(
            "UPDATE reference.ranking_method SET name_vi = 'Tiến độ giải quyết hồ sơ (đã sửa)' "
            "WHERE code = 'tien_do'"
        )


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("reports")
    env = {
        "PAR_SOURCES": str(root / "sources"),
        "PAR_WAREHOUSE": str(root / "wh" / "par.duckdb"),
        "PAR_REPORTS": str(root / "reports"),
        "PAR_AS_OF": AS_OF,
        "PAR_FINAL_YEARS": "2023",
    }
    settings = load_settings(env)
    _build_warehouse(settings.warehouse)
    run = write_all(settings)
    return settings, run, env


def _rows(ws) -> list[tuple]:
    return [tuple(r) for r in ws.iter_rows(values_only=True)]


def _table(ws, header_first: str) -> tuple[list[str], list[dict]]:
    """The table whose header row starts with `header_first`: (headers, rows as dicts)."""
    rows = _rows(ws)
    start = next(i for i, r in enumerate(rows) if r and r[0] == header_first)
    headers = [h for h in rows[start] if h is not None]
    out = []
    for r in rows[start + 1 :]:
        if all(v is None for v in r):
            break
        out.append(dict(zip(headers, r[: len(headers)], strict=True)))
    return headers, out


# --------------------------------------------------------------------------------------------------
# Layout on disk


def test_files_for_every_year_and_index(built):
    settings, run, _ = built
    reports = settings.reports
    for year in range(2021, 2027):
        for name in (f"bao_cao_don_doc_{year}", f"xep_hang_cchc_{year}"):
            for ext in ("xlsx", "html"):
                assert (reports / str(year) / f"{name}.{ext}").is_file()
    index = (reports / "index.html").read_text(encoding="utf-8")
    for year in range(2021, 2027):
        assert f'href="{year}/xep_hang_cchc_{year}.html"' in index
        assert f'href="{year}/bao_cao_don_doc_{year}.xlsx"' in index
    assert "Đã xếp hạng (PAR_FINAL_YEARS)" in index
    # atomic writes leave no temporary file behind
    assert not [p for p in reports.rglob("*") if p.name.endswith(".tmp")]
    assert len(run.files) == 6 * 4 + 1


def test_atomic_path_keeps_the_old_file_on_failure(tmp_path):
    target = tmp_path / "r.html"
    target.write_text("old", encoding="utf-8")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half", encoding="utf-8")
        raise RuntimeError("boom")
    assert target.read_text(encoding="utf-8") == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["r.html"]


# --------------------------------------------------------------------------------------------------
# Follow-up workbook


def test_followup_workbook_sheets_and_summary(built):
    settings, _, _ = built
    wb = openpyxl.load_workbook(settings.reports / "2024" / "bao_cao_don_doc_2024.xlsx")
    assert wb.sheetnames == [
        "Tổng hợp",
        "Đơn vị cần đôn đốc",
        "Hồ sơ TTHC",
        "Thanh toán trực tuyến",
        "Khảo sát hài lòng",
        "Tự đánh giá",
        "Chỉ số quốc gia",
        "Dòng bị loại",
    ]
    ws = wb["Tổng hợp"]
    assert ws["A1"].value == "BÁO CÁO ĐÔN ĐỐC GỬI SỐ LIỆU CẢI CÁCH HÀNH CHÍNH NĂM 2024"
    _, groups = _table(ws, "Nhóm đơn vị")
    by = {g["Nhóm đơn vị"]: g for g in groups}
    assert list(by) == ["Sở, ban, ngành", "Cơ quan ngành dọc", "UBND cấp huyện", "UBND cấp xã", "Toàn tỉnh"]
    assert by["Sở, ban, ngành"]["Số đơn vị"] == 2
    assert by["Sở, ban, ngành"]["Số tháng phải báo cáo"] == 24
    assert by["Sở, ban, ngành"]["Đã nhận"] == 22
    assert by["Sở, ban, ngành"]["Tỷ lệ đầy đủ"] == pytest.approx(22 / 24)
    assert by["UBND cấp xã"]["Tỷ lệ đúng hạn"] == pytest.approx(21 / 22)
    assert by["Toàn tỉnh"]["Số tháng phải báo cáo"] == 70
    assert ws.freeze_panes is not None
    _, counts = _table(ws, "Loại vấn đề")
    c = {r["Loại vấn đề"]: r for r in counts}
    assert c["Chưa gửi báo cáo"]["Hồ sơ TTHC"] == 2  # the 2025 gap belongs to 2025's report
    assert c["Tệp không đọc được"]["Thanh toán trực tuyến"] == 1
    assert c["Tệp không đọc được"]["Khảo sát hài lòng"] == 0  # garbage.csv has no period: as-of year
    assert c["Đơn vị không xác định"]["Tổng"] == 1
    assert c["Tổng cộng"]["Tổng"] == 9


def test_followup_lists_each_unit_gap(built):
    settings, _, _ = built
    wb = openpyxl.load_workbook(settings.reports / "2024" / "bao_cao_don_doc_2024.xlsx")
    ws = wb["Hồ sơ TTHC"]
    assert ws.freeze_panes == "A5"
    assert ws.auto_filter.ref and ws.auto_filter.ref.startswith("A4:H")
    assert ws.column_dimensions["H"].width >= 60  # the detail column is wide
    headers, rows = _table(ws, "Nhóm đơn vị")
    assert headers == [
        "Nhóm đơn vị",
        "Mã đơn vị",
        "Tên đơn vị",
        "Loại vấn đề",
        "Mức độ",
        "Kỳ",
        "Tên/mã đơn vị như gửi",
        "Chi tiết",
    ]
    missing = [r for r in rows if r["Mã đơn vị"] == "S01" and r["Loại vấn đề"] == "Chưa gửi báo cáo"]
    assert [r["Kỳ"] for r in missing] == ["05/2024", "09/2024"]
    assert missing[0]["Chi tiết"] == "Chưa gửi báo cáo hồ sơ TTHC tháng 05/2024 (hạn 10/06/2024)"
    assert missing[0]["Nhóm đơn vị"] == "Sở, ban, ngành" and missing[0]["Mức độ"] == "Cảnh báo"
    late = next(r for r in rows if r["Loại vấn đề"] == "Gửi báo cáo muộn")
    assert (late["Mã đơn vị"], late["Kỳ"]) == ("S01", "02/2024")
    unknown = next(r for r in rows if r["Loại vấn đề"] == "Đơn vị không xác định")
    assert unknown["Tên/mã đơn vị như gửi"] == "UBND xã Không Tồn Tại"
    assert unknown["Mức độ"] == "Lỗi"
    invalid = next(r for r in rows if r["Loại vấn đề"] == "Dữ liệu không hợp lệ (bị loại)")
    assert invalid["Mã đơn vị"] == "X01" and "tiep_nhan_truc_tuyen=-1" in invalid["Chi tiết"]
    # payments: the unreadable file once, with the reason from raw.exports
    _, pay = _table(wb["Thanh toán trực tuyến"], "Nhóm đơn vị")
    assert len(pay) == 1
    assert pay[0]["Loại vấn đề"] == "Tệp không đọc được"
    assert pay[0]["Chi tiết"] == "Tệp payments_2024-07.csv không đọc được: file is not UTF-8 text"
    _, surveys = _table(wb["Khảo sát hài lòng"], "Nhóm đơn vị")
    assert [(r["Mã đơn vị"], r["Loại vấn đề"]) for r in surveys] == [
        ("S02", "Mẫu khảo sát nhỏ (dưới 30 phiếu)")
    ]
    _, national = _table(wb["Chỉ số quốc gia"], "Nhóm đơn vị")
    assert [r["Nhóm đơn vị"] for r in national] == ["Không có vấn đề nào."]
    # the chase list: one line per unit, missing and late months by number
    _, units = _table(wb["Đơn vị cần đôn đốc"], "Nhóm đơn vị")
    s01 = next(u for u in units if u["Mã đơn vị"] == "S01")
    assert (s01["Tháng chưa gửi"], s01["Tháng gửi muộn"], s01["Đã nhận"]) == ("05, 09", "02", 10)
    assert {u["Mã đơn vị"] for u in units} == {"S01", "S02", "D01", "H01", "X01"}
    # quarantined rows, without the row as sent
    headers, quarantined = _table(wb["Dòng bị loại"], "Nguồn số liệu")
    assert len(quarantined) == 3 and "record" not in " ".join(headers).lower()


def test_undated_unreadable_file_goes_to_the_as_of_year(built):
    settings, _, _ = built
    wb = openpyxl.load_workbook(settings.reports / "2026" / "bao_cao_don_doc_2026.xlsx")
    _, rows = _table(wb["Khảo sát hài lòng"], "Nhóm đơn vị")
    assert [r["Chi tiết"] for r in rows] == ["Tệp garbage.csv không đọc được: file is not UTF-8 text"]


def test_capped_sheets_say_so_and_point_to_the_published_tables(built, monkeypatch, tmp_path):
    """Above its row limit a detail sheet lists the first rows only; the sheet and the HTML say how many
    there are and where the full list is (the published warehouse). Counts still count every row."""
    from pipelines.reports import data, followup

    settings, _, _ = built
    monkeypatch.setattr(data, "GAP_ROWS_LIMIT", 2)
    monkeypatch.setattr(data, "QUARANTINE_ROWS_LIMIT", 1)
    d = data.followup_data(data.load_warehouse(settings), 2024)
    assert (
        d.gap_feed_totals["dossiers"] > 2
        and len(d.gaps_by_feed["dossiers"]) == 2
        and d.gaps_capped("dossiers")
    )
    assert d.gap_total == 9 and sum(r["total"] for r in d.gap_counts) == 9
    assert (len(d.quarantine_rows), d.quarantine_total) == (1, 3)
    xlsx, html = followup.write_followup(d, tmp_path)
    wb = openpyxl.load_workbook(xlsx)
    text = " ".join(str(v) for r in _rows(wb["Hồ sơ TTHC"])[:4] for v in r if v)
    assert f"Chỉ liệt kê 2 vấn đề đầu trong tổng số {d.gap_feed_totals['dossiers']}" in text
    assert "marts.reporting_gaps" in text and "par_marts.duckdb" in text
    _, rows = _table(wb["Hồ sơ TTHC"], "Nhóm đơn vị")
    assert len(rows) == 2
    text = " ".join(str(v) for r in _rows(wb["Dòng bị loại"])[:4] for v in r if v)
    assert "Chỉ liệt kê 1 dòng đầu trong tổng số 3 dòng" in text and "quality.quarantine_rows" in text
    _, rows = _table(wb["Dòng bị loại"], "Nguồn số liệu")
    assert len(rows) == 1
    page = html.read_text(encoding="utf-8")
    assert "Hiển thị 2 vấn đề đầu; danh sách đầy đủ: bảng marts.reporting_gaps" in page
    assert "quality.quarantine_rows" in page
    # below the limits (the `built` reports): nothing is capped, no such note
    page = (settings.reports / "2024" / "bao_cao_don_doc_2024.html").read_text(encoding="utf-8")
    assert "marts.reporting_gaps" not in page and "quality.quarantine_rows" not in page


def test_annual_counts_without_reading_detail_rows(built):
    """The annual report's gap summary (no detail rows read) is the follow-up report's, year by year."""
    from pipelines.reports import data

    settings, _, _ = built
    wh = data.load_warehouse(settings)
    for year in wh.years:
        full, summary = data.followup_data(wh, year), data.followup_data(wh, year, details=False)
        assert summary.gap_counts == full.gap_counts and summary.gap_count_feeds == full.gap_count_feeds
        assert summary.gap_total == full.gap_total == sum(len(v) for v in full.gaps_by_feed.values())
        assert (summary.by_group, summary.province) == (full.by_group, full.province)
        assert not any(summary.gaps_by_feed.values()) and not summary.quarantine_rows


def test_gap_rows_html_is_what_the_template_loop_wrote(built):
    """The gap rows are built in Python for speed; they must be byte for byte what the Jinja loop gave."""
    from pipelines.reports import data
    from pipelines.reports.followup import gap_rows_html
    from pipelines.reports.render import jinja_env

    settings, _, _ = built
    d = data.followup_data(data.load_warehouse(settings), 2024)
    rows = [r for v in d.gaps_by_feed.values() for r in v]
    rows.append(
        {**rows[0], "unit_code": None, "unit_name": "", "detail": 'a <b> & "c" 0912345678', "as_sent": None}
    )
    loop = jinja_env().from_string(
        """  {% for r in rows %}
    <tr data-gap-type="{{ r.gap_type }}"><td>{{ r.group_label }}</td><td>{{ r.unit_code or "—" }}</td><td class="name">{{ r.unit_name or "—" }}</td>
      <td>{{ r.gap_label }}</td><td><span class="pill sev-{{ r.severity }}">{{ r.severity_label }}</span></td>
      <td>{{ r.period_label }}</td><td>{{ r.as_sent }}</td><td class="small">{{ r.detail }}</td></tr>
  {% endfor %}
"""
    )
    assert str(gap_rows_html(rows)) == loop.render(rows=rows)
    assert "[đã ẩn]" in str(gap_rows_html(rows)) and "&lt;b&gt;" in str(gap_rows_html(rows))


# --------------------------------------------------------------------------------------------------
# Annual workbook


def test_annual_workbook_ranking_and_points_lost(built):
    settings, _, _ = built
    wb = openpyxl.load_workbook(settings.reports / "2024" / "xep_hang_cchc_2024.xlsx")
    assert wb.sheetnames == [
        "Tóm tắt",
        "XH Sở, ban, ngành",
        "XH Cơ quan ngành dọc",
        "XH UBND cấp huyện",
        "XH UBND cấp xã",
        "Chỉ tiêu",
        "Vấn đề báo cáo",
        "Phương pháp",
    ]
    maxima = {"tien_do": 30, "truc_tuyen": 20, "thanh_toan": 15, "hai_long": 20, "bao_cao": 15}
    names = {
        "tien_do": "Tiến độ giải quyết hồ sơ (đã sửa)",
        "truc_tuyen": "Tiếp nhận hồ sơ trực tuyến",
        "thanh_toan": "Thanh toán trực tuyến",
        "hai_long": "Mức độ hài lòng",
        "bao_cao": "Báo cáo đầy đủ và đúng hạn",
    }
    expected = {r[1]: r for r in RANKING_2024}
    seen = set()
    for sheet in ("XH Sở, ban, ngành", "XH Cơ quan ngành dọc", "XH UBND cấp huyện", "XH UBND cấp xã"):
        ws = wb[sheet]
        assert ws.freeze_panes is not None and ws.auto_filter.ref
        _, rows = _table(ws, "Hạng")
        for r in rows:
            code = r["Mã đơn vị"]
            seen.add(code)
            exp = expected[code]
            assert r["Điểm"] == exp[3] and r["Hạng"] == exp[4] and r["Xếp loại"] == exp[5]
            for i, comp in enumerate(maxima):
                points = exp[6 + i]
                got = r[f"{names[comp]}: điểm đạt (tối đa {maxima[comp]})"]
                lost = r[f"{names[comp]}: điểm mất"]
                if points is None:  # not applicable: neither points nor points lost
                    assert got is None and lost is None
                else:
                    assert got == points
                    assert lost == pytest.approx(maxima[comp] - points)
            assert r["Tổng điểm mất"] == pytest.approx(exp[11] - sum(p for p in exp[6:11] if p is not None))
    assert seen == set(expected)
    _, so = _table(wb["XH Sở, ban, ngành"], "Hạng")
    assert [(r["Hạng"], r["Mã đơn vị"]) for r in so] == [(1, "S01"), (2, "S02")]
    _, xa = _table(wb["XH UBND cấp xã"], "Hạng")
    assert xa[-1]["Mã đơn vị"] == "X03" and xa[-1]["Hạng"] is None and "Không xếp hạng" in xa[-1]["Ghi chú"]


def test_annual_workbook_kpis_and_method(built):
    settings, _, _ = built
    wb = openpyxl.load_workbook(settings.reports / "2024" / "xep_hang_cchc_2024.xlsx")
    _, kpis = _table(wb["Chỉ tiêu"], "Mã mục tiêu")
    by = {k["Mã chỉ tiêu"]: k for k in kpis}
    row = by["online_dossier_rate"]
    assert row["Chỉ tiêu"] == "Tỷ lệ hồ sơ được giải quyết trực tuyến"
    assert (row["Giá trị"], row["Mục tiêu"], row["Đạt mục tiêu"]) == (0.55, 0.6, "Không đạt")
    assert (row["Kỳ vọng theo lộ trình"], row["Đúng lộ trình"]) == (0.5, "Đúng lộ trình")
    assert by["par_index_national_rank"]["Mục tiêu"] == 15
    assert by["on_time_rate"]["Mã mục tiêu"] is None and by["on_time_rate"]["Giá trị"] == 0.93
    # the method sheet reads the seed, so an edited method shows
    _, method = _table(wb["Phương pháp"], "Loại")
    codes = [(m["Loại"], m["Mã"]) for m in method]
    assert ("Thành phần điểm", "tien_do") in codes and ("Xếp loại", "A") in codes
    assert next(m for m in method if m["Mã"] == "tien_do")["Tên"] == "Tiến độ giải quyết hồ sơ (đã sửa)"
    assert next(m for m in method if m["Mã"] == "A")["Điểm tối thiểu của loại"] == 90
    # gap summary
    _, groups = _table(wb["Vấn đề báo cáo"], "Nhóm đơn vị")
    assert groups[-1]["Nhóm đơn vị"] == "Toàn tỉnh" and groups[-1]["Đã nhận"] == 67


def test_not_ranked_years_say_why(built):
    settings, _, _ = built
    wb = openpyxl.load_workbook(settings.reports / "2025" / "xep_hang_cchc_2025.xlsx")
    assert "Xếp hạng" in wb.sheetnames and not [s for s in wb.sheetnames if s.startswith("XH ")]
    text = " ".join(str(v) for r in _rows(wb["Xếp hạng"]) for v in r if v)
    assert "chưa được xếp hạng" in text and "61.2 %" in text
    html = (settings.reports / "2025" / "xep_hang_cchc_2025.html").read_text(encoding="utf-8")
    assert 'data-status="blocked"' in html and "province reporting completeness 61.2 %" in html
    assert 'class="chart ranking-bars"' not in html
    html = (settings.reports / "2026" / "xep_hang_cchc_2026.html").read_text(encoding="utf-8")
    assert 'data-status="in_progress"' in html and "đang thực hiện" in html
    html = (settings.reports / "2023" / "xep_hang_cchc_2023.html").read_text(encoding="utf-8")
    assert 'data-status="final_override"' in html and "PAR_FINAL_YEARS" in html
    assert [svg.count('<rect class="bar"') for svg in _svgs(html, "ranking-bars")] == [2]


# --------------------------------------------------------------------------------------------------
# HTML: self-contained, with the SVG charts


def _svgs(html: str, cls: str) -> list[str]:
    return re.findall(rf'<svg [^>]*class="chart {cls}".*?</svg>', html, flags=re.S)


def test_annual_html_charts(built):
    settings, _, _ = built
    html = (settings.reports / "2024" / "xep_hang_cchc_2024.html").read_text(encoding="utf-8")
    assert "<script" not in html and "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "https://" not in html
    # one ranking chart per group, one bar per ranked unit, coloured by grade
    bars = _svgs(html, "ranking-bars")
    assert len(bars) == 4
    groups = dict.fromkeys(r[0] for r in RANKING_2024)
    ranked = {g: [r for r in RANKING_2024 if r[0] == g and r[4] is not None] for g in groups}
    for svg, (group, rows) in zip(bars, ranked.items(), strict=True):
        assert svg.count('<rect class="bar"') == len(rows), group
        for r in rows:
            assert f'data-unit="{r[1]}" data-grade="{r[5]}"' in svg
    assert 'data-grade="A" data-score="92.5"' in bars[0] and 'fill="#1a9850"' in bars[0]
    # where the points were lost: one box per component for every listed unit
    breakdowns = _svgs(html, "points-breakdown")
    assert len(breakdowns) == 4
    assert breakdowns[3].count('class="segment"') == 2 * 5
    assert 'data-unit="X01" data-component="thanh_toan"' in breakdowns[3]
    assert "thanh_toan" in breakdowns[3] and "không áp dụng" in breakdowns[3]
    # KPI small multiples: one per KPI with data, with target diamonds and the trajectory
    trends = _svgs(html, "kpi-trend")
    assert len(trends) == 3
    dossier = next(s for s in trends if "Tỷ lệ hồ sơ được giải quyết trực tuyến" in s)
    assert dossier.count('class="target"') == 2 and 'class="trajectory"' in dossier
    assert dossier.count('<circle class="value"') == 6
    assert "satisfaction_health" in html and "Chưa có số liệu ở năm nào cho 1 chỉ tiêu" in html
    assert "92,50" in html and "Xếp hạng các đơn vị năm 2024" in html


def test_followup_html(built):
    settings, _, _ = built
    html = (settings.reports / "2024" / "bao_cao_don_doc_2024.html").read_text(encoding="utf-8")
    assert "<script" not in html
    assert "Báo cáo đôn đốc gửi số liệu cải cách hành chính năm 2024" in html
    assert "Chưa gửi báo cáo hồ sơ TTHC tháng 05/2024 (hạn 10/06/2024)" in html
    assert "UBND xã Không Tồn Tại" in html
    assert len(_svgs(html, "completeness-bars")) == 1
    assert html.count('data-unit="S01"') == 1


def test_no_phone_numbers_anywhere(built):
    """A phone number planted in a gap detail and in a quarantined row's record never reaches a report."""
    settings, _, _ = built
    files = list(settings.reports.rglob("*.*"))
    assert files
    for f in files:
        if f.suffix == ".html":
            text = f.read_text(encoding="utf-8")
        else:
            with zipfile.ZipFile(f) as z:
                text = " ".join(z.read(n).decode("utf-8") for n in z.namelist() if n.endswith(".xml"))
            wb = openpyxl.load_workbook(f)
            text += " ".join(
                str(v) for ws in wb.worksheets for r in ws.iter_rows(values_only=True) for v in r if v
            )
        assert not PHONE.search(text), f"phone number in {f}"
    html = (settings.reports / "2024" / "bao_cao_don_doc_2024.html").read_text(encoding="utf-8")
    assert "liên hệ [đã ẩn]" in html


# --------------------------------------------------------------------------------------------------
# A real browser


def _chromium() -> str | None:
    return shutil.which("chromium") or (("/usr/bin/chromium") if Path("/usr/bin/chromium").exists() else None)


def _run_chromium(binary: str, profile: Path, *args: str) -> subprocess.CompletedProcess:
    cmd = [
        binary,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        *args,
    ]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)


def test_html_renders_in_headless_chromium(built, tmp_path):
    binary = _chromium()
    if binary is None:
        pytest.skip("chromium is not installed (Debian: apt-get install chromium, or `make browser`)")
    settings, _, _ = built
    page = (settings.reports / "2024" / "xep_hang_cchc_2024.html").resolve()
    shot = tmp_path / "report.png"
    done = _run_chromium(
        binary, tmp_path / "profile-shot", f"--screenshot={shot}", "--window-size=1280,2000", page.as_uri()
    )
    assert shot.is_file() and shot.stat().st_size > 20_000, done.stderr[-2000:]
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    print(f"\nscreenshot of the 2024 annual report: {shot}")
    dom = _run_chromium(binary, tmp_path / "profile-dom", "--dump-dom", page.as_uri()).stdout
    assert dom.count('class="chart ranking-bars"') == 4
    assert dom.count('class="chart kpi-trend"') == 3
    assert dom.count('class="chart points-breakdown"') == 4
    bars = [svg.count('<rect class="bar"') for svg in _svgs(dom, "ranking-bars")]
    assert bars == [2, 1, 1, 1]  # one bar per ranked unit of each group
    assert "Kết quả cải cách hành chính năm 2024" in dom


# --------------------------------------------------------------------------------------------------
# Dagster


def test_dagster_report_assets(built, monkeypatch, tmp_path):
    import dagster as dg

    from pipelines.defs.reports import report_assets
    from pipelines.defs.resources import ParSettingsResource

    _, _, env = built
    for k, v in {**env, "PAR_REPORTS": str(tmp_path / "out")}.items():
        monkeypatch.setenv(k, v)
    keys = {a.key for a in report_assets}
    assert keys == {dg.AssetKey(["reports", "followup"]), dg.AssetKey(["reports", "par_annual"])}
    for a in report_assets:
        assert a.group_names_by_key[a.key] == "reports"
        deps = {d for d in a.asset_deps[a.key]}
        assert {dg.AssetKey(["marts", "reporting_gaps"]), dg.AssetKey(["marts", "ranking_gate"])} <= deps
    result = dg.materialize(report_assets, resources={"par": ParSettingsResource()})
    assert result.success
    meta = {
        e.materialization.asset_key.to_user_string(): e.materialization.metadata
        for e in result.get_asset_materialization_events()
    }
    assert "2024/bao_cao_don_doc_2024.xlsx" in meta["reports/followup"]["files_written"].value
    assert meta["reports/par_annual"]["ranked_years"].value == [2023, 2024]
    assert meta["reports/par_annual"]["ranked_units"].value == 7
    assert "| 2024 | đã xếp hạng |" in meta["reports/par_annual"]["preview"].value
    assert (tmp_path / "out" / "index.html").is_file()
