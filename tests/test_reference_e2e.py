"""End to end: the real pipeline against an independent reference implementation of the spec.

For each scenario the sample generator writes a source tree (faults ``none``, ``demo``, ``all``, and
``edge``: ``demo`` plus the hand-made cases of ``add_edge_cases``), the pipeline runs on it (one subprocess
per scenario, all started at once so the module stays within a few minutes), and every mart is compared
value by value with ``tests/reference`` (written from the spec only): same key set, numbers within 1e-9,
``score`` exactly, booleans, ranks and grades equal; gaps by (feed, unit_code, period, gap_type) and
severity.
"""

from __future__ import annotations

import csv
import json
import math
import os
import signal
import subprocess
import sys
import unicodedata
from datetime import date, timedelta
from pathlib import Path

import pytest
from reference import compute

ROOT = Path(__file__).resolve().parents[1]
AS_OF = date(2026, 11, 27)
# scenario -> (generator faults, hand-made edge cases added on top)
SCENARIOS = {"none": ("none", False), "demo": ("demo", False), "all": ("all", False), "edge": ("demo", True)}
TOL = 1e-9
RUN_TIMEOUT = 900

# mart -> (key columns, compared columns, columns compared exactly)
MARTS = {
    "kpi_unit_month": (("period", "unit_code", "kpi_code"), ("numerator", "denominator", "value"), ()),
    "kpi_unit_year": (("year", "unit_code", "kpi_code"), ("numerator", "denominator", "value"), ()),
    "kpi_unit_year_current_map": (
        ("year", "unit_code", "kpi_code"),
        ("numerator", "denominator", "value"),
        (),
    ),
    "kpi_province_year": (
        ("year", "kpi_code"),
        (
            "numerator",
            "denominator",
            "value",
            "target",
            "target_year",
            "met",
            "expected_on_trajectory",
            "on_track",
        ),
        (),
    ),
    "reporting_completeness": (
        ("year", "unit_code", "feed"),
        ("expected", "received", "on_time", "completeness", "timeliness"),
        (),
    ),
    "par_ranking": (
        ("year", "ranking_group", "unit_code"),
        (
            "unit_name",
            "score",
            "rank",
            "grade",
            "points_tien_do",
            "points_truc_tuyen",
            "points_thanh_toan",
            "points_hai_long",
            "points_bao_cao",
            "applicable_max",
            "rank_change",
            "score_change",
        ),
        ("score",),
    ),
}
DOSSIER_HEADER = [
    "ky_bao_cao",
    "ma_don_vi",
    "ma_thu_tuc",
    "ton_ky_truoc",
    "tiep_nhan_truc_tuyen",
    "tiep_nhan_truc_tiep",
    "tiep_nhan_buu_chinh",
    "da_giai_quyet_truoc_han",
    "da_giai_quyet_dung_han",
    "da_giai_quyet_qua_han",
    "dang_giai_quyet_trong_han",
    "dang_giai_quyet_qua_han",
    "tra_lai_rut",
    "ngay_xuat",
]
CORE_GAPS = ("missing", "late", "revised", "small_sample", "cross_source", "inconsistent", "outlier")
QUARANTINE_GAPS = ("invalid", "unknown_unit")


# ---------------------------------------------------------------------------------------------- edge cases
# Hand-made additions on top of a generated tree, for rules the generator does not exercise: newest version
# vs file name, ties, offsets and the inclusive deadline, NFD names and old tone marks, a level word kept, a
# Biểu as the only version, exports dated after the as-of date, corrected payments/surveys/national ranks,
# decimal self-report values, units without data (tied ranks), a unit ending mid-month with a successor and
# a unit starting mid-month.


