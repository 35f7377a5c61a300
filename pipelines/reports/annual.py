"""The annual PAR ranking report (xếp hạng CCHC) and the index of all years.

Per year Y: `<reports>/<Y>/xep_hang_cchc_<Y>.xlsx` and `.html`; `<reports>/index.html` links every year.
"""

from __future__ import annotations

from pathlib import Path

from . import charts
from .data import AnnualData, YearStatus, feed_label
from .followup import GROUP_COLS, followup_paths, gap_counts_table
from .render import Book, Col, atomic_path, fmt_bool, render, write_text


def annual_paths(reports: Path, year: int) -> tuple[Path, Path]:
    folder = reports / str(year)
    return folder / f"xep_hang_cchc_{year}.xlsx", folder / f"xep_hang_cchc_{year}.html"


def _value_kind(r: dict) -> str:
    return "general" if r.get("measure") == "rank" else "pct"


KPI_COLS = [
    Col("Mã mục tiêu", "target_id", 9),
    Col("Chỉ tiêu", "name_vi", 60, "wrap"),
    Col("Mã chỉ tiêu", "kpi_code", 30),
    Col("Giá trị", "value", 10, _value_kind),
    Col("Tử số", "numerator", 12, "num"),
    Col("Mẫu số", "denominator", 12, "num"),
    Col("Mục tiêu", "target", 10, _value_kind),
    Col("Mốc mục tiêu", "target_year", 9, "rank"),
    Col("Đạt mục tiêu", lambda r: fmt_bool(r.get("met")) if r.get("met") is not None else None, 11),
    Col("Kỳ vọng theo lộ trình", "expected_on_trajectory", 12, _value_kind),
    Col(
        "Đúng lộ trình",
        lambda r: (
            fmt_bool(r.get("on_track"), "Đúng lộ trình", "Chậm") if r.get("on_track") is not None else None
        ),
        12,
    ),
    Col("Ghi chú mục tiêu", "target_note", 40, "wrap"),
]

GATE_COLS = [
    Col("Điều kiện", "check_id", 9, "rank"),
    Col("Nội dung", "label", 48, "wrap"),
    Col("Đạt", lambda r: fmt_bool(r.get("passed")), 10),
    Col("Chi tiết", "detail", 80, "wrap"),
]

METHOD_COLS = [
    Col(
        "Loại", lambda r: {"component": "Thành phần điểm", "grade": "Xếp loại"}.get(r["kind"], r["kind"]), 16
    ),
    Col("Mã", "code", 12),
    Col("Tên", "name_vi", 30),
    Col("Chỉ tiêu (KPI)", "kpi_code", 28),
    Col("Điểm tối đa", "max_points", 11, "num"),
    Col("Đạt điểm tối đa khi giá trị ≥", "full_points_at", 16),
    Col("Trọng số trong thành phần", "weight", 12, "num"),
    Col("Điểm tối thiểu của loại", "min_score", 12, "num"),
]


def _ranking_cols(d: AnnualData) -> list[Col]:
    cols = [
        Col("Hạng", "rank", 7, "rank"),
        Col("Mã đơn vị", "unit_code", 12),
        Col("Tên đơn vị", "unit_name", 34),
        Col("Điểm", "score", 9, "score"),
        Col("Xếp loại", "grade", 8),
        Col("Thay đổi hạng", "rank_change", 9, "signed_int"),
        Col("Thay đổi điểm", "score_change", 9, "signed"),
    ]
    for c in d.components:
        cols.append(Col(f"{c.name_vi}: điểm đạt (tối đa {c.max_points:g})", f"points_{c.code}", 14, "num"))
        cols.append(Col(f"{c.name_vi}: điểm mất", f"lost_{c.code}", 12, "num"))
    cols += [
        Col("Tổng điểm đạt", "points_total", 11, "num"),
        Col("Điểm tối đa áp dụng", "applicable_max", 11, "num"),
        Col("Tổng điểm mất", "lost_total", 11, "num"),
        Col("Ghi chú", "note", 70, "wrap"),
    ]
    return cols


def _status_sheet(book: Book, d: AnnualData) -> None:
    s = book.sheet("Tóm tắt")
    s.title(
        f"KẾT QUẢ XẾP HẠNG CẢI CÁCH HÀNH CHÍNH NĂM {d.year} (PHẦN TÍNH TỪ SỐ LIỆU)",
        "Sở Nội vụ tỉnh Nghệ An",
        f"Số liệu đến ngày {d.as_of:%d/%m/%Y}",
    )
    s.section("Tình trạng xếp hạng")
    s.note(d.status.text)
    s.blank()
    s.section("Điều kiện xếp hạng (kiểm tra trước khi xếp hạng)")
    s.table(GATE_COLS, d.status.checks, autofilter=False, empty_text="Chưa có kết quả kiểm tra.")


