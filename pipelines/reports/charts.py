"""Inline SVG charts, written by hand: no script, no CDN, no font or image to fetch — the HTML reports
stay self-contained and render the same offline.

Every chart is a string holding one `<svg>` element; bars carry `class="bar"` and `data-*` attributes
so tests (and curious analysts) can find them in the DOM.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence

from markupsafe import Markup

from .render import fmt_int, fmt_num, fmt_pct, mask

FONT = "Arial, 'Liberation Sans', 'DejaVu Sans', sans-serif"
GRADE_COLORS = {"A": "#1a9850", "B": "#66bd63", "C": "#f4a742", "D": "#d73027"}
NO_GRADE = "#9e9e9e"
COMPONENT_COLORS = ["#4e79a7", "#59a14f", "#f28e2b", "#b07aa1", "#76b7b2", "#edc948", "#ff9da7", "#9c755f"]
VALUE_COLOR = "#1f4e79"
TARGET_COLOR = "#c62828"
TRAJECTORY_COLOR = "#7f7f7f"


def esc(text) -> str:
    return html.escape(mask(str(text)), quote=True)


def _n(x: float) -> str:
    """Coordinates with one decimal, no trailing zeros."""
    return f"{x:.1f}".rstrip("0").rstrip(".")


def _trunc(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def _svg(width: float, height: float, body: list[str], label: str, cls: str) -> Markup:
    """The chart as markup (safe: every text in it went through `esc`)."""
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart {cls}" width="{_n(width)}" '
        f'height="{_n(height)}" viewBox="0 0 {_n(width)} {_n(height)}" role="img" aria-label="{esc(label)}" '
        f'font-family="{FONT}">'
        f"<title>{esc(label)}</title>" + "".join(body) + "</svg>"
    )


def _text(x, y, text, size=11, anchor="start", fill="#222", weight="normal", extra="") -> str:
    return (
        f'<text x="{_n(x)}" y="{_n(y)}" font-size="{size}" text-anchor="{anchor}" fill="{fill}" '
        f'font-weight="{weight}"{extra}>{esc(text)}</text>'
    )


# --------------------------------------------------------------------------------------------------
# KPI trend (small multiple)


def _nice_step(span: float, ticks: int = 4) -> float:
    raw = span / ticks
    mag = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1
    for m in (1, 2, 2.5, 5, 10):
        if raw <= m * mag:
            return m * mag
    return 10 * mag


def trajectory_points(series: dict) -> list[tuple[int, float]]:
    """The programme's piecewise-linear path (kpis.md): from the first year with data to the 2025
    milestone, then to the 2030 milestone."""
    pts = sorted(series["points"])
    t25, t30 = series.get("target_2025"), series.get("target_2030")
    if not pts or t25 is None:
        return []
    y0, b = pts[0]
    path: list[tuple[int, float]] = []
    if y0 < 2025:
        path += [(y0, b), (2025, t25)]
    elif t30 is not None:
        path.append((2025, t25))
    if t30 is not None and path:
        path.append((2030, t30))
    return path


def kpi_trend(
    series: dict,
    report_year: int,
    *,
    first_year: int = 2021,
    last_year: int = 2030,
    provisional_year: int | None = None,
    width: int = 300,
    height: int = 172,
) -> str:
    """One KPI's province value over the programme years, its 2025/2030 milestones (red diamonds) and
    the trajectory between them (dashed). Rank KPIs have an inverted axis (1 = best, at the top)."""
    ml, mr, mt, mb = 42, 12, 12, 24
    pw, ph = width - ml - mr, height - mt - mb
    is_rank = series.get("measure") == "rank"
    points = sorted((y, v) for y, v in series["points"] if first_year <= y <= last_year)
    targets = [(2025, series.get("target_2025")), (2030, series.get("target_2030"))]
    targets = [(y, t) for y, t in targets if t is not None]
    traj = trajectory_points(series)

    def x(year: float) -> float:
        return ml + (year - first_year) / (last_year - first_year) * pw

    if is_rank:
        top = max([v for _, v in points] + [t for _, t in targets] + [5])
        step = _nice_step(top)
        hi = step * math.ceil(top * 1.1 / step)
        lo = 1.0
        ticks = [1.0] + [t * step for t in range(1, int(hi / step) + 1)]

        def y(v: float) -> float:
            return mt + (min(max(v, lo), hi) - lo) / (hi - lo) * ph

        def tick_label(v: float) -> str:
            return f"{v:.0f}"
    else:
        lo, hi = 0.0, 1.0
        ticks = [0, 0.25, 0.5, 0.75, 1.0]

        def y(v: float) -> float:
            return mt + (1 - min(max(v, lo), hi)) * ph

        def tick_label(v: float) -> str:
            return f"{100 * v:.0f}%"

    body: list[str] = []
    # the report year, shaded
    if first_year <= report_year <= last_year:
        band = pw / (last_year - first_year)
        body.append(
            f'<rect x="{_n(x(report_year) - band / 2)}" y="{mt}" width="{_n(band)}" height="{ph}" '
            f'fill="#fff3c4" class="report-year"/>'
        )
    for t in ticks:
        body.append(
            f'<line x1="{ml}" x2="{ml + pw}" y1="{_n(y(t))}" y2="{_n(y(t))}" stroke="#e3e3e3" stroke-width="1"/>'
        )
        body.append(_text(ml - 4, y(t) + 3.5, tick_label(t), size=9, anchor="end", fill="#666"))
    for yr in range(first_year, last_year + 1):
        body.append(
            _text(x(yr), height - 8, f"{yr % 100:02d}", size=9, anchor="middle", fill="#666")
            if yr not in (2025, 2030)
            else _text(x(yr), height - 8, str(yr), size=9, anchor="middle", fill="#333", weight="bold")
        )
    body.append(f'<line x1="{ml}" x2="{ml}" y1="{mt}" y2="{mt + ph}" stroke="#999"/>')
    body.append(f'<line x1="{ml}" x2="{ml + pw}" y1="{mt + ph}" y2="{mt + ph}" stroke="#999"/>')
    if traj:
        body.append(
            '<polyline class="trajectory" fill="none" stroke="{c}" stroke-width="1.5" stroke-dasharray="5 3" '
            'points="{p}"><title>Lộ trình đến mục tiêu</title></polyline>'.format(
                c=TRAJECTORY_COLOR, p=" ".join(f"{_n(x(a))},{_n(y(b))}" for a, b in traj)
            )
        )
    for yr, t in targets:
        cx, cy = x(yr), y(t)
        label = f"Mục tiêu {yr}: " + (f"hạng {t:.0f}" if is_rank else fmt_pct(t))
        body.append(
            f'<path class="target" d="M{_n(cx)},{_n(cy - 6)} L{_n(cx + 6)},{_n(cy)} L{_n(cx)},{_n(cy + 6)} '
            f'L{_n(cx - 6)},{_n(cy)} Z" fill="{TARGET_COLOR}" fill-opacity="0.85"><title>{esc(label)}</title></path>'
        )
    # the value line, broken where a year has no value
    runs: list[list[tuple[int, float]]] = []
    for yr, v in points:
        if runs and runs[-1][-1][0] == yr - 1:
            runs[-1].append((yr, v))
        else:
            runs.append([(yr, v)])
    for run in runs:
        if len(run) > 1:
            body.append(
                f'<polyline class="value-line" fill="none" stroke="{VALUE_COLOR}" stroke-width="2.2" '
                f'points="{" ".join(f"{_n(x(a))},{_n(y(b))}" for a, b in run)}"/>'
            )
    for yr, v in points:
        text = f"hạng {v:.0f}" if is_rank else fmt_pct(v)
        provisional = yr == provisional_year
        r = 4.2 if yr == report_year else 3
        fill = "#fff" if provisional else VALUE_COLOR
        note = " (lũy kế, năm đang thực hiện)" if provisional else ""
        body.append(
            f'<circle class="value" cx="{_n(x(yr))}" cy="{_n(y(v))}" r="{r}" fill="{fill}" stroke="{VALUE_COLOR}" '
            f'stroke-width="1.6"><title>{yr}: {esc(text)}{note}</title></circle>'
        )
        if yr == report_year:
            ty = y(v) - 8 if y(v) > mt + 14 else y(v) + 16
            body.append(_text(x(yr), ty, text, size=10, anchor="middle", fill=VALUE_COLOR, weight="bold"))
    if not points:
        body.append(_text(ml + pw / 2, mt + ph / 2, "Chưa có số liệu", size=11, anchor="middle", fill="#888"))
    return _svg(width, height, body, f"Diễn biến {series.get('name_vi', '')}", "kpi-trend")


def trend_legend() -> str:
    body = [
        f'<line x1="4" x2="28" y1="10" y2="10" stroke="{VALUE_COLOR}" stroke-width="2.2"/>',
        f'<circle cx="16" cy="10" r="3" fill="{VALUE_COLOR}"/>',
        _text(34, 14, "Giá trị toàn tỉnh", size=11),
        f'<circle cx="158" cy="10" r="3.5" fill="#fff" stroke="{VALUE_COLOR}" stroke-width="1.6"/>',
        _text(168, 14, "Lũy kế năm đang thực hiện", size=11),
        f'<line x1="334" x2="358" y1="10" y2="10" stroke="{TRAJECTORY_COLOR}" stroke-width="1.5" '
        'stroke-dasharray="5 3"/>',
        _text(364, 14, "Lộ trình đến mục tiêu", size=11),
        f'<path d="M502,4 L508,10 L502,16 L496,10 Z" fill="{TARGET_COLOR}"/>',
        _text(514, 14, "Mục tiêu 2025 / 2030", size=11),
        '<rect x="648" y="3" width="14" height="14" fill="#fff3c4"/>',
        _text(668, 14, "Năm báo cáo", size=11),
    ]
    return _svg(760, 20, body, "Chú giải biểu đồ chỉ tiêu", "legend")


# --------------------------------------------------------------------------------------------------
# Ranking of a group: horizontal bars coloured by grade


def ranking_bars(rows: Sequence[dict], grades: Sequence[dict] = (), *, title: str = "") -> str:
    """One bar per ranked unit (rank order), length = score (0–100), colour = grade."""
    label_w, bar_w, right, row_h, top = 310, 470, 90, 22, 34
    width = label_w + bar_w + right
    height = top + row_h * max(len(rows), 1) + 26

    def x(score: float) -> float:
        return label_w + max(0.0, min(score, 100.0)) / 100 * bar_w

    body: list[str] = []
    for s in range(0, 101, 10):
        body.append(
            f'<line x1="{_n(x(s))}" x2="{_n(x(s))}" y1="{top - 4}" y2="{height - 22}" stroke="#eee" stroke-width="1"/>'
        )
        body.append(_text(x(s), height - 8, str(s), size=9, anchor="middle", fill="#666"))
    for g in grades:
        m = g.get("min_score")
        if m and 0 < m <= 100:
            body.append(
                f'<line x1="{_n(x(m))}" x2="{_n(x(m))}" y1="{top - 10}" y2="{height - 22}" stroke="#888" '
                'stroke-dasharray="3 3" stroke-width="1"/>'
            )
            body.append(_text(x(m) + 3, top - 12, f"{g['code']} ≥ {m:g}", size=10, fill="#555"))
    # legend
    lx = 0.0
    for code, color in GRADE_COLORS.items():
        body.append(f'<rect x="{_n(lx)}" y="4" width="12" height="12" fill="{color}"/>')
        body.append(_text(lx + 16, 14, f"Loại {code}", size=11))
        lx += 70
    for i, r in enumerate(rows):
        y0 = top + i * row_h
        color = GRADE_COLORS.get(r.get("grade") or "", NO_GRADE)
        score = r.get("score") or 0.0
        name = f"{r.get('rank') or '–'}. {r.get('unit_name') or r.get('unit_code')}"
        tip = f"{name}: {fmt_num(score)} điểm, loại {r.get('grade') or '—'}"
        body.append(_text(label_w - 8, y0 + 15, _trunc(name, 48), size=11, anchor="end"))
        body.append(
            f'<rect class="bar" data-unit="{esc(r.get("unit_code"))}" data-grade="{esc(r.get("grade") or "")}" '
            f'data-score="{score}" x="{label_w}" y="{y0 + 3}" width="{_n(max(x(score) - label_w, 0.5))}" '
            f'height="{row_h - 6}" fill="{color}"><title>{esc(tip)}</title></rect>'
        )
        body.append(
            _text(
                x(score) + 5, y0 + 15, f"{fmt_num(score)} ({r.get('grade') or '—'})", size=11, weight="bold"
            )
        )
    if not rows:
        body.append(_text(label_w, top + 15, "Không có đơn vị được xếp hạng", size=11, fill="#888"))
    return _svg(width, height, body, title or "Xếp hạng", "ranking-bars")


# --------------------------------------------------------------------------------------------------
# Where the points were lost: one row per unit, one box per component sized by its maximum


def points_breakdown(rows: Sequence[dict], components: Sequence, *, title: str = "") -> str:
    """Per unit, each component as a box as wide as its maximum points, filled up to the points earned;
    the empty part is what was lost. A component that does not apply is hatched grey."""
    label_w, bar_w, right, row_h = 310, 470, 130, 22
    total_max = sum(c.max_points for c in components) or 100.0
    scale = bar_w / total_max
    colors = {c.code: COMPONENT_COLORS[i % len(COMPONENT_COLORS)] for i, c in enumerate(components)}
    width = label_w + bar_w + right
    # legend, wrapped over as many lines as needed
    legend: list[str] = []
    lx, ly = 0.0, 4.0
    items = [(colors[c.code], f"{c.name_vi} ({fmt_num(c.max_points, 0)}đ)", False) for c in components]
    items += [("#dcdcdc", "Phần điểm bị mất (nhạt)", False), ("url(#na-hatch)", "Không áp dụng", True)]
    for color, text, hatch in items:
        w = 22 + len(text) * 6.3
        if lx + w > width:
            lx, ly = 0.0, ly + 18
        legend.append(
            f'<rect x="{_n(lx)}" y="{_n(ly)}" width="12" height="12" fill="{color}"'
            + (' stroke="#999"' if hatch else "")
            + "/>"
        )
        legend.append(_text(lx + 16, ly + 10, text, size=11))
        lx += w + 10
    top = ly + 30
    height = top + row_h * max(len(rows), 1) + 8
    body = [
        '<defs><pattern id="na-hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
        'patternTransform="rotate(45)"><rect width="6" height="6" fill="#f0f0f0"/>'
        '<line x1="0" y1="0" x2="0" y2="6" stroke="#b0b0b0" stroke-width="2"/></pattern></defs>',
        *legend,
    ]
    for i, r in enumerate(rows):
        y0 = top + i * row_h
        ranked = r.get("rank") is not None
        name = f"{r.get('rank') or '–'}. {r.get('unit_name') or r.get('unit_code')}"
        body.append(
            _text(
                label_w - 8,
                y0 + 15,
                _trunc(name, 48),
                size=11,
                anchor="end",
                fill="#222" if ranked else "#777",
            )
        )
        x0 = float(label_w)
        lost_total = 0.0
        for comp in r["components"]:
            w = comp["max"] * scale
            color = colors.get(comp["code"], "#999")
            seg = (
                f'class="segment" data-unit="{esc(r.get("unit_code"))}" data-component="{esc(comp["code"])}" '
                f'y="{_n(y0 + 3)}" height="{row_h - 6}"'
            )
            if comp["points"] is None:
                body.append(
                    f'<rect {seg} x="{_n(x0)}" width="{_n(w)}" fill="url(#na-hatch)" stroke="#fff" '
                    f'stroke-width="1"><title>{esc(comp["name"])}: không áp dụng</title></rect>'
                )
            else:
                lost_total += comp["lost"] or 0.0
                tip = (
                    f"{comp['name']}: đạt {fmt_num(comp['points'], 1)}/{fmt_num(comp['max'], 0)} điểm, "
                    f"mất {fmt_num(comp['lost'], 1)}"
                )
                body.append(
                    f'<rect {seg} x="{_n(x0)}" width="{_n(w)}" fill="{color}" fill-opacity="0.2" stroke="#fff" '
                    f'stroke-width="1"><title>{esc(tip)}</title></rect>'
                )
                if comp["points"] > 0:
                    body.append(
                        f'<rect class="earned" x="{_n(x0)}" y="{_n(y0 + 3)}" width="{_n(comp["points"] * scale)}" '
                        f'height="{row_h - 6}" fill="{color}"><title>{esc(tip)}</title></rect>'
                    )
            x0 += w
        body.append(
            _text(
                label_w + bar_w + 6,
                y0 + 15,
                f"{fmt_num(r.get('score'))} điểm · mất {fmt_num(lost_total, 1)}",
                size=11,
                fill="#333",
            )
        )
    return _svg(width, height, body, title or "Điểm đạt và điểm bị mất theo thành phần", "points-breakdown")


# --------------------------------------------------------------------------------------------------
# Follow-up: completeness and timeliness by ranking group


def completeness_bars(rows: Sequence[dict], threshold: float | None = 0.9, *, title: str = "") -> str:
    label_w, bar_w, right, group_h, top = 200, 480, 120, 44, 28
    width = label_w + bar_w + right
    height = top + group_h * max(len(rows), 1) + 24

    def x(v: float) -> float:
        return label_w + max(0.0, min(v, 1.0)) * bar_w

    body = [
        '<rect x="0" y="4" width="12" height="12" fill="#4e79a7"/>',
        _text(16, 14, "Tỷ lệ đầy đủ", size=11),
        '<rect x="120" y="4" width="12" height="12" fill="#f28e2b"/>',
        _text(136, 14, "Tỷ lệ đúng hạn", size=11),
    ]
    for t in (0, 0.25, 0.5, 0.75, 1.0):
        body.append(
            f'<line x1="{_n(x(t))}" x2="{_n(x(t))}" y1="{top}" y2="{height - 20}" stroke="#eee" stroke-width="1"/>'
        )
        body.append(_text(x(t), height - 6, f"{100 * t:.0f}%", size=9, anchor="middle", fill="#666"))
    if threshold is not None:
        body.append(
            f'<line x1="{_n(x(threshold))}" x2="{_n(x(threshold))}" y1="{top - 6}" y2="{height - 20}" '
            f'stroke="{TARGET_COLOR}" stroke-dasharray="4 3"/>'
        )
        body.append(
            _text(x(threshold) + 4, top - 8, f"Ngưỡng {fmt_pct(threshold, 0)}", size=10, fill=TARGET_COLOR)
        )
    for i, r in enumerate(rows):
        y0 = top + i * group_h
        body.append(_text(label_w - 8, y0 + 20, r["group_label"], size=11, anchor="end", weight="bold"))
        body.append(
            _text(label_w - 8, y0 + 34, f"{fmt_int(r['units'])} đơn vị", size=9, anchor="end", fill="#666")
        )
        for j, (key, color) in enumerate((("completeness", "#4e79a7"), ("timeliness", "#f28e2b"))):
            v = r.get(key)
            yy = y0 + 4 + j * 18
            body.append(
                f'<rect class="bar" data-group="{esc(r.get("group") or "")}" data-measure="{key}" x="{label_w}" '
                f'y="{yy}" width="{_n(max((x(v) if v is not None else label_w) - label_w, 0.5))}" height="15" '
                f'fill="{color}"><title>{esc(r["group_label"])}: {fmt_pct(v)}</title></rect>'
            )
            body.append(_text((x(v) if v is not None else label_w) + 4, yy + 12, fmt_pct(v), size=10))
    return _svg(
        width, height, body, title or "Tỷ lệ báo cáo đầy đủ và đúng hạn theo nhóm", "completeness-bars"
    )
