"""`make bench`: the pipeline on five years of Nghệ An-sized data, measured (issue: province scale).

1. Province-scale exports (generated once into sources/bench/, 2021 .. the bench as-of date).
2. Full run from an empty warehouse, in a subprocess: wall time and peak RSS of the whole process tree
   (sampled from /proc every 0.2 s), per stage from Dagster's step events and in total.
3. Incremental run after one new month of exports arrives (as-of moved on by a month); with
   `--incremental-runs N`, N times, each from the same state after the full run (the VM's speed
   varies by ±30 % within minutes: one sample says little), reporting each and the median.
4. The floor: the same unit-year KPIs from one plain DuckDB SQL script over the export files.
Prints the ratios full/floor and incremental/full, and writes everything to bench/results/*.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
FULL_AS_OF = date(2025, 12, 15)  # 2021-01 .. 2025-11 expected
NEXT_AS_OF = date(2026, 1, 15)  # one more month (2025-12) arrives and becomes expected
STAGES = {
    "ingest": ("raw__",),
    "dbt": ("par_dbt",),
    "suites": ("check", "gx", "quality"),
    "ranking": ("marts__par_ranking",),
    "reports": ("reports__",),
    "publish": ("publish__",),
}


def _tree_rss(pid: int) -> int:
    """RSS in bytes of a process and all its descendants."""
    total = 0
    stack = [pid]
    seen = set()
    while stack:
        p = stack.pop()
        if p in seen:
            continue
        seen.add(p)
        try:
            with open(f"/proc/{p}/status") as handle:
                for line in handle:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) * 1024
                        break
            with open(f"/proc/{p}/task/{p}/children") as handle:
                stack.extend(int(c) for c in handle.read().split())
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
    return total


class Sampler:
    def __init__(self, pid: int, every: float = 0.2):
        self.pid, self.every, self.samples = pid, every, []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            self.samples.append((time.time(), _tree_rss(self.pid)))
            time.sleep(self.every)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    def peak(self, start: float = 0.0, end: float = float("inf")) -> int:
        return max((rss for t, rss in self.samples if start <= t <= end), default=0)


def run_pipeline(env: dict, label: str) -> dict:
    """Run the main job in a subprocess; return wall time, peak RSS and per-stage figures."""
    home = Path(env["DAGSTER_HOME"])
    home.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "dagster.yaml", home / "dagster.yaml")
    start = time.time()
    proc = subprocess.Popen(
        [sys.executable, "-m", "pipelines", "job"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    with Sampler(proc.pid) as sampler:
        output, _ = proc.communicate()
    wall = time.time() - start
    (BENCH / "results").mkdir(parents=True, exist_ok=True)
    (BENCH / "results" / f"{label}.log").write_text(output)
    if proc.returncode != 0:
        raise SystemExit(f"{label}: the pipeline failed (see bench/results/{label}.log)")
    stages = _stage_figures(env, sampler)
    return {"wall_s": round(wall, 2), "peak_rss_mib": round(sampler.peak() / 2**20, 1), "stages": stages}


def _stage_figures(env: dict, sampler: Sampler) -> dict:
    os.environ["DAGSTER_HOME"] = env["DAGSTER_HOME"]
    from dagster import DagsterInstance

    instance = DagsterInstance.get()
    run = instance.get_runs(limit=1)[0]
    figures: dict[str, dict] = {}
    for step in instance.get_run_step_stats(run.run_id):
        stage = next(
            (s for s, prefixes in STAGES.items() if step.step_key.startswith(prefixes)), step.step_key
        )
        entry = figures.setdefault(stage, {"wall_s": 0.0, "peak_rss_mib": 0.0, "steps": 0})
        if step.start_time and step.end_time:
            entry["wall_s"] = round(entry["wall_s"] + (step.end_time - step.start_time), 2)
            peak = sampler.peak(step.start_time, step.end_time) / 2**20
            entry["peak_rss_mib"] = round(max(entry["peak_rss_mib"], peak), 1)
        entry["steps"] += 1
    return figures


FLOOR_SQL = """
CREATE OR REPLACE TABLE floor_dossiers AS
SELECT ma_don_vi, year(CAST(ky_bao_cao || '-01' AS DATE)) AS year,
       sum(tiep_nhan_truc_tuyen) AS online, sum(tiep_nhan_truc_tuyen + tiep_nhan_truc_tiep + tiep_nhan_buu_chinh) AS received,
       sum(da_giai_quyet_truoc_han + da_giai_quyet_dung_han) AS in_time,
       sum(da_giai_quyet_truoc_han + da_giai_quyet_dung_han + da_giai_quyet_qua_han) AS resolved