def _read_csv(path: Path) -> tuple[list[str], list[list[str]]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    return rows[0], rows[1:]


def _write_csv(path: Path, header: list[str], rows: list[list[str]], *, bom=False, crlf=False) -> None:
    with path.open("w", encoding="utf-8-sig" if bom else "utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\r\n" if crlf else "\n")
        w.writerow(header)
        w.writerows(rows)


def _write_bieu(path: Path, period_line: str, date_line: str | None, rows: list[list]) -> None:
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["ỦY BAN NHÂN DÂN TỈNH NGHỆ AN"])
    ws.append(["Biểu số II.06a/VPCP/KSTT"])
    ws.append(["TÌNH HÌNH, KẾT QUẢ GIẢI QUYẾT THỦ TỤC HÀNH CHÍNH"])
    ws.append([period_line])
    if date_line:
        ws.append([None, None, None, None, None, None, None, date_line])
    ws.append([])
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
    for r in rows:
        ws.append(r)
    ws.append([None, "Tổng cộng", *[sum(float(r[j] or 0) for r in rows) for j in range(2, 13)]])
    wb.save(path)


def _bieu_counts(online, direct, ton, early, ontime, late, pend_ok, pend_late) -> list:
    return [
        online + direct + ton,
        online,
        direct,
        ton,
        early + ontime + late,
        early,
        ontime,
        late,
        pend_ok + pend_late,
        pend_ok,
        pend_late,
    ]


