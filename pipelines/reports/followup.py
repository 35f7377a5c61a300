"""The follow-up report (báo cáo đôn đốc): what the Department of Home Affairs sends to chase units.

Per year Y: `<reports>/<Y>/bao_cao_don_doc_<Y>.xlsx` and `.html`.
"""

from __future__ import annotations

from pathlib import Path

from . import charts
from .data import FEEDS, FollowupData, feed_label
from .render import Book, Col, atomic_path, fmt_pct, render, write_text

HTML_QUARANTINE_LIMIT = 300


def followup_paths(reports: Path, year: int) -> tuple[Path, Path]:
    folder = reports / str(year)
    return folder / f"bao_cao_don_doc_{year}.xlsx", folder / f"bao_cao_don_doc_{year}.html"


def _subtitle(d: FollowupData) -> str:
    text = f"Số liệu đến ngày {d.as_of:%d/%m/%Y}"
    if d.year_in_progress:
        text += f" — năm {d.year} đang thực hiện: số liệu lũy kế, chỉ tính các tháng đã đến hạn báo cáo"
    return text


GROUP_COLS = [
    Col("Nhóm đơn vị", "group_label", 26),
    Col("Số đơn vị", "units", 10, "int"),
    Col("Số tháng phải báo cáo", "expected", 12, "int"),
    Col("Đã nhận", "received", 10, "int"),
    Col("Đúng hạn", "on_time", 10, "int"),
    Col("Tỷ lệ đầy đủ", "completeness", 12, "pct"),
    Col("Tỷ lệ đúng hạn", "timeliness", 12, "pct"),
]

UNIT_COLS = [
    Col("Nhóm đơn vị", "group_label", 22),
    Col("Mã đơn vị", "unit_code", 12),
    Col("Tên đơn vị", "unit_name", 34),
    Col("Số tháng phải báo cáo", "expected", 11, "int"),
    Col("Đã nhận", "received", 9, "int"),
    Col("Đúng hạn", "on_time", 9, "int"),
    Col("Tỷ lệ đầy đủ", "completeness", 10, "pct"),
    Col("Tỷ lệ đúng hạn", "timeliness", 10, "pct"),
    Col("Tháng chưa gửi", "missing_months", 22, "wrap"),
    Col("Tháng gửi muộn", "late_months", 22, "wrap"),
    Col("Số lỗi", "errors", 8, "int"),
    Col("Số cảnh báo", "warnings", 10, "int"),
    Col("Vấn đề khác", "other_gaps", 50, "wrap"),
]

GAP_COLS = [
    Col("Nhóm đơn vị", "group_label", 20),
    Col("Mã đơn vị", "unit_code", 12),
    Col("Tên đơn vị", "unit_name", 30),
    Col("Loại vấn đề", "gap_label", 26),
    Col("Mức độ", "severity_label", 10),
    Col("Kỳ", "period_label", 10),
    Col("Tên/mã đơn vị như gửi", "as_sent", 26, "wrap"),
    Col("Chi tiết", "detail", 90, "wrap"),
]

QUARANTINE_COLS = [
    Col("Nguồn số liệu", "feed_label", 20),
    Col("Tệp", "file_name", 30),
    Col("Dòng", "row_number", 8, "int"),
    Col("Mã lý do", "reason_code", 22),
    Col("Lý do", "reason", 60, "wrap"),
    Col("Mã đơn vị", "unit_code", 12),
    Col("Đơn vị như gửi", "unit_as_sent", 26),
    Col("Tên đơn vị", "unit_name", 30),
    Col("Kỳ", "period_label", 10),
]


def write_followup_xlsx(d: FollowupData, path: Path) -> Path:
    with atomic_path(path) as tmp:
        book = Book(tmp)
        s = book.sheet("Tổng hợp")
        s.title(
            f"BÁO CÁO ĐÔN ĐỐC GỬI SỐ LIỆU CẢI CÁCH HÀNH CHÍNH NĂM {d.year}",
            "Sở Nội vụ tỉnh Nghệ An",
            _subtitle(d),
        )
        s.section("1. Tình hình gửi báo cáo hồ sơ TTHC hằng tháng theo nhóm đơn vị")
        s.table(GROUP_COLS, d.by_group, total=d.province, autofilter=False)
        s.note(f"Ngưỡng tỷ lệ báo cáo đầy đủ để xếp hạng: {fmt_pct(d.threshold, 0)} (toàn tỉnh).")
        s.blank()
        s.section("2. Số vấn đề theo loại và nguồn số liệu")
        feed_cols = [
            Col(feed_label(f), (lambda r, f=f: r["counts"].get(f, 0)), 14, "int") for f in d.gap_count_feeds
        ]
        cols = [Col("Loại vấn đề", "label", 34), Col("Mức độ", "severity_label", 10), *feed_cols]
        cols.append(Col("Tổng", "total", 10, "int"))
        total = {"label": "Tổng cộng", "severity_label": "", "total": sum(r["total"] for r in d.gap_counts)}
        total["counts"] = {f: sum(r["counts"].get(f, 0) for r in d.gap_counts) for f in d.gap_count_feeds}
        s.table(cols, d.gap_counts, total=total, autofilter=False, freeze=False)

        s = book.sheet("Đơn vị cần đôn đốc")
        s.title(
            f"Đơn vị cần đôn đốc năm {d.year}",
            "Mỗi đơn vị có ít nhất một vấn đề hoặc chưa gửi đủ báo cáo hồ sơ TTHC; tháng ghi theo số tháng.",
        )
        s.table(UNIT_COLS, d.units, empty_text="Không có đơn vị nào cần đôn đốc.")

        for feed, rows in d.gaps_by_feed.items():
            s = book.sheet(feed_label(feed))
            s.title(f"{feed_label(feed)} — các vấn đề năm {d.year}", _subtitle(d))
            s.table(GAP_COLS, rows, empty_text="Không có vấn đề nào.")

        s = book.sheet("Dòng bị loại")
        extra = (
            f" Chỉ liệt kê {len(d.quarantine_rows):,} dòng đầu trong tổng số {d.quarantine_total:,} dòng."
            if d.quarantine_total > len(d.quarantine_rows)
            else ""
        )
        s.title(
            f"Các dòng số liệu bị loại (cách ly) năm {d.year}",
            "Dòng trong các tệp đã gửi không được nạp vì sai quy định; đơn vị cần gửi lại bản đúng." + extra,
        )
        s.table(QUARANTINE_COLS, d.quarantine_rows, empty_text="Không có dòng nào bị loại.")
        book.close()
    return path


def write_followup_html(d: FollowupData, path: Path) -> Path:
    chart = charts.completeness_bars(
        d.by_group, d.threshold, title=f"Tỷ lệ báo cáo hồ sơ TTHC đầy đủ và đúng hạn năm {d.year}"
    )
    html = render(
        "followup.html.j2",
        d=d,
        as_of=d.as_of,
        subtitle=_subtitle(d),
        chart=chart,
        feeds=FEEDS,
        feed_label=feed_label,
        quarantine_html=d.quarantine_rows[:HTML_QUARANTINE_LIMIT],
        xlsx_name=path.with_suffix(".xlsx").name,
    )
    return write_text(path, html)


def write_followup(d: FollowupData, reports: Path) -> list[Path]:
    xlsx, html = followup_paths(reports, d.year)
    return [write_followup_xlsx(d, xlsx), write_followup_html(d, html)]
