"""Ingest one feed: collect its exports (folder and/or HTTP), archive them, then read and check each
export not checked yet (every export again when the registers or the checks changed).

Each export is read in its own transaction, and a batch of read exports is checked and appended in one:
a crash at any point leaves the archive and the warehouse in a state from which the next run simply
continues (an export read but not checked is read again).
"""

from __future__ import annotations

import csv
import logging
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb

from pipelines.ingest import bieu_ii06a
from pipelines.ingest.feeds import (
    FEED_SPECS,
    PERSONAL_COLUMNS,
    check,
    fingerprint,
    is_current,
    reset,
    text_table,
    text_table_ddl,
)
from pipelines.ingest.readers import (
    EXPORT_TABLE,
    ExportFormatError,
    quote_ident,
    read_machine_export,
    store_export,
)
from pipelines.lib.archive import Archive, ArchivedExport
from pipelines.lib.config import PROGRAMME_FIRST_YEAR, REGISTERS, Settings
from pipelines.lib.names import name_key, register_keys
from pipelines.lib.warehouse import ensure_raw_schema, table_exists
from pipelines.quality.feed_groups import keep_groups
from pipelines.quality.frames import FEED_GROUPS

log = logging.getLogger(__name__)
PROGRAM_TARGETS = Path(__file__).resolve().parents[2] / "dbt_project" / "seeds" / "program_targets.csv"


@dataclass
class IngestResult:
    feed: str
    exports_seen: int = 0
    exports_new: int = 0
    exports_parsed: int = 0
    exports_quarantined: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    quarantine_reasons: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def feed_folder(sources: Path, feed: str) -> Path:
    if feed in REGISTERS:  # both registers live in sources/registers, named after the feed
        return sources / "registers"
    return sources / feed


def discover_files(sources: Path, feed: str) -> list[Path]:
    """Files of a feed folder, in name order. Links that lead outside the sources folder, hidden
    files and partial downloads are passed over."""
    folder = feed_folder(sources, feed)
    if not folder.is_dir():
        return []
    root = sources.resolve()
    files = []
    for path in sorted(folder.rglob("*")):
        if not path.is_file() or path.name.startswith((".", "~$")) or path.suffix in (".part", ".tmp"):
            continue
        try:
            if not path.resolve().is_relative_to(root):
                log.warning("%s: %s leads outside the sources folder; skipped", feed, path.name)
                continue
        except OSError:
            continue
        if feed in REGISTERS and not path.stem.lower().startswith(feed):
            continue
        files.append(path)
    return files


def collect(
    settings: Settings, feed: str, con: duckdb.DuckDBPyConnection, archive: Archive
) -> list[ArchivedExport]:
    exports = archive.add_files(feed, discover_files(settings.sources, feed))
    url = settings.feed_url(feed)
    if url and feed not in REGISTERS:
        exports.extend(_pull_http(settings, feed, url, con, archive))
    return exports


def _pull_http(
    settings: Settings, feed: str, url: str, con: duckdb.DuckDBPyConnection, archive: Archive
) -> list[ArchivedExport]:
    """One pull per calendar month. A month is pulled again until a pull made after its reporting
    deadline is archived; then it is final and never pulled again."""
    from pipelines.lib.http_source import month_windows, pull_feed

    closed = _closed_windows(con, feed)
    out = []
    for start, end in month_windows(date(PROGRAMME_FIRST_YEAR, 1, 1), settings.as_of):
        name = f"{feed}_{start.isoformat()}_{end.isoformat()}.json"
        if name in closed:
            continue
        export = pull_feed(feed, url, date_from=start, date_to=end, token=settings.feed_token(feed), log=log)
        out.append(
            archive.add_bytes(feed, export.name, export.content, origin="http", origin_uri=export.origin_uri)
        )
    return out


def _closed_windows(con: duckdb.DuckDBPyConnection, feed: str) -> set[str]:
    rows = con.execute(
        """SELECT file_name FROM raw.export_arrivals
           WHERE feed = ? AND origin_uri LIKE 'http%'
             AND CAST(arrived_at + INTERVAL 7 HOUR AS DATE)
                 > last_day(CAST(regexp_extract(file_name, '_([0-9]{4}-[0-9]{2}-[0-9]{2})\\.json$', 1) AS DATE))
                   + INTERVAL 10 DAY""",
        [feed],
    ).fetchall()
    return {r[0] for r in rows}


