"""Shared helpers of the fault drills: source trees, runs in subprocesses, and snapshots of the end state.

A snapshot is a plain dict of sorted row lists, so two warehouses compare with `==` and a failing drill
shows which table differs. Columns that depend on where and when an export arrived (paths, arrival
times) are left out: the drills copy the same sources to several places.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb

from pipelines.lib.config import FEEDS, REGISTERS, load_settings
from pipelines.lib.warehouse import connect
from pipelines.ranking import publish_ranking

REPO = Path(__file__).resolve().parents[2]
DBT_DIR = REPO / "dbt_project"
AS_OF = dt.date(2021, 4, 20)  # four months of the small sample: every feed, every planted fault, quick
HERE = Path(__file__).resolve().parent

# raw.exports without where/when it arrived (origin_uri, arrived_at, archive_path differ per copy)
EXPORT_COLUMNS = (
    "export_id, feed, file_name, origin, size_bytes, sort_key, parse_status, parse_reason, report_kind, "
    "report_period, report_date, rows_parsed"
)
RAW_TABLES = [*(f"raw.{f}" for f in (*REGISTERS, *FEEDS))]
RAW_TABLES += ["raw.quarantine_rows", "raw.unit_keys", "raw.unit_name_map", "raw.checked_exports"]


def env_for(root: Path, **extra: str) -> dict[str, str]:
    """Environment of a run over `root`/sources into `root`/wh (archive and published copy beside it)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PAR_") and k not in ("DAGSTER_HOME",)}
    env.update(
        {
            "PAR_SOURCES": str(root / "sources"),
            "PAR_WAREHOUSE": str(root / "wh" / "par.duckdb"),
            "PAR_REPORTS": str(root / "reports"),
            "PAR_AS_OF": AS_OF.isoformat(),
            "GX_ANALYTICS_ENABLED": "False",
            "NO_PROXY": "127.0.0.1,localhost",
            **extra,
        }
    )
    return env


def settings_for(root: Path, **extra: str):
    return load_settings(env_for(root, **extra))


def copy_sources(src: Path, root: Path) -> None:
    shutil.copytree(src, root / "sources")


# --- runs -----------------------------------------------------------------------------------------------


def dbt_build(root: Path, *, select: str | None = None, timeout: float = 240, **extra: str) -> None:
    """The dbt part of a run, as the job runs it (same vars), models and seeds only: data tests do not
    change the marts; then the ranking's publication (the job's step after the gate). Target and logs go
    under `root`, never into the shared project folder."""
    settings = settings_for(root, **extra)
    args = [
        str(Path(sys.executable).with_name("dbt")),
        "build",
        "--quiet",
        "--exclude-resource-type",
        "test",
        "--exclude-resource-type",
        "unit_test",
        "--profiles-dir",
        str(DBT_DIR),
        "--target-path",
        str(root / "dbt_target"),
        "--log-path",
        str(root / "dbt_target"),
        "--vars",
        json.dumps(settings.dbt_vars()),
    ]
    if select:
        args += ["--select", select]
    env = env_for(root, **extra)
    env["PAR_WAREHOUSE"] = str(settings.warehouse.resolve())
    done = subprocess.run(args, cwd=DBT_DIR, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"dbt build failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    if select is None:  # then the step after the gate, which passes on the drills' data
        with connect(settings.warehouse) as con:
            publish_ranking(con)


def start_job(root: Path, log: Path, **extra: str) -> subprocess.Popen:
    """`python -m pipelines job` in its own process group (so a SIGKILL takes dbt down with it)."""
    handle = log.open("w")
    return subprocess.Popen(
        [sys.executable, "-m", "pipelines", "job"],
        cwd=root,
        env=env_for(root, **extra),
        stdout=handle,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def wait_job(proc: subprocess.Popen, log: Path, timeout: float = 300) -> str:
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill_group(proc)
        raise AssertionError(f"job did not finish in {timeout}s:\n{tail(log)}") from None
    return log.read_text(errors="replace")


def kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait(timeout=30)


def tail(path: Path, n: int = 60) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-n:])


