"""The follow-up report (báo cáo đôn đốc): what the Department of Home Affairs sends to chase units.

Per year Y: `<reports>/<Y>/bao_cao_don_doc_<Y>.xlsx` and `.html`.
"""

from __future__ import annotations

from pathlib import Path

from markupsafe import Markup, escape

from . import charts
from .data import FEEDS, FollowupData, feed_label
from .render import Book, Col, Sheet, atomic_path, fmt_pct, mask, render, write_text

HTML_QUARANTINE_LIMIT = 300
# where the rows a capped sheet leaves out are (the analysts' copy of the warehouse, README "What analysts
# query"); a sheet is capped only when it has more rows than its limit (data.GAP_ROWS_LIMIT and
# data.QUARANTINE_ROWS_LIMIT), and then says so
PUBLISHED = "kho dữ liệu công bố (published/par_marts.duckdb)"


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


def gap_counts_table(s: Sheet, f: FollowupData, *, total_width: float, with_total: bool) -> None:
    """The gap counts by type × feed (follow-up summary sheet and the annual report's gap sheet)."""
    feed_cols = [
        Col(feed_label(x), (lambda r, x=x: r["counts"].get(x, 0)), 14, "int") for x in f.gap_count_feeds
    ]
    cols = [Col("Loại vấn đề", "label", 34), Col("Mức độ", "severity_label", 10), *feed_cols]
    cols.append(Col("Tổng", "total", total_width, "int"))
    total = None
    if with_total:
        total = {"label": "Tổng cộng", "severity_label": "", "total": sum(r["total"] for r in f.gap_counts)}
        total["counts"] = {x: sum(r["counts"].get(x, 0) for r in f.gap_counts) for x in f.gap_count_feeds}
    s.table(cols, f.gap_counts, total=total, autofilter=False, freeze=False)


def _feed_sheet(book: Book, d: FollowupData, feed: str) -> None:
    """One feed's gaps, one row each (at most data.GAP_ROWS_LIMIT; the note says where the rest are)."""
    rows = d.gaps_by_feed[feed]
    s = book.sheet(feed_label(feed))
    capped = (
        [
            f"Chỉ liệt kê {len(rows):,} vấn đề đầu trong tổng số {d.gap_feed_totals[feed]:,}; "
            f"danh sách đầy đủ: bảng marts.reporting_gaps trong {PUBLISHED}."
        ]
        if d.gaps_capped(feed)
        else []
    )
    s.title(f"{feed_label(feed)} — các vấn đề năm {d.year}", _subtitle(d), *capped)
    s.table(GAP_COLS, rows, empty_text="Không có vấn đề nào.")


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
        gap_counts_table(s, d, total_width=10, with_total=True)

        s = book.sheet("Đơn vị cần đôn đốc")
        s.title(
            f"Đơn vị cần đôn đốc năm {d.year}",
            "Mỗi đơn vị có ít nhất một vấn đề hoặc chưa gửi đủ báo cáo hồ sơ TTHC; tháng ghi theo số tháng.",
        )
        s.table(UNIT_COLS, d.units, empty_text="Không có đơn vị nào cần đôn đốc.")

        for feed in d.gaps_by_feed:
            _feed_sheet(book, d, feed)

        s = book.sheet("Dòng bị loại")
        extra = (
            f" Chỉ liệt kê {len(d.quarantine_rows):,} dòng đầu trong tổng số {d.quarantine_total:,} dòng;"
            f" danh sách đầy đủ: bảng quality.quarantine_rows trong {PUBLISHED}."
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


def _h(value) -> str:
    """What `{{ value }}` gives in a template of render.jinja_env (masked, HTML-escaped; None → '')."""
    if value is None:
        return ""
    return str(escape(mask(value) if isinstance(value, str) else value))


def gap_rows_html(rows: list[dict]) -> Markup:
    """The gap table's rows, as the template's loop wrote them (same bytes), without Jinja's per-cell
    overhead."""
    out = [
        f'    <tr data-gap-type="{_h(r["gap_type"])}"><td>{_h(r["group_label"])}</td>'
        f'<td>{_h(r["unit_code"] or "—")}</td><td class="name">{_h(r["unit_name"] or "—")}</td>\n'
        f'      <td>{_h(r["gap_label"])}</td><td><span class="pill sev-{_h(r["severity"])}">'
        f"{_h(r['severity_label'])}</span></td>\n"
        f'      <td>{_h(r["period_label"])}</td><td>{_h(r["as_sent"])}</td><td class="small">{_h(r["detail"])}'
        "</td></tr>\n"
        for r in rows
    ]
    return Markup("".join(out))


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
        published=PUBLISHED,
        gap_rows_html=gap_rows_html,
        xlsx_name=path.with_suffix(".xlsx").name,
    )
    return write_text(path, html)


def write_followup(d: FollowupData, reports: Path) -> list[Path]:
    xlsx, html = followup_paths(reports, d.year)
    return [write_followup_xlsx(d, xlsx), write_followup_html(d, html)]
