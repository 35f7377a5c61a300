"""The sample-exports generator keeps its promises: deterministic, spec-shaped, nothing after as-of, and
every planted fault really is in the files (read back with csv/json/openpyxl, not with generator code)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import statistics
import unicodedata
from collections import Counter, defaultdict
from pathlib import Path

import openpyxl
import pytest

from pipelines.sample import generate
from pipelines.sample.__main__ import main as cli_main

AS_OF = dt.date(2026, 11, 27)
COUNTS = [
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
]
RECEIVED = COUNTS[1:4]
CODE_RE = re.compile(r"^[SNHX]\d{2,4}$")


# ---------------------------------------------------------------- fixtures (small scale: ~1 s per run)
@pytest.fixture(scope="module")
def clean(tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("clean")
    return out, generate(out, scale="small", faults="none", as_of=AS_OF)


@pytest.fixture(scope="module")
def faulty(tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("all")
    return out, generate(out, scale="small", faults="all", as_of=AS_OF)


# ---------------------------------------------------------------- readers
def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def read_machine(path: Path) -> list[dict]:
    if path.suffix == ".json":
        data = json.loads(path.read_text(encoding="utf-8"))
        return data["items"] if isinstance(data, dict) else data
    return read_csv(path)


def machine_files(root: Path) -> list[Path]:
    return sorted(
        p for p in (root / "dossiers").iterdir() if re.fullmatch(r"dossiers_\d{4}-\d{2}\.(csv|json)", p.name)
    )


def read_payments(path: Path) -> list[dict]:
    if path.suffix == ".jsonl":
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    return read_csv(path)


def units(root: Path) -> dict[str, dict[str, str]]:
    return {r["ma_don_vi"]: r for r in read_csv(root / "registers" / "units.csv")}


def d(s: str) -> dt.date | None:
    return dt.date.fromisoformat(s) if s else None


def valid_in(u: dict[str, str], first: dt.date, last: dt.date) -> bool:
    start, end = d(u["hieu_luc_tu"]), d(u["hieu_luc_den"])
    return (start is None or start <= last) and (end is None or first <= end)


def month_bounds(period: str) -> tuple[dt.date, dt.date]:
    y, m = int(period[:4]), int(period[5:7])
    first = dt.date(y, m, 1)
    nxt = dt.date(y + (m == 12), m % 12 + 1, 1)
    return first, nxt - dt.timedelta(days=1)


def norm_name(name: str) -> str:
    """sources.md name resolution, written independently of the generator."""
    s = unicodedata.normalize("NFC", name)
    for new, old in {
        "òa": "oà",
        "óa": "oá",
        "ỏa": "oả",
        "õa": "oã",
        "ọa": "oạ",
        "ủy": "uỷ",
        "úy": "uý",
    }.items():
        s = s.replace(new, old).replace(new.upper(), old.upper())
    s = s.replace("Ủy", "Uỷ")
    s = " ".join(s.casefold().split())
    for prefix in ("ubnd ", "uỷ ban nhân dân "):
        if s.startswith(prefix):
            s = s[len(prefix) :]
    return s


def resolve(reg: dict[str, dict[str, str]], name: str, period: str) -> list[str]:
    first, last = month_bounds(period)
    key = norm_name(name)
    hits = []
    for code, u in reg.items():
        names = [u["ten_don_vi"], *[a for a in u["ten_khac"].split(";") if a]]
        if key in {norm_name(n) for n in names} and valid_in(u, first, last):
            hits.append(code)
    return hits


def read_bieu(path: Path) -> dict:
    wb = openpyxl.load_workbook(path)  # not read_only: merged ranges are needed
    ws = wb.active
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    header = next(i for i, r in enumerate(rows) if r[0] == "STT" and r[1] == "Đơn vị")
    title = " | ".join(str(v) for r in rows[:header] for v in r if v is not None)
    data = [r for r in rows[header:] if isinstance(r[0], int | float) and r[0] > 0]
    total = [r for r in rows if r[1] == "Tổng cộng"]
    merged = {str(m): ws.cell(m.min_row, m.min_col).value for m in ws.merged_cells.ranges}
    return {"title": title, "data": data, "total": total, "merged": merged, "rows": rows}


def num(v) -> float:
    return 0 if v is None else float(v)


# ---------------------------------------------------------------- tests
def test_same_arguments_give_identical_bytes(faulty, tmp_path):
    root, _ = faulty
    again = tmp_path / "again"
    assert (
        cli_main(["--out", str(again), "--scale", "small", "--faults", "all", "--as-of", AS_OF.isoformat()])
        == 0
    )
    first = {p.relative_to(root): p.read_bytes() for p in root.rglob("*") if p.is_file()}
    second = {p.relative_to(again): p.read_bytes() for p in again.rglob("*") if p.is_file()}
    assert first.keys() == second.keys()
    assert [k for k in first if first[k] != second[k]] == []
    assert any(k.suffix == ".xlsx" for k in first)


def test_refuses_to_mix_two_generations(clean):
    root, _ = clean
    with pytest.raises(FileExistsError):
        generate(root, scale="small", faults="none", as_of=AS_OF)


def test_layout_and_columns(clean):
    root, summary = clean
    assert (root / "registers" / "units.csv").exists() and (root / "registers" / "procedures.csv").exists()
    assert list(read_csv(root / "registers" / "units.csv")[0]) == [
        "ma_don_vi",
        "ten_don_vi",
        "cap",
        "nhom_xep_hang",
        "ma_don_vi_cha",
        "hieu_luc_tu",
        "hieu_luc_den",
        "ma_don_vi_ke_thua",
        "ten_khac",
    ]
    names = {p.name for p in (root / "dossiers").iterdir()}
    assert {"dossiers_2024-03.csv", "dossiers_2022-06.json", "bieu_II06a_nganh_doc_2024-03.xlsx"} <= names
    assert any(p.suffix == ".jsonl" for p in (root / "payments").iterdir())
    assert (root / "surveys" / "surveys_2022.xlsx").exists() and (
        root / "self_report" / "self_report_2023.xlsx"
    ).exists()
    shapes = {
        type(json.loads(p.read_text(encoding="utf-8"))).__name__ for p in (root / "dossiers").glob("*.json")
    }
    assert shapes == {"dict", "list"}
    boms = [p.read_bytes().startswith(b"\xef\xbb\xbf") for p in (root / "dossiers").glob("*.csv")]
    assert any(boms) and not all(boms)
    nat = read_csv(root / "national_indices" / "national_indices.csv")
    assert list(nat[0]) == ["nam", "chi_so", "diem", "thu_hang", "so_tinh", "nguon"]
    assert {
        "nam": "2023",
        "chi_so": "PCI",
        "diem": "65.72",
        "thu_hang": "44",
        "so_tinh": "63",
    }.items() <= nat[8].items()
    assert summary["injected"] == [] and summary["rows"]["payments"] > 1000


def test_register_holds_the_2025_reorganisation(clean):
    root, _ = clean
    reg = units(root)
    assert len(reg) == len(read_csv(root / "registers" / "units.csv"))  # codes unique
    districts = [u for u in reg.values() if u["cap"] == "huyen"]
    assert districts and all(u["hieu_luc_den"] == "2025-06-30" for u in districts)
    new = [u for u in reg.values() if u["hieu_luc_tu"] == "2025-07-01"]
    assert new and all(
        u["cap"] == "xa" and u["nhom_xep_hang"] == "ubnd_xa" and u["ma_don_vi_cha"] == "" for u in new
    )
    old = [u for u in reg.values() if u["cap"] == "xa" and u["hieu_luc_den"] == "2025-06-30"]
    assert old and all(reg[u["ma_don_vi_ke_thua"]]["hieu_luc_tu"] == "2025-07-01" for u in old)
    assert all(u["ma_don_vi_cha"] in reg for u in old)
    merged = [u for u in reg.values() if u["hieu_luc_den"] == "2024-11-30"]
    assert merged and all(
        valid_in(reg[u["ma_don_vi_ke_thua"]], dt.date(2024, 12, 1), dt.date(2024, 12, 1)) for u in merged
    )
    assert {"tinh", "huyen", "xa"} == {u["cap"] for u in reg.values()}
    assert {"so_nganh", "nganh_doc", "ubnd_huyen", "ubnd_xa"} == {u["nhom_xep_hang"] for u in reg.values()}
    assert any(";" in u["ten_khac"] for u in reg.values())


def test_clean_dossiers_balance_and_carry_stock(clean):
    root, _ = clean
    pending: dict[tuple[str, str, str], tuple[int, int]] = {}
    rows = 0
    for path in machine_files(root):
        for r in read_machine(path):
            v = {c: int(r[c]) for c in COUNTS}
            assert all(x >= 0 for x in v.values())
            assert v["ton_ky_truoc"] + sum(v[c] for c in RECEIVED) == sum(v[c] for c in COUNTS[4:]), r
            assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}", str(r["ngay_xuat"]))
            key = (r["ma_don_vi"], r["ma_thu_tuc"], r["ky_bao_cao"])
            assert key not in pending
            pending[key] = (v["ton_ky_truoc"], v["dang_giai_quyet_trong_han"] + v["dang_giai_quyet_qua_han"])
            rows += 1
    checked = 0
    machine_months = {(u, period) for u, _, period in pending}
    for (u, p, period), (ton, _) in pending.items():
        first, _ = month_bounds(period)
        prev = (first - dt.timedelta(days=1)).strftime("%Y-%m")
        if (u, p, prev) in pending:
            assert pending[(u, p, prev)][1] == ton, (u, p, period)
            checked += 1
        elif ton and (u, prev) in machine_months:  # (after a Biểu II.06a month, continuity is per unit)
            pytest.fail(f"stock {ton} of {(u, p, period)} appears from nowhere")
    assert rows > 1000 and checked > 500


def test_clean_feeds_are_valid(clean):
    root, _ = clean
    reg = units(root)
    procs = {r["ma_thu_tuc"]: r for r in read_csv(root / "registers" / "procedures.csv")}
    for path in machine_files(root):
        for r in read_machine(path):
            first, last = month_bounds(r["ky_bao_cao"])
            assert r["ma_thu_tuc"] in procs and valid_in(reg[r["ma_don_vi"]], first, last)
    ids: set[str] = set()
    for path in sorted((root / "payments").iterdir()):
        for r in read_payments(path):
            assert r["ma_giao_dich"] not in ids
            ids.add(r["ma_giao_dich"])
            assert int(r["so_tien"]) > 0 and r["kenh"] in {"dvcqg", "cong_tinh", "truc_tiep"}
            assert r["trang_thai"] in {"thanh_cong", "that_bai", "hoan_tien"}
            assert procs[r["ma_thu_tuc"]]["co_nghia_vu_tai_chinh"] == "1"
            assert re.fullmatch(rf"{r['ma_don_vi']}-\d{{6}}-\d{{4}}", r["ma_ho_so"])
    sipas: Counter[tuple[str, str]] = Counter()
    for path in sorted((root / "surveys").glob("*.csv")):
        for r in read_csv(path):
            assert r["loai_khao_sat"] in {"sipas", "cqhc", "y_te", "giao_duc"} and r["ma_don_vi"] in reg
            assert all(r[q] in {"", "1", "2", "3", "4", "5"} for q in r if re.fullmatch(r"q\d+", q))
            if r["loai_khao_sat"] == "sipas":
                sipas[(r["ma_don_vi"], r["ngay_khao_sat"][:4])] += 1
    assert sipas and min(sipas.values()) >= 30
    targets = {
        "legal_docs_quality_on_time_rate",
        "work_records_online_rate_commune",
        "online_meeting_ready_units_rate",
    }
    seen = set()
    for path in sorted((root / "self_report").glob("*.csv")):
        for r in read_csv(path):
            assert 0 <= float(r["tu_so"]) <= float(r["mau_so"]) and r["ma_don_vi"] in reg
            seen.add(r["ma_chi_tieu"])
    assert targets <= seen


def test_bieu_ii06a_reads_back_as_a_human_report(clean):
    root, _ = clean
    reg = units(root)
    books = sorted((root / "dossiers").glob("bieu_II06a_*.xlsx"))
    assert any("nganh_doc" in p.name for p in books) and any("huyen" in p.name for p in books)
    periods = set()
    names: list[str] = []
    floats: list[float] = []
    for path in books:
        period = path.stem[-7:]
        b = read_bieu(path)
        names += [str(r[1]) for r in b["data"]]
        floats += [v for r in b["data"] for v in r[2:] if isinstance(v, float)]
        assert "Biểu số II.06a/VPCP/KSTT" in b["title"] and "TÌNH HÌNH, KẾT QUẢ GIẢI QUYẾT" in b["title"]
        assert re.search(r"ngày \d{2} tháng \d{1,2} năm \d{4}", b["title"])
        periods.add("Kỳ báo cáo" in b["title"])
        assert {"Tiếp nhận", "Đã giải quyết", "Đang giải quyết", "STT", "Đơn vị"} <= set(b["merged"].values())
        spans = {v: k for k, v in b["merged"].items()}
        assert spans["Tiếp nhận"].startswith("C") and spans["Tiếp nhận"].split(":")[1].startswith("F")
        assert any(r[:3] == ["(1)", "(2)", "(3)"] for r in b["rows"])
        assert len(b["total"]) == 1 and b["data"]
        for r in b["data"]:
            assert not CODE_RE.match(str(r[1]).strip()), r[1]
            assert len(resolve(reg, str(r[1]), period)) == 1, (path.name, r[1])
            assert num(r[2]) == num(r[3]) + num(r[4]) + num(r[5])
            assert num(r[6]) == num(r[7]) + num(r[8]) + num(r[9])
            assert num(r[10]) == num(r[11]) + num(r[12])
            assert num(r[5]) + num(r[3]) + num(r[4]) - num(r[6]) - num(r[10]) >= 0  # residual tra_lai_rut
    assert periods == {True, False}  # both period-line variants
    assert any(unicodedata.is_normalized("NFD", n) and not unicodedata.is_normalized("NFC", n) for n in names)
    assert floats and all(v.is_integer() for v in floats)


def test_human_and_machine_reports_agree_at_unit_level(clean):
    """The one unit-month sent both ways carries the same totals, so 'machine wins' changes nothing."""
    root, _ = clean
    reg = units(root)
    b = read_bieu(root / "dossiers" / "bieu_II06a_huyen_2022-08.xlsx")
    machine = read_machine(root / "dossiers" / "dossiers_2022-08.csv")
    (row,) = b["data"]
    (code,) = resolve(reg, str(row[1]), "2022-08")
    mine = [r for r in machine if r["ma_don_vi"] == code]
    assert mine and num(row[3]) == sum(int(r["tiep_nhan_truc_tuyen"]) for r in mine)
    assert num(row[5]) == sum(int(r["ton_ky_truoc"]) for r in mine)


def test_nothing_dated_after_as_of(tmp_path):
    as_of = dt.date(2024, 3, 15)
    root = tmp_path / "early"
    summary = generate(root, scale="small", faults="demo", as_of=as_of)
    assert summary["months"]["last_expected"] == "2024-02"
    periods = {p.stem.split("_")[1][:7] for p in machine_files(root)}
    assert max(periods) == "2024-02"
    for path in machine_files(root):
        assert all(dt.datetime.fromisoformat(str(r["ngay_xuat"])).date() < as_of for r in read_machine(path))
    for path in (root / "payments").iterdir():
        for r in read_payments(path):
            assert dt.datetime.fromisoformat(str(r["thoi_diem"])).date() < as_of
    latest = max(r["thoi_diem"][:10] for p in (root / "payments").iterdir() for r in read_payments(p))
    assert latest.startswith("2024-03")  # the running month, partially
    for path in (root / "surveys").glob("*.csv"):
        assert all(dt.date.fromisoformat(r["ngay_khao_sat"]) < as_of for r in read_csv(path))
    for path in (root / "dossiers").glob("*.xlsx"):
        m = re.search(r"ngày (\d+) tháng (\d+) năm (\d{4})", read_bieu(path)["title"])
        assert m and dt.date(int(m[3]), int(m[2]), int(m[1])) < as_of
    reg = units(root)
    assert all(not u["hieu_luc_tu"] or d(u["hieu_luc_tu"]) <= as_of for u in reg.values())
    assert all(not u["hieu_luc_den"] or d(u["hieu_luc_den"]) < as_of for u in reg.values())
    assert not any(u["hieu_luc_tu"] == "2025-07-01" for u in reg.values())
    for p in read_csv(root / "registers" / "procedures.csv"):
        for col in ("ngay_tich_hop_dvcqg", "ngay_tich_hop_tttt", "hieu_luc_tu", "hieu_luc_den"):
            assert not p[col] or d(p[col]) <= as_of
        assert not p["nam_don_gian_hoa"] or int(p["nam_don_gian_hoa"]) <= as_of.year
    assert [p.name for p in sorted((root / "self_report").iterdir())][-1] == "self_report_2023.xlsx"
    assert max(r["nam"] for r in read_csv(root / "national_indices" / "national_indices.csv")) == "2023"


# ---------------------------------------------------------------- planted faults
ALL_KINDS = {
    "missing",
    "late",
    "no_date_line",
    "duplicate_key",
    "unknown_unit_code",
    "unit_outside_validity",
    "unknown_unit_name",
    "ambiguous_unit_name",
    "negative_count",
    "non_integer_count",
    "amount_not_positive",
    "unknown_status",
    "unknown_channel",
    "unknown_survey_type",
    "answer_out_of_range",
    "numerator_above_denominator",
    "unparseable_date",
    "unparseable_number",
    "unknown_procedure",
    "blank_procedure_code",
    "total_mismatch",
    "balance_identity",
    "stock_continuity",
    "outlier",
    "cross_source",
    "truncated_file",
    "not_csv",
    "duplicate_file",
    "wrong_encoding",
    "missing_columns",
    "revised",
    "small_sample",
}


def _unit_rows(root: Path, rec: dict) -> list[dict]:
    return [r for r in read_machine(root / rec["file"]) if r["ma_don_vi"] == rec["unit"]]


def _is_int(v) -> bool:
    return bool(re.fullmatch(r"-?\d+", str(v)))


def check_dossiers(root: Path, rec: dict, reg: dict) -> None:
    kind, period, path = rec["kind"], rec["period"], root / rec["file"] if rec["file"] else None
    first, last = month_bounds(period) if period and len(period) == 7 else (None, None)
    if kind == "missing":
        assert valid_in(reg[rec["unit"]], first, last)
        for p in (root / "dossiers").iterdir():
            if period in p.name and p.suffix in (".csv", ".json"):
                assert not [r for r in read_machine(p) if r["ma_don_vi"] == rec["unit"]]
            if period in p.name and p.suffix == ".xlsx":
                assert all(rec["unit"] not in resolve(reg, str(r[1]), period) for r in read_bieu(p)["data"])
    elif kind == "late" and path.suffix == ".xlsx":
        m = re.search(r"ngày (\d+) tháng (\d+) năm (\d{4})", read_bieu(path)["title"])
        assert dt.date(int(m[3]), int(m[2]), int(m[1])) > last + dt.timedelta(days=10)
    elif kind == "late":
        stamps = {dt.datetime.fromisoformat(r["ngay_xuat"]).date() for r in _unit_rows(root, rec)}
        assert stamps and min(stamps) > last + dt.timedelta(days=10)
    elif kind == "no_date_line":
        assert not re.search(r"ngày \d+ tháng \d+ năm \d{4}", read_bieu(path)["title"])
    elif kind == "unknown_unit_name":
        names = [str(r[1]) for r in read_bieu(path)["data"]]
        assert rec["unit"] in names and resolve(reg, rec["unit"], period) == []
    elif kind == "ambiguous_unit_name":
        names = [str(r[1]) for r in read_bieu(path)["data"]]
        assert rec["unit"] in names and len(resolve(reg, rec["unit"], period)) == 2
    elif kind == "total_mismatch":
        bad = [r for r in read_bieu(path)["data"] if num(r[2]) != num(r[3]) + num(r[4]) + num(r[5])]
        assert bad
    elif kind == "duplicate_key" and path.suffix == ".xlsx":
        names = Counter(str(r[1]) for r in read_bieu(path)["data"])
        assert names[rec["unit"]] == 2
    elif kind == "duplicate_key":
        keys = Counter((r["ma_don_vi"], r["ma_thu_tuc"]) for r in read_machine(path))
        assert keys[(rec["unit"], rec["procedure"])] == 2
    elif kind == "non_integer_count" and path.suffix == ".xlsx":
        assert any(
            isinstance(v, float) and not v.is_integer() for r in read_bieu(path)["data"] for v in r[2:]
        )
    elif kind == "non_integer_count":
        assert any(not _is_int(r[rec["field"]]) and float(r[rec["field"]]) % 1 for r in _unit_rows(root, rec))
    elif kind == "negative_count":
        assert any(int(r[rec["field"]]) < 0 for r in _unit_rows(root, rec))
    elif kind == "unparseable_number":
        values = [r[rec["field"]] for r in _unit_rows(root, rec)]
        bad = [v for v in values if not re.fullmatch(r"-?\d+(\.\d+)?", str(v))]
        assert bad
    elif kind in ("unknown_unit_code", "unit_outside_validity"):
        rows = _unit_rows(root, rec)
        assert rows
        assert (
            rec["unit"] not in reg
            if kind == "unknown_unit_code"
            else not valid_in(reg[rec["unit"]], first, last)
        )
    elif kind == "unknown_procedure":
        procs = {r["ma_thu_tuc"] for r in read_csv(root / "registers" / "procedures.csv")}
        assert rec["procedure"] not in procs and any(
            r["ma_thu_tuc"] == rec["procedure"] for r in _unit_rows(root, rec)
        )
    elif kind == "blank_procedure_code":
        assert any(r["ma_thu_tuc"] == "" for r in _unit_rows(root, rec))
    elif kind == "balance_identity":
        bad = [
            r
            for r in _unit_rows(root, rec)
            if int(r["ton_ky_truoc"]) + sum(int(r[c]) for c in RECEIVED) != sum(int(r[c]) for c in COUNTS[4:])
        ]
        assert bad
    elif kind == "stock_continuity":
        prev = (first - dt.timedelta(days=1)).strftime("%Y-%m")
        before = {
            r["ma_thu_tuc"]: int(r["dang_giai_quyet_trong_han"]) + int(r["dang_giai_quyet_qua_han"])
            for r in read_machine(next(p for p in machine_files(root) if prev in p.name))
            if r["ma_don_vi"] == rec["unit"]
        }
        (row,) = [r for r in _unit_rows(root, rec) if r["ma_thu_tuc"] == rec["procedure"]]
        assert before[rec["procedure"]] != int(row["ton_ky_truoc"])
        assert int(row["ton_ky_truoc"]) + sum(int(row[c]) for c in RECEIVED) == sum(
            int(row[c]) for c in COUNTS[4:]
        )
    elif kind == "outlier":
        totals = defaultdict(int)
        for p in machine_files(root):
            for r in read_machine(p):
                if r["ma_don_vi"] == rec["unit"]:
                    totals[r["ky_bao_cao"]] += sum(int(r[c]) for c in RECEIVED)
        history = [v for k, v in totals.items() if k < period][-12:]
        assert len(history) >= 6 and totals[period] > 3 * statistics.median(history)
    elif kind == "revised":
        v2 = _unit_rows(root, rec)
        v1 = [
            r
            for r in read_machine(root / "dossiers" / f"dossiers_{period}.csv")
            if r["ma_don_vi"] == rec["unit"]
        ]
        assert path.name > f"dossiers_{period}.csv" and v1 and v2
        assert min(r["ngay_xuat"] for r in v2) > max(r["ngay_xuat"] for r in v1)
        assert [tuple(r[c] for c in COUNTS) for r in v1] != [tuple(r[c] for c in COUNTS) for r in v2]
    elif kind == "duplicate_file":
        twin = root / "dossiers" / f"dossiers_{period}.csv"
        assert path.read_bytes() == twin.read_bytes() and path != twin
    elif kind == "not_csv":
        with pytest.raises(UnicodeDecodeError):
            path.read_bytes().decode("utf-8")
    else:
        pytest.fail(f"no check for dossiers/{kind}")


def check_payments(root: Path, rec: dict, reg: dict) -> None:
    kind, path = rec["kind"], root / rec["file"]
    if kind == "truncated_file":
        data = path.read_bytes()
        last_line = data.decode("utf-8-sig").split("\n")[-1]
        header = data.decode("utf-8-sig").split("\n")[0]
        assert not data.endswith(b"\n") and 0 < last_line.count(",") < header.count(",")
        return
    if kind == "resent_file":
        rows = read_csv(path)
        assert rows and all(len(r) == 8 and None not in r.values() for r in rows)
        return
    rows = read_payments(path)
    if kind == "cross_source":
        ok = [r for r in rows if r["ma_don_vi"] == rec["unit"] and r["trang_thai"] == "thanh_cong"]
        assert any(r["kenh"] in ("dvcqg", "cong_tinh") for r in ok)
        dossier = [r for r in read_machine(root / "dossiers" / f"dossiers_{rec['period']}.csv")]
        assert sum(sum(int(r[c]) for c in RECEIVED) for r in dossier if r["ma_don_vi"] == rec["unit"]) == 0
        return
    mine = [r for r in rows if r["ma_giao_dich"] == rec["id"]]
    if kind == "duplicate_key":
        assert len(mine) == 2 and mine[0] != mine[1]
        return
    (r,) = mine
    procs = {p["ma_thu_tuc"] for p in read_csv(root / "registers" / "procedures.csv")}
    if kind == "amount_not_positive":
        assert int(r["so_tien"]) <= 0
    elif kind == "unknown_status":
        assert r["trang_thai"] not in {"thanh_cong", "that_bai", "hoan_tien"}
    elif kind == "unknown_channel":
        assert r["kenh"] not in {"dvcqg", "cong_tinh", "truc_tiep"}
    elif kind == "unparseable_date":
        with pytest.raises(ValueError):
            dt.datetime.fromisoformat(r["thoi_diem"])
    elif kind == "unparseable_number":
        with pytest.raises(ValueError):
            int(r["so_tien"])
    elif kind == "unknown_procedure":
        assert r["ma_thu_tuc"] not in procs
    elif kind == "unknown_unit_code":
        assert r["ma_don_vi"] not in reg
    elif kind == "unit_outside_validity":
        first, last = month_bounds(rec["period"])
        assert not valid_in(reg[r["ma_don_vi"]], first, last)
    else:
        pytest.fail(f"no check for payments/{kind}")


def check_surveys(root: Path, rec: dict, reg: dict) -> None:
    kind = rec["kind"]
    if kind == "small_sample":
        n = sum(
            1
            for p in (root / "surveys").glob(f"surveys_{rec['period']}*.csv")
            for r in read_csv(p)
            if r.get("ma_don_vi") == rec["unit"] and r["loai_khao_sat"] == "sipas"
        )
        assert 0 < n < 30
        return
    path = root / rec["file"]
    if kind == "missing_columns":
        header = path.read_text(encoding="utf-8-sig").splitlines()[0].split(",")
        assert "ma_don_vi" not in header and "ma_phieu" in header
        return
    rows = [r for r in read_csv(path) if r["ma_phieu"] == rec["id"]]
    if kind == "duplicate_key":
        assert len(rows) == 2 and rows[0] != rows[1]
        return
    (r,) = rows
    if kind == "unknown_unit_code":
        assert r["ma_don_vi"] not in reg
    elif kind == "unparseable_date":
        with pytest.raises(ValueError):
            dt.date.fromisoformat(r["ngay_khao_sat"])
    elif kind == "unknown_survey_type":
        assert r["loai_khao_sat"] not in {"sipas", "cqhc", "y_te", "giao_duc"}
    elif kind == "answer_out_of_range":
        assert any(r[q] and not 1 <= int(r[q]) <= 5 for q in r if re.fullmatch(r"q\d+", q))
    elif kind == "unknown_channel":
        assert r["kenh"] not in {"truc_tuyen", "giay", "kiosk"}
    else:
        pytest.fail(f"no check for surveys/{kind}")


def check_self_report(root: Path, rec: dict, reg: dict) -> None:
    kind, path = rec["kind"], root / rec["file"]
    if kind == "wrong_encoding":
        with pytest.raises(UnicodeDecodeError):
            path.read_bytes().decode("utf-8")
        return
    rows = [r for r in read_csv(path) if r["ma_don_vi"] == rec["unit"] and r["ma_chi_tieu"] == rec["kpi"]]
    if kind == "duplicate_key":
        assert len(rows) == 2
    elif kind == "unparseable_number":
        with pytest.raises(ValueError):
            float(rows[0]["tu_so"])
    elif kind == "numerator_above_denominator":
        assert float(rows[0]["tu_so"]) > float(rows[0]["mau_so"])
    elif kind == "unknown_unit_code":
        assert rows and rec["unit"] not in reg
    elif kind == "revised":
        base = next((root / "self_report").glob(f"self_report_{rec['period']}.*"))
        assert base.suffix == ".csv" and path.name > base.name
        (old,) = [
            r for r in read_csv(base) if r["ma_don_vi"] == rec["unit"] and r["ma_chi_tieu"] == rec["kpi"]
        ][:1] or [None]
        assert old is not None and rows and rows[0]["tu_so"] != old["tu_so"]
    else:
        pytest.fail(f"no check for self_report/{kind}")


def test_all_faults_are_really_in_the_files(faulty):
    root, summary = faulty
    injected = summary["injected"]
    assert ALL_KINDS <= {i["kind"] for i in injected}
    dup_feeds = {i["feed"] for i in injected if i["kind"] == "duplicate_key"}
    assert dup_feeds == {"dossiers", "payments", "surveys", "self_report"}
    reg = units(root)
    checks = {
        "dossiers": check_dossiers,
        "payments": check_payments,
        "surveys": check_surveys,
        "self_report": check_self_report,
    }
    for rec in injected:
        try:
            checks[rec["feed"]](root, rec, reg)
        except AssertionError as exc:  # pragma: no cover - message helps when a fault goes missing
            raise AssertionError(f"{rec}: {exc}") from exc


def test_demo_faults_are_a_few_realistic_gaps(tmp_path):
    summary = generate(tmp_path / "demo", scale="small", faults="demo", as_of=AS_OF)
    kinds = Counter(i["kind"] for i in summary["injected"])
    assert 2 <= kinds["missing"] <= 4 and kinds["late"] == 2 and kinds["unknown_unit_name"] == 1
    assert kinds["revised"] >= 1 and kinds["small_sample"] >= 1
    assert sum(kinds.values()) < 25
    assert (tmp_path / "demo" / "dossiers" / "dossiers_2024-05_v2.csv").exists()
    assert not (tmp_path / "demo" / "dossiers" / "bao_cao_scan.csv").exists()


def test_summary_counts_rows(clean):
    root, summary = clean
    n = sum(len(read_csv(root / f)) for f in summary["file_names"]["payments"] if f.endswith(".csv"))
    n += sum(len(read_payments(root / f)) for f in summary["file_names"]["payments"] if f.endswith(".jsonl"))
    assert n == summary["rows"]["payments"]
    text = io.StringIO((root / "registers" / "units.csv").read_text(encoding="utf-8"))
    assert summary["rows"]["registers"] == len(list(csv.reader(text))) - 1 + len(
        read_csv(root / "registers" / "procedures.csv")
    )


def test_procedure_codes_are_unique_at_every_scale():
    """A generated code once collided with a curated fixed one at province scale: the register's
    duplicate then quarantined a procedure received by every commune."""
    from pipelines.sample.procedures import build_catalogue

    handlers = {f"S{i:02d}" for i in range(1, 40)}
    for scale in ("small", "demo", "province"):
        codes = Counter(p.code for p in build_catalogue(scale, AS_OF, 5158, handlers))
        assert [c for c, n in codes.items() if n > 1] == [], scale
