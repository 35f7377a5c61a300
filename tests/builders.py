"""Small, hand-written source trees for tests: real CSV/JSON/XLSX files in a temporary folder.

Every number here is chosen by hand so tests can state expected results without running the code
under test.
"""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import openpyxl

from pipelines.ingest.feeds import DOSSIER_COUNTS, FEED_SPECS

UNITS = [
    # ma_don_vi, ten_don_vi, cap, nhom_xep_hang, cha, tu, den, ke_thua, ten_khac
    ("S01", "Sở Tư pháp", "tinh", "so_nganh", "", "", "", "", ""),
    ("S02", "Sở Tài chính", "tinh", "so_nganh", "", "", "", "", ""),
    ("N01", "Công an tỉnh", "tinh", "nganh_doc", "", "", "", "", "Công an tỉnh Nghệ An"),
    ("H01", "UBND huyện Nghi Lộc", "huyen", "ubnd_huyen", "", "", "2025-06-30", "", "UBND H. Nghi Lộc"),
    ("X01", "UBND xã Nghi Phong", "xa", "ubnd_xa", "H01", "", "2025-06-30", "X99", ""),
    ("X02", "UBND xã Hòa Sơn", "xa", "ubnd_xa", "H01", "", "2024-06-30", "X01", ""),
    ("X99", "UBND xã Nghi Lộc", "xa", "ubnd_xa", "", "2025-07-01", "", "", ""),
    # two units sharing an alias: a report naming it resolves to several units
    ("S03", "Sở Xây dựng", "tinh", "so_nganh", "", "", "", "", "Sở XD"),
    ("S04", "Sở Giao thông vận tải", "tinh", "so_nganh", "", "", "", "", "Sở XD"),
]
UNIT_COLUMNS = list(FEED_SPECS["units"].columns)
PROCEDURES = [
    # code, name, field, levels, fee, eligible, level, dvcqg, tttt, simplified, tu, den
    (
        "1.004227",
        "Chứng thực bản sao",
        "tu_phap",
        "tinh;huyen",
        "1",
        "1",
        "toan_trinh",
        "2021-05-01",
        "2022-01-01",
        "2022",
        "",
        "",
    ),
    ("2.000001", "Đăng ký khai sinh", "ho_tich", "xa", "0", "1", "mot_phan", "", "", "", "", ""),
    (
        "1.009999",
        "Cấp phép xây dựng",
        "xay_dung",
        "tinh;huyen",
        "1",
        "0",
        "khong",
        "",
        "",
        "2024",
        "",
        "2023-12-31",
    ),
]
PROCEDURE_COLUMNS = list(FEED_SPECS["procedures"].columns)
DOSSIER_COLUMNS = ["ky_bao_cao", "ma_don_vi", "ma_thu_tuc", *DOSSIER_COUNTS, "ngay_xuat"]
PAYMENT_COLUMNS = list(FEED_SPECS["payments"].columns)
SURVEY_COLUMNS = [
    "ma_phieu",
    "loai_khao_sat",
    "ma_don_vi",
    "linh_vuc",
    "ngay_khao_sat",
    "kenh",
    "q1",
    "q2",
    "q3",
    "so_dien_thoai",
]


def write_csv(path: Path, columns: list[str], rows: list, *, bom: bool = False) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8-sig" if bom else "utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        writer.writerows(rows)
    return path


def write_registers(root: Path, units=UNITS, procedures=PROCEDURES) -> None:
    write_csv(root / "registers" / "units.csv", UNIT_COLUMNS, units)
    write_csv(root / "registers" / "procedures.csv", PROCEDURE_COLUMNS, procedures)


def dossier_row(period: str, unit: str, proc: str, counts: tuple, exported: str) -> list:
    """counts = (ton, online, in_person, postal, early, on_time, late, pending_ok, pending_late, returned)."""
    return [period, unit, proc, *counts, exported]


def write_json(path: Path, payload) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, ensure_ascii=False), encoding="utf-8")
    return path


def write_bieu_ii06a(
    path: Path,
    rows: list[tuple],
    *,
    period_line: str = "Kỳ báo cáo: tháng 03/2024",
    date_line: str | None = "Nghệ An, ngày 05 tháng 4 năm 2024",
    date_at_bottom: bool = False,
) -> Path:
    """A Biểu II.06a workbook as units e-mail it. rows = (name, (3)..(13)) with 11 counts."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Biểu II.06a"
    ws.append(["Biểu số II.06a/VPCP/KSTT"])
    ws.append(["TÌNH HÌNH, KẾT QUẢ GIẢI QUYẾT THỦ TỤC HÀNH CHÍNH"])
    ws.append([period_line])
    if date_line and not date_at_bottom:
        ws.append([None, None, None, None, None, None, None, None, date_line])
    ws.append(["", None])
    ws.append(
        ["STT", "Đơn vị", "Tiếp nhận", None, None, None, "Đã giải quyết", None, None, None, "Đang giải quyết"]
    )
    top = ws.max_row
    ws.append(
        [
            None,
            None,
            "Tổng số",
            "Trong kỳ: Trực tuyến",
            "Trong kỳ: Trực tiếp, dịch vụ bưu chính",
            "Kỳ trước chuyển sang",
            "Tổng số",
            "Trước hạn",
            "Đúng hạn",
            "Quá hạn",
            "Tổng số",
            "Trong hạn",
            "Quá hạn",
        ]
    )
    ws.merge_cells(start_row=top, start_column=1, end_row=top + 1, end_column=1)
    ws.merge_cells(start_row=top, start_column=2, end_row=top + 1, end_column=2)
    ws.merge_cells(start_row=top, start_column=3, end_row=top, end_column=6)
    ws.merge_cells(start_row=top, start_column=7, end_row=top, end_column=10)
    ws.merge_cells(start_row=top, start_column=11, end_row=top, end_column=13)
    ws.append([f"({i})" for i in range(1, 14)])
    for i, (name, *counts) in enumerate(rows, start=1):
        ws.append([i, name, *counts])
    totals = [sum((r[k] or 0) for r in rows) for k in range(1, 12)]
    ws.append([None, "Tổng cộng", *totals])
    if date_line and date_at_bottom:
        ws.append([])
        ws.append([None, None, None, None, None, None, None, None, date_line])
        ws.append([None, None, None, None, None, None, None, None, "THỦ TRƯỞNG ĐƠN VỊ"])
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def link_tree(src: Path, dst: Path, only_new: bool = False) -> list[str]:
    """Hard-link the files of a generated sources tree into `dst` (only those not there yet, with
    `only_new`): a later month's exports arrive beside the earlier ones. Returns the paths linked."""
    added = []
    for path in sorted(src.rglob("*")):
        if not path.is_file() or path.name.startswith("."):
            continue
        target = dst / path.relative_to(src)
        if only_new and target.exists():
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        os.link(path, target)
        added.append(str(path.relative_to(src)))
    return added