def add_edge_cases(src: Path) -> None:
    nfd = lambda s: unicodedata.normalize("NFD", s)  # noqa: E731
    # registers: two departments that will send S09's figures (tied ranks), one without data ending mid-month
    # into S01, and a commune starting mid-month
    header, units = _read_csv(src / "registers" / "units.csv")
    col = {c: i for i, c in enumerate(header)}

    def unit(code, name, cap, group, start="", end="", succ="", aliases=""):
        row = [""] * len(header)
        for c, v in (
            ("ma_don_vi", code),
            ("ten_don_vi", name),
            ("cap", cap),
            ("nhom_xep_hang", group),
            ("hieu_luc_tu", start),
            ("hieu_luc_den", end),
            ("ma_don_vi_ke_thua", succ),
            ("ten_khac", aliases),
        ):
            row[col[c]] = v
        return row

    units += [
        unit("S20", "Sở Khoa học và Công nghệ", "tinh", "so_nganh"),
        unit("S21", "Sở Ngoại vụ", "tinh", "so_nganh", start="2023-01-01", end="2024-05-15", succ="S01"),
        unit("S22", "Sở Văn hóa và Thể thao", "tinh", "so_nganh", aliases="Sở VH&TT"),
        unit("X2001", "UBND xã Mường Lống", "xa", "ubnd_xa", start="2026-03-15"),
        unit(
            "S24",
            "Sở Lao động - Thương binh và Xã hội",
            "tinh",
            "so_nganh",
            start="2024-01-01",
            end="2024-12-31",
        ),
        unit("S25", "Sở Y tế", "tinh", "so_nganh", start="2024-01-01", end="2024-12-31"),
    ]
    # S23 (no ranking group) reports a flat volume, then 11 (MAD = MeanAD = 0: flagged as x ≠ median), then
    # 10, then 12 (MAD = 0, MeanAD > 0)
    units.append(
        unit("S23", "Trung tâm Phục vụ hành chính công", "tinh", "", start="2025-01-01", end="2025-12-31")
    )
    _write_csv(src / "registers" / "units.csv", header, units)

    d = src / "dossiers"
    # S20 and S22 send exactly what S09 sends (one extra export per month): equal scores, a tied rank
    for path in sorted(d.glob("dossiers_????-??.*")):
        if path.suffix == ".json":
            payload = json.loads(path.read_text(encoding="utf-8-sig"))
            items = payload["items"] if isinstance(payload, dict) else payload
            header = list(items[0])
            rows = [[str(it[c]) for c in header] for it in items]
        else:
            header, rows = _read_csv(path)
        col = {c: i for i, c in enumerate(header)}
        twins = []
        for code in ("S20", "S22"):
            for r in rows:
                if r[col["ma_don_vi"]] == "S09":
                    twin = list(r)
                    twin[col["ma_don_vi"]] = code
                    twins.append(twin)
        if twins:
            _write_csv(path.with_name(f"{path.stem}_them.csv"), header, twins)
    # 2024-06: an older version under a later file name (must lose: newest wins), offsets around the deadline
    header, rows = _read_csv(d / "dossiers_2024-06.csv")
    col = {c: i for i, c in enumerate(header)}
    depts = [r for r in rows if r[col["ma_don_vi"]].startswith("S")]
    old = [list(r) for r in depts[:1]]
    for r in old:
        r[col["tiep_nhan_truc_tiep"]] = str(int(r[col["tiep_nhan_truc_tiep"]]) + 5)
        r[col["da_giai_quyet_dung_han"]] = str(int(r[col["da_giai_quyet_dung_han"]]) + 5)
        r[col["ngay_xuat"]] = "2024-07-01T08:00:00"
    _write_csv(d / "dossiers_2024-06_cu.csv", header, old)
    stamps = iter(["2024-07-10T18:30:00Z", "2024-07-10T16:59:59+00:00"])
    for r in depts[1:3]:
        r[col["ngay_xuat"]] = next(stamps)
    _write_csv(d / "dossiers_2024-06.csv", header, rows, bom=True, crlf=True)
    # 2024-07: one late row makes the whole unit-month's version late (latest ngay_xuat)
    header, rows = _read_csv(d / "dossiers_2024-07.csv")
    h01 = [r for r in rows if r[col["ma_don_vi"]] == "H01"]
    if h01:
        h01[-1][col["ngay_xuat"]] = "2024-08-12T09:00:00"
    _write_csv(d / "dossiers_2024-07.csv", header, rows)
    # 2024-08: same export time, different counts: the file name sorting last wins
    header, rows = _read_csv(d / "dossiers_2024-08.csv")
    tie = [list(r) for r in rows if r[col["ma_don_vi"]].startswith("S")][:1]
    for r in tie:
        r[col["tiep_nhan_truc_tuyen"]] = str(int(r[col["tiep_nhan_truc_tuyen"]]) + 7)
        r[col["da_giai_quyet_truoc_han"]] = str(int(r[col["da_giai_quyet_truoc_han"]]) + 7)
    _write_csv(d / "dossiers_2024-08_b.csv", header, tie)
    # 2024-09: a Biểu newer than the machine export (machine still wins), name in NFD with odd spacing/case
    _write_bieu(
        d / "bieu_extra_2024-09.xlsx",
        "Kỳ báo cáo: tháng 09/2024",
        "Nghệ An, ngày 20 tháng 10 năm 2024",
        [[1, nfd("SỞ  NỘI   VỤ "), *_bieu_counts(40, 10, 0, 20, 20, 0, 10, 0)]],
    )
    # 2024-10: X0006 only in a Biểu (old tone placement, NFD, 'Ủy ban nhân dân' prefix, STT as text, blank and
    # float cells, 'Từ ngày … đến ngày …' period); 'UBND xã Nghi Lộc' is not valid then (the huyện is)
    header, rows = _read_csv(d / "dossiers_2024-10.csv")
    x6 = [r for r in rows if r[col["ma_don_vi"]] == "X0006"]
    rows = [r for r in rows if r[col["ma_don_vi"]] != "X0006"]
    _write_csv(d / "dossiers_2024-10.csv", header, rows)
    header9, rows9 = _read_csv(d / "dossiers_2024-09.csv")
    ton = sum(
        int(r[col["dang_giai_quyet_trong_han"]]) + int(r[col["dang_giai_quyet_qua_han"]])
        for r in rows9
        if r[col["ma_don_vi"]] == "X0006"
    )
    if x6:
        counts = _bieu_counts(9, 4, ton, 6, 5, 1, ton + 1, 0)
        counts[8] = None if counts[8] == 0 else float(counts[8])  # a blank/float Tổng số cell
        counts[10] = None
        _write_bieu(
            d / "bieu_II06a_xa_2024-10.xlsx",
            "Từ ngày 01/10/2024 đến ngày 31/10/2024",
            "Nghệ An, ngày 08 tháng 11 năm 2024",
            [
                ["1", nfd("Uỷ ban nhân dân  xã   NGHI THÁI"), *counts],
                [2, "UBND xã Nghi Lộc", *_bieu_counts(1, 1, 0, 1, 1, 0, 0, 0)],
            ],
        )
    flat = [10, 10, 10, 10, 10, 10, 10, 11, 10, 12]
    for m, x in enumerate(flat, start=1):
        _write_csv(
            d / f"dossiers_2025-{m:02d}_ttpvhcc.csv",
            DOSSIER_HEADER,
            [
                [
                    f"2025-{m:02d}",
                    "S23",
                    "2.000232",
                    "0",
                    str(x),
                    "0",
                    "0",
                    str(x),
                    "0",
                    "0",
                    "0",
                    "0",
                    "0",
                    f"2025-{m + 1:02d}-03T08:00:00",
                ]
            ],
        )
    # S24 and S25 in 2024: everything on time, no fee-bearing procedure, no payment, no survey (applicable
    # maximum 85). S24's online share 9459/16000 makes its score exactly 76.125 (rounded half away from
    # zero: 76.13); S25's 118263/200000 makes exactly 76.13: the rounded scores tie.
    plan = {"S24": ((788, 545), (791, 546)), "S25": ((9855, 6812), (9858, 6805))}
    for m in range(1, 13):
        rows = []
        for code, (usual, december) in plan.items():
            online, direct = december if m == 12 else usual
            received = online + direct
            rows.append(
                [f"2024-{m:02d}", code, "2.000232", "0", str(online), str(direct), "0", str(received)]
                + ["0"] * 5
                + [f"{2025 if m == 12 else 2024}-{m % 12 + 1:02d}-05T09:00:00"]
            )
        _write_csv(d / f"dossiers_2024-{m:02d}_ldtbxh.csv", DOSSIER_HEADER, rows)
    # 2024-12: X0005 and X0004 only in a Biểu dated on the deadline (inclusive); X0004's residual
    # tra_lai_rut is negative (balance fails: loaded, not received)
    header, rows = _read_csv(d / "dossiers_2024-12.csv")
    rows = [r for r in rows if r[col["ma_don_vi"]] not in ("X0004", "X0005")]
    _write_csv(d / "dossiers_2024-12.csv", header, rows)
    _write_bieu(
        d / "bieu_II06a_xa_2024-12.xlsx",
        "Kỳ báo cáo: tháng 12/2024",
        "Nghệ An, ngày 10 tháng 01 năm 2025",
        [
            [1, "UBND xã Nghi Phong", *_bieu_counts(6, 3, 0, 4, 3, 1, 1, 0)],
            [2, "UBND TT Quán Hành", *_bieu_counts(4, 1, 0, 3, 2, 1, 1, 0)],
        ],
    )
    # 2026-11 (not expected yet as of 27/11): X2001 only in a Biểu without a date line — late all the same
    _write_bieu(
        d / "bieu_II06a_xa_2026-11.xlsx",
        "Kỳ báo cáo: tháng 11/2026",
        None,
        [[1, "UBND xã Mường Lống", *_bieu_counts(3, 1, 0, 2, 2, 0, 0, 0)]],
    )
    # 2026-10: a correction exported after the as-of date is not there yet
    header, rows = _read_csv(d / "dossiers_2026-10.csv")
    later = [list(r) for r in rows if r[col["ma_don_vi"]].startswith("S")][:2]
    for r in later:
        r[col["tiep_nhan_truc_tuyen"]] = str(int(r[col["tiep_nhan_truc_tuyen"]]) + 50)
        r[col["da_giai_quyet_truoc_han"]] = str(int(r[col["da_giai_quyet_truoc_han"]]) + 50)
        r[col["ngay_xuat"]] = "2026-11-28T08:00:00"
    _write_csv(d / "dossiers_2026-10_sau.csv", header, later)

    p = src / "payments"
    header, rows = _read_csv(p / "payments_2024-03.csv")
    pc = {c: i for i, c in enumerate(header)}
    fix = [list(rows[0]), list(rows[1])]
    fix[0][pc["trang_thai"]] = "that_bai" if fix[0][pc["trang_thai"]] == "thanh_cong" else "thanh_cong"
    extra = list(rows[2])
    extra[pc["ma_giao_dich"]] = "GDEDGE000001"
    extra[pc["thoi_diem"]] = "2024-03-31T20:00:00Z"  # 1 April 03:00 local
    extra[pc["kenh"]], extra[pc["trang_thai"]] = "dvcqg", "thanh_cong"
    _write_csv(p / "payments_2024-03_sua.csv", header, [*fix, extra])
    future = list(rows[3])
    future[pc["ma_giao_dich"]] = "GDEDGE000002"
    future[pc["thoi_diem"]] = f"{AS_OF + timedelta(days=1)}T09:00:00"
    # a bad row dated after the as-of date is ignored too: no invalid gap for it
    bad_future = list(rows[4])
    bad_future[pc["ma_giao_dich"]] = "GDEDGE000003"
    bad_future[pc["thoi_diem"]] = f"{AS_OF + timedelta(days=2)}T09:00:00"
    bad_future[pc["so_tien"]] = "0"
    _write_csv(p / "payments_2026-11_sau.csv", header, [future, bad_future])
    # an October transaction re-sent by a later export dated after the as-of date: that copy is ignored,
    # so it is no version and October's copy stands
    header10, rows10 = _read_csv(p / "payments_2026-10.csv")
    resent = list(rows10[0])
    resent[pc["thoi_diem"]] = f"{AS_OF + timedelta(days=1)}T10:00:00"
    resent[pc["trang_thai"]] = "that_bai" if resent[pc["trang_thai"]] == "thanh_cong" else "thanh_cong"
    _write_csv(p / "payments_2026-10_zz.csv", header10, [resent])

    s = src / "surveys"
    header, rows = _read_csv(s / "surveys_2024.csv")
    sc = {c: i for i, c in enumerate(header)}
    again = [list(r) for r in rows if r[sc["loai_khao_sat"]] == "sipas"][:1]
    for r in again:
        for q in ("q1", "q2", "q3"):
            if q in sc:
                r[sc[q]] = "1"
    _write_csv(s / "surveys_2024_sua.csv", header, again)

    _write_csv(
        src / "self_report" / "self_report_2025_them.csv",
        ["nam", "ma_don_vi", "ma_chi_tieu", "tu_so", "mau_so", "ghi_chu"],
        [
            ["2025", "S09", "legal_docs_implemented_rate", "12.5", "40.25", "số lẻ"],
            ["2025", "S09", "work_records_online_rate_province", "0.35", "0.7", ""],
        ],
    )
    _write_csv(
        src / "national_indices" / "national_indices_sua.csv",
        ["nam", "chi_so", "diem", "thu_hang", "so_tinh", "nguon"],
        [["2026", "PAR_INDEX", "", "8", "34", "edge"], ["2024", "PCI", "", "30", "63", "correction"]],
    )