def write_annual_xlsx(d: AnnualData, path: Path) -> Path:
    with atomic_path(path) as tmp:
        book = Book(tmp)
        _status_sheet(book, d)
        if d.status.ranked and d.groups:
            cols = _ranking_cols(d)
            for g in d.groups:
                s = book.sheet(f"XH {g['label']}")
                s.title(
                    f"Xếp hạng {g['label']} năm {d.year}",
                    "Điểm mất = điểm tối đa − điểm đạt của từng thành phần; ô trống: thành phần không áp dụng.",
                    *([d.status.text] if d.status.final_override else []),
                )
                s.table(cols, g["rows"])
        else:
            s = book.sheet("Xếp hạng")
            s.title(f"Xếp hạng năm {d.year}", d.status.text)
            if d.status.failed and not d.status.over:
                s.note("Các điều kiện xếp hạng hiện chưa đạt (để tham khảo):")
            for r in d.status.failed:
                s.note(f"• Điều kiện {r['check_id']} — {r['label']}: {r['detail']}")
        s = book.sheet("Chỉ tiêu")
        s.title(
            f"Các chỉ tiêu của Chương trình CCHC năm {d.year} so với mục tiêu và lộ trình",
            "Giá trị là tỷ lệ (%) trừ các chỉ tiêu xếp hạng quốc gia (thứ hạng, càng nhỏ càng tốt).",
        )
        s.table(KPI_COLS, d.kpis)

        f = d.followup
        s = book.sheet("Vấn đề báo cáo")
        s.title(
            f"Tình hình báo cáo và các vấn đề số liệu năm {d.year}", "Chi tiết: báo cáo đôn đốc cùng năm."
        )
        s.section("Tỷ lệ báo cáo hồ sơ TTHC theo nhóm đơn vị")
        s.table(GROUP_COLS, f.by_group, total=f.province, autofilter=False)
        s.section("Số vấn đề theo loại và nguồn số liệu")
        gap_counts_table(s, f, total_width=9, with_total=False)

        s = book.sheet("Phương pháp")
        s.title(
            "Phương pháp tính điểm xếp hạng (tệp cấu hình reference.ranking_method)",
            "Điểm thành phần = điểm tối đa × min(1, giá trị / mức đạt điểm tối đa); 'target' = mục tiêu của năm.",
            "Điểm = 100 × tổng điểm đạt / tổng điểm tối đa của các thành phần áp dụng, làm tròn 2 chữ số.",
            "Xếp hạng trong từng nhóm theo điểm giảm dần (đồng điểm đồng hạng). Nếu phương pháp thay đổi, bảng"
            " dưới đây thay đổi theo.",
        )
        s.table(METHOD_COLS, d.method)
        book.close()
    return path


def _status_class(status: YearStatus) -> str:
    return status.kind


def write_annual_html(d: AnnualData, path: Path) -> Path:
    # the as-of year is always in progress (its December deadline lies in the next year): year-to-date
    provisional = d.as_of.year
    with_data = [s for s in d.kpi_series if s["has_data"]]
    trends = [
        {
            "series": s,
            "svg": charts.kpi_trend(
                s,
                d.year,
                first_year=min(d.years),
                last_year=max(2030, max(d.years)),
                provisional_year=provisional,
            ),
            "row": next((k for k in d.kpis if k["kpi_code"] == s["kpi_code"]), {}),
        }
        for s in with_data
    ]
    no_data = [s for s in d.kpi_series if not s["has_data"]]
    groups = []
    if d.status.ranked:
        for g in d.groups:
            groups.append(
                {
                    **g,
                    "bars": charts.ranking_bars(
                        g["ranked"], d.grades, title=f"Xếp hạng {g['label']} năm {d.year}"
                    ),
                    "breakdown": charts.points_breakdown(
                        g["rows"], d.components, title=f"Điểm đạt và điểm mất — {g['label']} năm {d.year}"
                    ),
                }
            )
    f = d.followup
    html = render(
        "annual.html.j2",
        d=d,
        as_of=d.as_of,
        status=d.status,
        status_class=_status_class(d.status),
        trends=trends,
        no_data=no_data,
        legend=charts.trend_legend(),
        groups=groups,
        f=f,
        feed_label=feed_label,
        completeness_chart=charts.completeness_bars(f.by_group, f.threshold),
        xlsx_name=path.with_suffix(".xlsx").name,
        followup_name=followup_paths(Path("."), d.year)[1].name,
    )
    return write_text(path, html)


def write_annual(d: AnnualData, reports: Path) -> list[Path]:
    xlsx, html = annual_paths(reports, d.year)
    return [write_annual_xlsx(d, xlsx), write_annual_html(d, html)]


def write_index(reports: Path, statuses: list[YearStatus], as_of) -> Path:
    years = []
    for st in sorted(statuses, key=lambda s: s.year, reverse=True):
        fx, fh = followup_paths(Path(), st.year)  # relative to the reports root: <Y>/<name>
        ax, ah = annual_paths(Path(), st.year)
        years.append(
            {
                "year": st.year,
                "status": st,
                "annual_html": ah.as_posix(),
                "annual_xlsx": ax.as_posix(),
                "followup_html": fh.as_posix(),
                "followup_xlsx": fx.as_posix(),
            }
        )
    return write_text(reports / "index.html", render("index.html.j2", years=years, as_of=as_of))