def _insert_text(
    con: duckdb.DuckDBPyConnection, feed: str, export_id: str, available: list[str], extra: dict, meta: dict
) -> int:
    """Copy the export's cells into `_text_<feed>`, each row with its export's manifest fields (name,
    sort key, Biểu II.06a period and date), so the checks need no join per row."""
    spec = FEED_SPECS[feed]
    select = []
    for col in spec.columns:
        if col in extra:
            select.append(f"{extra[col]} AS {col}")
        elif col in available:
            select.append(f"CAST({quote_ident(col)} AS VARCHAR) AS {col}")
        else:
            select.append(f"NULL AS {col}")
    source_format = f", {extra['source_format']}" if "source_format" in extra else ""
    file_name, key = con.execute(
        "SELECT file_name, sort_key FROM raw.exports WHERE export_id = ?", [export_id]
    ).fetchone()
    return con.execute(
        f"INSERT INTO {text_table(feed)} SELECT ?, _row{source_format}, {', '.join(select)}, "
        f"?, ?, ?, ?, CAST(? AS DATE) FROM {EXPORT_TABLE}",
        [export_id, file_name, key, meta["report_kind"], meta["report_period"], meta["report_date"]],
    ).fetchone()[0]


def parse_export(
    con: duckdb.DuckDBPyConnection, feed: str, export_id: str, path: Path
) -> tuple[str, str | None, int]:
    """Read one archived export into `_text_<feed>` and record the outcome in `raw.exports`, inside the
    transaction the caller began. An export that cannot be read rolls that transaction back (it leaves
    no row) and is quarantined as a whole."""
    spec = FEED_SPECS[feed]
    meta: dict[str, object] = {"report_kind": None, "report_period": None, "report_date": None}
    try:
        if feed == "dossiers" and path.suffix.lower() in (".xlsx", ".xlsm"):
            report = bieu_ii06a.parse(path)
            _load_human_rows(con, report)
            meta = {"report_kind": "human", "report_period": report.period, "report_date": report.report_date}
            n = _insert_text(
                con,
                feed,
                export_id,
                list(report.rows[0].keys()) if report.rows else [],
                {
                    "source_format": "'human'",
                    "ky_bao_cao": "CAST(NULL AS VARCHAR)",
                    "ma_don_vi": "CAST(NULL AS VARCHAR)",
                    "ma_thu_tuc": "CAST(NULL AS VARCHAR)",
                    "tiep_nhan_buu_chinh": "'0'",
                    "tra_lai_rut": "CAST(NULL AS VARCHAR)",
                    "ngay_xuat": "CAST(NULL AS VARCHAR)",
                },
                meta,
            )
        else:
            columns = [c for c in spec.columns if c not in PERSONAL_COLUMNS]
            names = read_machine_export(con, path, columns, spec.key_column, spec.date_columns)
            missing = [c for c in spec.required if c not in names]
            if missing:
                raise ExportFormatError("missing required columns: " + ", ".join(missing))
            if feed == "dossiers":
                meta["report_kind"] = "machine"
            extra = {"source_format": "'machine'"} if feed == "dossiers" else {}
            n = _insert_text(con, feed, export_id, names, extra, meta)
        con.execute(
            """UPDATE raw.exports SET parse_status = 'parsed', parse_reason = NULL, report_kind = ?,
                   report_period = ?, report_date = ?, rows_parsed = ? WHERE export_id = ?""",
            [meta["report_kind"], meta["report_period"], meta["report_date"], n, export_id],
        )
        return "parsed", None, n
    except ExportFormatError as exc:
        reason = str(exc)
    except Exception as exc:  # never crash the run on one bad export (quality.md)
        reason = f"export cannot be read: {type(exc).__name__}: {exc}"[:500]
    con.execute("ROLLBACK")
    con.execute(
        "UPDATE raw.exports SET parse_status = 'quarantined', parse_reason = ?, rows_parsed = 0 WHERE export_id = ?",
        [reason, export_id],
    )
    return "quarantined", reason, 0


def _load_human_rows(con: duckdb.DuckDBPyConnection, report: bieu_ii06a.HumanReport) -> None:
    import pandas as pd

    cols = ["_row", "ten_don_vi", *bieu_ii06a.COUNT_COLUMNS]
    frame = pd.DataFrame([[r.get(c) for c in cols] for r in report.rows], columns=cols, dtype=object)
    frame["_row"] = pd.to_numeric(frame["_row"]).astype("int64") if len(frame) else frame["_row"]
    con.register("_human_frame", frame)
    casts = ", ".join(
        f"CAST({quote_ident(c)} AS {'BIGINT' if c == '_row' else 'VARCHAR'}) AS {quote_ident(c)}"
        for c in cols
    )
    store_export(con, f"SELECT {casts} FROM _human_frame", numbered=True)
    con.unregister("_human_frame")