# ---------------------------------------------------------------------------------------------- fixtures


class Runs:
    """The scenarios' source trees and pipeline processes, and each scenario's marts once it finished."""

    def __init__(self) -> None:
        self.runs: dict[str, tuple[Path, Path, subprocess.Popen]] = {}
        self.results: dict[str, tuple[dict, dict]] = {}

    def result(self, scenario: str) -> tuple[dict, dict]:
        """(pipeline marts, reference marts) for one scenario; waits for its pipeline run the first time."""
        if scenario not in self.results:
            src, work, proc = self.runs[scenario]
            try:
                proc.wait(timeout=RUN_TIMEOUT)
            except subprocess.TimeoutExpired:
                _stop(proc)
                pytest.fail(f"pipeline run for scenario {scenario} timed out")
            log_text = (work / "pipeline.log").read_text(errors="replace")
            warehouse = work / "par.duckdb"
            if not warehouse.exists():
                pytest.fail(f"pipeline run for scenario {scenario} wrote no warehouse:\n{log_text[-3000:]}")
            actual = read_marts(warehouse)
            actual["_returncode"] = proc.returncode  # type: ignore[assignment]
            actual["_log"] = log_text  # type: ignore[assignment]
            self.results[scenario] = (actual, compute(src, AS_OF))
        return self.results[scenario]