FROM read_csv('{src}/dossiers/*.csv', union_by_name = true, all_varchar = false)
GROUP BY ALL;
CREATE OR REPLACE TABLE floor_payments AS
SELECT ma_don_vi, year(CAST(thoi_diem AS TIMESTAMP)) AS year,
       count(*) FILTER (WHERE trang_thai = 'thanh_cong' AND kenh IN ('dvcqg', 'cong_tinh')) AS online_ok,
       count(*) FILTER (WHERE trang_thai = 'thanh_cong') AS ok
FROM read_csv('{src}/payments/*.csv', union_by_name = true, types = {{'thoi_diem': 'VARCHAR'}})
GROUP BY ALL;
CREATE OR REPLACE TABLE floor_surveys AS
SELECT ma_don_vi, year(CAST(ngay_khao_sat AS DATE)) AS year, loai_khao_sat,
       sum((q1 >= 4)::INT + (q2 >= 4)::INT + (q3 >= 4)::INT + (q4 >= 4)::INT + (q5 >= 4)::INT) AS satisfied,
       sum((q1 IS NOT NULL)::INT + (q2 IS NOT NULL)::INT + (q3 IS NOT NULL)::INT + (q4 IS NOT NULL)::INT
           + (q5 IS NOT NULL)::INT) AS answers
FROM read_csv('{src}/surveys/*.csv', union_by_name = true)
GROUP BY ALL;
CREATE OR REPLACE TABLE floor_kpi_unit_year AS
SELECT ma_don_vi, year, 'online_dossier_rate' AS kpi, online / nullif(received, 0) AS value FROM floor_dossiers
UNION ALL SELECT ma_don_vi, year, 'on_time_rate', in_time / nullif(resolved, 0) FROM floor_dossiers
UNION ALL SELECT ma_don_vi, year, 'online_payment_txn_rate', online_ok / nullif(ok, 0) FROM floor_payments
UNION ALL SELECT ma_don_vi, year, 'satisfaction_' || loai_khao_sat, satisfied / nullif(answers, 0) FROM floor_surveys;
"""


def run_floor(src: Path) -> dict:
    import duckdb

    start = time.time()
    with Sampler(os.getpid()) as sampler:
        con = duckdb.connect()
        for statement in FLOOR_SQL.format(src=src).split(";\n"):
            if statement.strip():
                con.execute(statement)
        rows = con.execute("SELECT count(*) FROM floor_kpi_unit_year").fetchone()[0]
        con.close()
    return {
        "wall_s": round(time.time() - start, 2),
        "peak_rss_mib": round(sampler.peak() / 2**20, 1),
        "rows": rows,
    }


def ensure_data(src: Path, as_of: date) -> dict:
    from pipelines.sample.generator import generate

    marker = src / ".complete"
    if marker.exists():
        return json.loads(marker.read_text())
    shutil.rmtree(src, ignore_errors=True)
    start = time.time()
    summary = generate(src, scale="province", faults="demo", as_of=as_of)
    info = {"generate_s": round(time.time() - start, 1), "summary": summary}
    marker.write_text(json.dumps(info, default=str))
    return info


def add_next_month(run_src: Path, as_of: date) -> list[str]:
    """Generate the data as of a month later beside the bench data and link into the run's sources
    only the new month's exports (the generator is deterministic, so earlier months are unchanged)."""
    from pipelines.sample.generator import generate

    later = BENCH / "next_month"
    if not (later / ".complete").exists():
        shutil.rmtree(later, ignore_errors=True)
        generate(later, scale="province", faults="demo", as_of=as_of)
        (later / ".complete").write_text("ok")
    new_files = []
    for path in sorted(later.rglob("*")):
        rel = path.relative_to(later)
        target = run_src / rel
        if path.is_file() and not path.name.startswith(".") and not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            os.link(path, target)
            new_files.append(str(rel))
    return new_files


# State of a run that is written once and replaced, never changed in place (the archive writes a temp
# file and renames it): hard links in a snapshot. Everything else under the work folder is copied.
LINKED = ("sources", "warehouse/archive")
PARTIAL_PARSE = ROOT / "dbt_project" / "target" / "partial_parse.msgpack"


def _copy_state(source: Path, target: Path) -> None:
    """Copy a work folder, hard-linking the LINKED trees (the exports and their archive copies)."""
    linked = [source / rel for rel in LINKED]

    def copy(src: str, dst: str) -> None:
        if any(Path(src).is_relative_to(tree) for tree in linked):
            os.link(src, dst)
        else:
            shutil.copy2(src, dst)

    shutil.copytree(source, target, copy_function=copy)