def group_commands(pgid: int) -> list[str]:
    """Command lines of the live processes of a process group (Linux /proc; no psutil needed)."""
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            fields = stat[stat.rindex(")") + 2 :].split()
            if int(fields[2]) == pgid and fields[0] != "Z":
                out.append((entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace"))
        except (OSError, ValueError, IndexError):
            continue
    return out


def crash_child(root: Path, point: str, n: int = 1, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run the ingestion of every feed in a subprocess that SIGKILLs itself at `point` (crash_child.py)."""
    return subprocess.run(
        [sys.executable, str(HERE / "crash_child.py"), point, str(n)],
        cwd=root,
        env=env_for(root),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


# --- end state ------------------------------------------------------------------------------------------


def _norm(value):
    if isinstance(value, float):
        return round(value, 9)  # parallel sums of doubles may differ in the last bit between runs
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True, default=str)
    if isinstance(value, list):
        return tuple(_norm(v) for v in value)
    return value


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple]:
    rows = [tuple(_norm(v) for v in r) for r in con.execute(sql).fetchall()]
    return sorted(rows, key=repr)


def tables_of(con: duckdb.DuckDBPyConnection, schema: str) -> list[str]:
    return [
        r[0]
        for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = ? ORDER BY 1", [schema]
        ).fetchall()
    ]


def marts_snapshot(db: Path) -> dict[str, list[tuple]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {f"marts.{t}": _rows(con, f"SELECT * FROM marts.{t}") for t in tables_of(con, "marts")}
    finally:
        con.close()


def raw_snapshot(db: Path) -> dict[str, list[tuple]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        out = {"raw.exports": _rows(con, f"SELECT {EXPORT_COLUMNS} FROM raw.exports")}
        out["raw.export_arrivals"] = _rows(
            con, "SELECT DISTINCT export_id, feed, file_name FROM raw.export_arrivals"
        )
        for table in RAW_TABLES:
            out[table] = _rows(con, f"SELECT * FROM {table}")
        return out
    finally:
        con.close()


def archive_listing(archive: Path) -> list[str]:
    return sorted(str(p.relative_to(archive)) for p in archive.rglob("*") if p.is_file())


def check_archive(archive: Path, db: Path) -> None:
    """Every archived export is whole (its name is the hash of its bytes), has its sidecar, is known to
    raw.exports, and no temporary file is left behind."""
    files = [p for p in archive.rglob("*") if p.is_file()]
    stale = [p.name for p in files if ".tmp" in p.name]
    assert stale == [], f"stale temporary files in the archive: {stale}"
    exports = [p for p in files if not p.name.endswith(".meta.json")]
    for path in exports:
        assert hashlib.sha256(path.read_bytes()).hexdigest() == path.name.split(".")[0], path
        sidecar = path.with_name(path.name.split(".")[0] + ".meta.json")
        assert sidecar.exists(), f"no sidecar for {path.name}"
        assert json.loads(sidecar.read_text(encoding="utf-8"))["arrivals"], sidecar
    con = duckdb.connect(str(db), read_only=True)
    try:
        known = {r[0] for r in con.execute("SELECT export_id FROM raw.exports").fetchall()}
    finally:
        con.close()
    assert {p.name.split(".")[0] for p in exports} == known


def check_no_half_loaded_export(db: Path) -> None:
    """Every export is either fully checked (each of its rows once, loaded or quarantined) or has left
    no row at all."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        for feed in FEEDS:
            exists = con.execute(
                "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'raw' AND table_name = ?",
                [feed],
            ).fetchone()[0]
            if not exists:
                continue
            bad = con.execute(
                f"""WITH rows AS (
                        SELECT export_id, row_number FROM raw.{feed}
                        UNION ALL
                        SELECT export_id, row_number FROM raw.quarantine_rows WHERE feed = ?
                    )
                    SELECT e.file_name, e.parse_status, e.rows_parsed, c.export_id IS NOT NULL AS checked,
                           count(r.export_id), count(DISTINCT r.row_number)
                    FROM raw.exports e
                    LEFT JOIN raw.checked_exports c ON c.feed = e.feed AND c.export_id = e.export_id
                    LEFT JOIN rows r ON r.export_id = e.export_id
                    WHERE e.feed = ?
                    GROUP BY ALL
                    HAVING (checked AND (count(r.export_id) <> e.rows_parsed
                                         OR count(DISTINCT r.row_number) <> e.rows_parsed))
                        OR (NOT checked AND count(r.export_id) > 0)""",
                [feed, feed],
            ).fetchall()
            assert bad == [], f"{feed}: half-loaded or duplicated exports {bad}"
    finally:
        con.close()


def exports_read_not_checked(db: Path, feed: str = "dossiers") -> int:
    """Exports of `feed` read (parsed) but whose rows are not checked yet: the state between reading a
    batch and checking it."""
    with connect(db, read_only=True) as con:
        return con.execute(
            """SELECT count(*) FROM raw.exports WHERE feed = ? AND parse_status = 'parsed'
               AND export_id NOT IN (SELECT export_id FROM raw.checked_exports WHERE feed = ?)""",
            [feed, feed],
        ).fetchone()[0]


def leftover_relations(db: Path) -> list[str]:
    """dbt's temporary/backup relations left by a build that was killed."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        return [
            f"{s}.{t}"
            for s, t in con.execute(
                "SELECT table_schema, table_name FROM information_schema.tables "
                "WHERE table_name LIKE '%__dbt_tmp%' OR table_name LIKE '%__dbt_backup%'"
            ).fetchall()
        ]
    finally:
        con.close()


def diff(a: dict, b: dict) -> list[str]:
    """Names of the tables that differ (and why, briefly), for assertion messages."""
    out = []
    for key in sorted(set(a) | set(b)):
        if key not in a or key not in b:
            out.append(f"{key}: only in {'second' if key not in a else 'first'}")
        elif a[key] != b[key]:
            extra = [r for r in a[key] if r not in b[key]][:2]
            missing = [r for r in b[key] if r not in a[key]][:2]
            out.append(f"{key}: {len(a[key])} vs {len(b[key])} rows; e.g. {extra} / {missing}")
    return out


def wait_for(predicate, timeout: float, what: str, interval: float = 0.1) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")