def refresh_unit_keys(con: duckdb.DuckDBPyConnection) -> None:
    """Comparison keys of the register's names and aliases (small), so name resolution runs in SQL."""
    import pandas as pd

    units = con.execute("SELECT ma_don_vi, ten_don_vi, ten_khac FROM raw.units").fetchall()
    keys = sorted({(code, key) for code, name, aliases in units for key in register_keys(name, aliases)})
    con.execute("CREATE OR REPLACE TABLE raw.unit_keys (unit_code VARCHAR, name_key VARCHAR)")
    if keys:
        con.register("_keys", pd.DataFrame(keys, columns=["unit_code", "name_key"]))
        con.execute("INSERT INTO raw.unit_keys SELECT * FROM _keys ORDER BY ALL")
        con.unregister("_keys")


def add_sent_names(con: duckdb.DuckDBPyConnection) -> None:
    """The comparison key of every unit name a Biểu II.06a report sent that is not known yet."""
    import pandas as pd

    sent = con.execute(
        f"""SELECT DISTINCT ten_don_vi FROM {text_table("dossiers")}
            WHERE ten_don_vi IS NOT NULL AND ten_don_vi NOT IN (SELECT name_as_sent FROM raw.unit_name_map)"""
    ).fetchall()
    if sent:
        con.register("_sent", pd.DataFrame([(s[0], name_key(s[0])) for s in sent], columns=["a", "b"]))
        con.execute("INSERT INTO raw.unit_name_map SELECT * FROM _sent")
        con.unregister("_sent")


def refresh_indicators(con: duckdb.DuckDBPyConnection) -> None:
    with PROGRAM_TARGETS.open(encoding="utf-8") as handle:
        codes = sorted({r["kpi_code"] for r in csv.DictReader(handle) if r["source_kind"] == "self_report"})
    con.execute("CREATE OR REPLACE TABLE raw.self_report_indicators (kpi_code VARCHAR)")
    con.executemany("INSERT INTO raw.self_report_indicators VALUES (?)", [[c] for c in codes])


def ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    ensure_raw_schema(con)
    for feed in FEED_SPECS:  # warehouses from before the text stopped being kept: the archive has it
        con.execute(f"DROP TABLE IF EXISTS raw.{feed}_text")
    con.execute("CREATE TABLE IF NOT EXISTS raw.unit_keys (unit_code VARCHAR, name_key VARCHAR)")
    con.execute("CREATE TABLE IF NOT EXISTS raw.unit_name_map (name_as_sent VARCHAR, name_key VARCHAR)")
    for feed in REGISTERS:  # the feeds' checks read the registers, even before any register arrived
        if not table_exists(con, "raw", feed):
            con.execute(text_table_ddl(feed))
            check(con, feed, replace=True)
    refresh_indicators(con)


def _pending(con: duckdb.DuckDBPyConnection, feed: str) -> list[tuple[str, str, str]]:
    """Exports to read: registers all of them (small snapshots, the newest wins), other feeds those
    not checked yet."""
    extra = (
        ""
        if feed in REGISTERS
        else (
            " AND (parse_status IS NULL OR export_id NOT IN (SELECT export_id FROM raw.checked_exports WHERE feed = ?))"
        )
    )
    params = [feed] if feed in REGISTERS else [feed, feed]
    return con.execute(
        "SELECT export_id, archive_path, file_name FROM raw.exports "
        f"WHERE feed = ? AND coalesce(parse_status, '') <> 'quarantined'{extra} ORDER BY sort_key, export_id",
        params,
    ).fetchall()


# Exports read before their rows are checked together: DuckDB spreads a statement over both cores by
# row group (122,880 rows), and a monthly dossier export (~95 k rows at province scale) filled one.
BATCH_ROWS = 400_000


def _read(con: duckdb.DuckDBPyConnection, feed: str, export: tuple[str, str, str]) -> int | None:
    """Read one export into `_text_<feed>` in its own transaction; the number of rows read, or None
    when it is unreadable (rolled back and quarantined as a whole)."""
    export_id, path, name = export
    con.execute("BEGIN TRANSACTION")
    status, reason, n = parse_export(con, feed, export_id, Path(path))  # rolls back when unreadable
    if status == "quarantined":
        log.warning("%s: export %s quarantined: %s", feed, name, reason)
        return None
    con.execute("COMMIT")
    return n