def snapshot_work(work: Path, snapshot: Path, partial_parse: Path = PARTIAL_PARSE) -> None:
    """The state after the full run, to start every incremental run from: the work folder and dbt's
    partial parse (so each incremental run re-parses what a real night re-parses, not less)."""
    shutil.rmtree(snapshot, ignore_errors=True)
    _copy_state(work, snapshot / "work")
    if partial_parse.exists():
        shutil.copy2(partial_parse, snapshot / partial_parse.name)


def restore_work(snapshot: Path, work: Path, partial_parse: Path = PARTIAL_PARSE) -> None:
    shutil.rmtree(work, ignore_errors=True)
    _copy_state(snapshot / "work", work)
    if (snapshot / partial_parse.name).exists():
        shutil.copy2(snapshot / partial_parse.name, partial_parse)


def run_incremental(work: Path, env: dict, runs: int) -> dict:
    """The incremental run, `runs` times from the state after the full run; its figures are the
    median run's, with every run's wall time beside them."""
    snapshot = BENCH / "snapshot_full"
    if runs > 1:
        snapshot_work(work, snapshot)
    samples = []
    try:
        for i in range(runs):
            if i:
                restore_work(snapshot, work)
            new_files = add_next_month(work / "sources", NEXT_AS_OF)
            figures = run_pipeline({**env, "PAR_AS_OF": NEXT_AS_OF.isoformat()}, "incremental")
            figures["new_files"] = len(new_files)
            samples.append(figures)
            print(f"incremental run {i + 1}/{runs}: {figures['wall_s']} s", flush=True)
    finally:
        shutil.rmtree(snapshot, ignore_errors=True)
    return median_run(samples)


def median_run(samples: list[dict]) -> dict:
    """The figures of the median run by wall time (the lower of the two middle ones for an even count:
    a real run's figures, never an average of two), with every run's wall time in run order."""
    median = sorted(samples, key=lambda f: f["wall_s"])[(len(samples) - 1) // 2]
    return {**median, "runs_wall_s": [f["wall_s"] for f in samples]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--skip-incremental", action="store_true")
    parser.add_argument(
        "--incremental-runs",
        type=int,
        default=1,
        help="incremental runs from the same state (median reported)",
    )
    args = parser.parse_args(argv)
    src = BENCH / "sources"
    work = BENCH / "work"
    data = ensure_data(src, FULL_AS_OF)
    print(f"province-scale exports in {src} (generated in {data['generate_s']} s)", flush=True)
    floor = run_floor(src)
    print(f"floor (plain DuckDB SQL over the files): {floor}", flush=True)

    shutil.rmtree(work, ignore_errors=True)
    # the run reads hard links of the generated exports, so the new month added for the incremental
    # run never leaks into the next bench's full run
    run_src = work / "sources"
    shutil.copytree(src, run_src, copy_function=os.link, ignore=shutil.ignore_patterns(".*"))
    env = {
        **os.environ,
        "PAR_SOURCES": str(run_src),
        "PAR_WAREHOUSE": str(work / "warehouse" / "par.duckdb"),
        "PAR_REPORTS": str(work / "reports"),
        "PAR_AS_OF": FULL_AS_OF.isoformat(),
        "DAGSTER_HOME": str(work / "dagster_home"),
        "GX_ANALYTICS_ENABLED": "False",
    }
    full = run_pipeline(env, "full")
    print(f"full run: {json.dumps(full, indent=1)}", flush=True)
    result = {
        "machine": {"cores": os.cpu_count(), "python": sys.version.split()[0]},
        "data": data.get("summary", {}),
        "floor": floor,
        "full": full,
        "full_over_floor": round(full["wall_s"] / max(floor["wall_s"], 1e-9), 2),
    }
    if not args.skip_incremental:
        incremental = run_incremental(work, env, max(1, args.incremental_runs))
        result["incremental"] = incremental
        result["incremental_over_full"] = round(incremental["wall_s"] / full["wall_s"], 3)
        print(f"incremental run: {json.dumps(incremental, indent=1)}", flush=True)
    stamp = time.strftime("%Y%m%dT%H%M%S")
    out = BENCH / "results" / f"bench-{stamp}.json"
    out.write_text(json.dumps(result, indent=1, default=str))
    print(f"\nfull/floor = {result['full_over_floor']}", end="")
    if "incremental_over_full" in result:
        print(f"   incremental/full = {result['incremental_over_full']}", end="")
    print(f"\nfigures written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