def _stop(proc: subprocess.Popen) -> None:
    """Stops a pipeline run we started, with the dbt process it may have started (its own process group)."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()


@pytest.fixture(scope="module")
def launched(tmp_path_factory):
    """Writes every scenario's source tree and starts all the pipeline runs at once."""
    from pipelines.sample.generator import generate

    base = tmp_path_factory.mktemp("reference_e2e")
    runs = Runs()
    try:
        for scenario, (faults, edge) in SCENARIOS.items():
            src = base / scenario / "sources"
            work = base / scenario / "work"
            (work / "dagster_home").mkdir(parents=True)
            generate(src, scale="small", faults=faults, as_of=AS_OF)
            if edge:
                add_edge_cases(src)
            # only this run's configuration: no PAR_* (HTTP feeds, final years, threshold…) from outside
            env = {k: v for k, v in os.environ.items() if not k.startswith("PAR_")}
            env.update(
                PAR_SOURCES=str(src),
                PAR_WAREHOUSE=str(work / "par.duckdb"),
                PAR_REPORTS=str(work / "reports"),
                PAR_AS_OF=AS_OF.isoformat(),
                DAGSTER_HOME=str(work / "dagster_home"),
                GX_ANALYTICS_ENABLED="False",
            )
            with (work / "pipeline.log").open("wb") as log:
                proc = subprocess.Popen(
                    [sys.executable, "-m", "pipelines", "run"],
                    cwd=ROOT,
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            runs.runs[scenario] = (src, work, proc)
        yield runs
    finally:
        for _src, _work, proc in runs.runs.values():
            _stop(proc)


def read_marts(path: Path) -> dict[str, list[dict] | None]:
    import duckdb

    con = duckdb.connect(str(path), read_only=True)
    try:
        present = {
            r[0]
            for r in con.execute(
                "select table_name from information_schema.tables where table_schema = 'marts'"
            ).fetchall()
        }
        out: dict[str, list[dict] | None] = {}
        for mart in [*MARTS, "reporting_gaps"]:
            if mart not in present:
                out[mart] = None
                continue
            cur = con.execute(f"select * from marts.{mart}")
            cols = [d[0] for d in cur.description]
            out[mart] = [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]
        return out
    finally:
        con.close()


# ---------------------------------------------------------------------------------------------- comparison


def _norm_key(v):
    if v is None:
        return None
    if isinstance(v, bool):
        return v
    if isinstance(v, int | float) and float(v).is_integer():
        return int(v)
    if hasattr(v, "isoformat"):
        return v.isoformat()
    return str(v)


def _equal(a, b, exact: bool) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, str) or isinstance(b, str):
        return str(a) == str(b)
    fa, fb = float(a), float(b)
    if exact:
        return fa == fb
    return math.isclose(fa, fb, rel_tol=0, abs_tol=TOL) or math.isclose(fa, fb, rel_tol=TOL, abs_tol=0)