def _read_and_check(con: duckdb.DuckDBPyConnection, feed: str, exports: list[tuple[str, str, str]]) -> None:
    """Read the exports into `_text_<feed>` and check them.

    A feed's exports are read one by one and checked together once ~BATCH_ROWS rows are waiting, in
    one transaction that appends their rows and marks them checked: an export read but not checked
    yet is simply read again by the next run. A register's exports are all read, then the newest
    readable one replaces the register in one transaction."""
    con.execute(text_table_ddl(feed))
    if feed in REGISTERS:
        parsed = [export[0] for export in exports if _read(con, feed, export) is not None]
        con.execute("BEGIN TRANSACTION")
        con.execute("DELETE FROM raw.quarantine_rows WHERE feed = ?", [feed])
        con.execute("DELETE FROM raw.checked_exports WHERE feed = ?", [feed])
        _check_and_commit(con, feed, parsed)
    else:
        waiting: list[str] = []
        rows = 0
        for i, export in enumerate(exports, start=1):
            n = _read(con, feed, export)
            if n is not None:
                waiting.append(export[0])
                rows += n
            if rows >= BATCH_ROWS or i == len(exports):
                if waiting:
                    con.execute("BEGIN TRANSACTION")
                    _check_and_commit(con, feed, waiting)
                    waiting, rows = [], 0
                log.info("%s: read and checked %d/%d exports", feed, i, len(exports))
    con.execute(f"DROP TABLE {text_table(feed)}")


def _check_and_commit(con: duckdb.DuckDBPyConnection, feed: str, parsed: list[str]) -> None:
    try:
        if feed == "dossiers":
            add_sent_names(con)
        check(con, feed, replace=feed in REGISTERS)
        for export_id in parsed:
            con.execute("INSERT OR IGNORE INTO raw.checked_exports VALUES (?, ?)", [feed, export_id])
        con.execute(f"DELETE FROM {text_table(feed)}")
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def ingest(settings: Settings, feed: str, con: duckdb.DuckDBPyConnection) -> IngestResult:
    """Archive, parse and check one feed; returns the counts shown as asset metadata."""
    ensure_tables(con)
    archive = Archive(settings.archive, con)
    for path in archive.sweep(feed):
        log.warning("%s: removed %s, left half-written by a run that was killed", feed, path.name)
    result = IngestResult(feed)
    exports = collect(settings, feed, con, archive)
    result.exports_seen = len({e.export_id for e in exports})
    result.exports_new = sum(e.is_new for e in exports)
    if feed in ("dossiers", "units"):
        refresh_unit_keys(con)
    if feed in REGISTERS:  # small snapshots: every export read again, the newest readable one wins
        _read_and_check(con, feed, _pending(con, feed))
    else:
        fp = fingerprint(con, feed)
        if not is_current(con, feed, fp):
            checked = con.execute(
                "SELECT count(*) FROM raw.checked_exports WHERE feed = ?", [feed]
            ).fetchone()
            log.info(
                "%s: registers or checks changed since the last run: every export is checked again"
                if checked[0]
                else "%s: first load: every export is read and checked",
                feed,
            )
            con.execute("BEGIN TRANSACTION")
            reset(con, feed, fp)
            con.execute("COMMIT")
        _read_and_check(con, feed, _pending(con, feed))
        # the feed's check frame, grouped per export (pipelines/quality/feed_groups.py)
        if feed in FEED_GROUPS:
            grouped = keep_groups(con, FEED_GROUPS[feed], fp)  # the fingerprint just checked against
            if grouped:
                log.info("%s: check groups kept for %d export(s)", feed, grouped)
    stats = con.execute(
        """SELECT count(*) FILTER (WHERE parse_status = 'parsed'), count(*) FILTER (WHERE parse_status = 'quarantined')
           FROM raw.exports WHERE feed = ?""",
        [feed],
    ).fetchone()
    result.exports_parsed, result.exports_quarantined = stats
    result.rows_loaded = con.execute(f"SELECT count(*) FROM raw.{feed}").fetchone()[0]
    reasons = con.execute(
        "SELECT reason_code, count(*) FROM raw.quarantine_rows WHERE feed = ? GROUP BY 1 ORDER BY 1", [feed]
    ).fetchall()
    result.quarantine_reasons = dict(reasons)
    result.rows_quarantined = sum(result.quarantine_reasons.values())
    result.problems = [
        f"{n}: {r}"
        for n, r in con.execute(
            "SELECT file_name, parse_reason FROM raw.exports WHERE feed = ? AND parse_status = 'quarantined' "
            "ORDER BY file_name",
            [feed],
        ).fetchall()
    ]
    log.info(
        "%s: %d exports (%d new), %d rows loaded, %d rows quarantined, %d exports quarantined",
        feed,
        result.exports_seen,
        result.exports_new,
        result.rows_loaded,
        result.rows_quarantined,
        result.exports_quarantined,
    )
    return result