def compare_mart(mart: str, actual: list[dict], expected: list[dict]) -> list[str]:
    keys, cols, exact = MARTS[mart]
    got = {tuple(_norm_key(r[k]) for k in keys): r for r in actual}
    want = {tuple(_norm_key(r[k]) for k in keys): r for r in expected}
    problems: list[str] = []
    if len(got) != len(actual):
        problems.append(f"{mart}: {len(actual) - len(got)} duplicate keys in the pipeline's mart")
    for k in sorted(set(want) - set(got), key=str):
        problems.append(
            f"{mart} {dict(zip(keys, k, strict=True))}: missing in the pipeline (reference has it)"
        )
    for k in sorted(set(got) - set(want), key=str):
        problems.append(
            f"{mart} {dict(zip(keys, k, strict=True))}: extra in the pipeline (not in the reference)"
        )
    for k in sorted(set(got) & set(want), key=str):
        a, e = got[k], want[k]
        for c in cols:
            if c not in a:
                problems.append(f"{mart}: column {c} absent")
                continue
            if not _equal(a[c], e[c], c in exact):
                problems.append(
                    f"{mart} {dict(zip(keys, k, strict=True))} {c}: pipeline={a[c]!r} reference={e[c]!r}"
                )
    return problems


def compare_gaps(actual: list[dict], expected: list[dict], gap_types: tuple[str, ...]) -> list[str]:
    def keyed(rows):
        return {
            (r["feed"], r["unit_code"], None if r["period"] is None else str(r["period"]), r["gap_type"]): r
            for r in rows
            if r["gap_type"] in gap_types
        }

    got, want = keyed(actual), keyed(expected)
    problems = [
        f"reporting_gaps {k}: missing in the pipeline ({want[k]['detail']})"
        for k in sorted(set(want) - set(got), key=str)
    ]
    problems += [
        f"reporting_gaps {k}: extra in the pipeline ({got[k].get('detail')})"
        for k in sorted(set(got) - set(want), key=str)
    ]
    for k in sorted(set(got) & set(want), key=str):
        if got[k]["severity"] != want[k]["severity"]:
            problems.append(f"reporting_gaps {k}: severity {got[k]['severity']!r} != {want[k]['severity']!r}")
    return problems


def _report(problems: list[str], limit: int = 60) -> str:
    head = "\n".join(problems[:limit])
    more = f"\n… and {len(problems) - limit} more" if len(problems) > limit else ""
    return f"{len(problems)} discrepancies:\n{head}{more}"


# ---------------------------------------------------------------------------------------------- tests


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_pipeline_run_succeeds(launched, scenario):
    actual, _ = launched.result(scenario)
    assert actual["_returncode"] == 0, f"pipeline run failed:\n{actual['_log'][-3000:]}"


@pytest.mark.parametrize("mart", list(MARTS))
@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_mart_matches_reference(launched, scenario, mart):
    actual, expected = launched.result(scenario)
    assert actual[mart] is not None, f"marts.{mart} was not built"
    problems = compare_mart(mart, actual[mart], expected[mart])
    assert not problems, _report(problems)


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_reporting_gaps_match_reference(launched, scenario):
    actual, expected = launched.result(scenario)
    assert actual["reporting_gaps"] is not None, "marts.reporting_gaps was not built"
    problems = compare_gaps(actual["reporting_gaps"], expected["reporting_gaps"], CORE_GAPS)
    assert not problems, _report(problems)


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_quarantine_gaps_match_reference(launched, scenario):
    actual, expected = launched.result(scenario)
    assert actual["reporting_gaps"] is not None, "marts.reporting_gaps was not built"
    problems = compare_gaps(actual["reporting_gaps"], expected["reporting_gaps"], QUARANTINE_GAPS)
    assert not problems, _report(problems)
