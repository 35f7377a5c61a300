"""The big feeds' check frames, grouped per export and kept by ingestion.

A feed's schema-and-validity frame (export × unit × month × category) is made of aggregates that combine
across exports (counts add up, minimums and maximums of minimums and maximums), and a key seen twice in one
export is a matter of that export alone. So the frame can be grouped export by export:

- ingestion keeps the groups of every loaded export in `raw.check_groups_<feed>` (`keep_groups`, at the end
  of the feed's ingest, in the write transaction it already owns), grouping only the exports not kept yet;
- the check (read-only) combines the kept groups (`FeedGroups.frame_sql(kept_table)`) when they are current
  (`kept_groups_current`), else groups the loaded rows themselves: the same SQL, the same frame.

The kept groups are current when they were made by this very grouping SQL, against the registers and checks
the feed was last checked against (the feed's check fingerprint, which covers the registers' content), and
cover exactly the exports that have loaded rows, with as many rows. A night with one new export then groups
one export's rows instead of every row of the feed (15 M transactions at province scale).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import duckdb

from pipelines.lib.warehouse import table_exists

STATE_TABLE = "raw.check_groups_state"
_COMBINE = {"sum": "CAST(sum({0}) AS BIGINT)", "min": "min({0})", "max": "max({0})"}


@dataclass(frozen=True)
class FeedGroups:
    """One feed's frame as per-export groups: `groups` (alias → expression over the feed's rows),
    `aggregates` (alias, expression, how two exports' values combine: sum/min/max), the row `key` whose
    repeats inside an export are counted (`duplicate_key_rows`), and the frame's final `select` over `f`."""

    feed: str
    key: tuple[str, ...]
    groups: dict[str, str]
    aggregates: tuple[tuple[str, str, str], ...]
    select: str

    @property
    def table(self) -> str:
        return f"raw.{self.feed}"

    @property
    def kept_table(self) -> str:
        return f"raw.check_groups_{self.feed}"

    def groups_sql(self, where: str = "TRUE") -> str:
        """The groups of the feed's loaded rows where `where` holds, one set per export (`export_id`).
        A key twice in one export is found without partitioning every row by its key: the 64-bit hashes of
        all keys are sorted, and only the rows whose hash occurs twice — every duplicated key, and rarely two
        keys sharing a hash — are partitioned by their key (exact; NULLs compare equal, as in PARTITION BY)."""
        rows = f"{self.table} WHERE {where}"
        group = ", ".join(f"{expr} AS {alias}" for alias, expr in self.groups.items())
        aggregates = ",\n        ".join(f"{expr} AS {alias}" for alias, expr, _ in self.aggregates)
        on = " AND ".join(f"d.{alias} IS NOT DISTINCT FROM g.{alias}" for alias in self.groups)
        cols = ", ".join(self.key)
        return f"""
WITH g AS (
    SELECT export_id, {group},
        {aggregates}
    FROM {rows}
    GROUP BY ALL
),
candidates AS (
    SELECT h FROM (SELECT h, lag(h) OVER (ORDER BY h) AS previous FROM (SELECT hash({cols}) AS h FROM {rows}))
    WHERE h = previous
),
d AS (
    SELECT export_id, {group}, count(*) AS duplicate_key_rows
    FROM (
        SELECT *, count(*) OVER (PARTITION BY {cols}) AS key_count
        FROM {rows} AND hash({cols}) IN (SELECT h FROM candidates)
    )
    WHERE key_count > 1
    GROUP BY ALL
)
SELECT g.*, coalesce(d.duplicate_key_rows, 0) AS duplicate_key_rows
FROM g LEFT JOIN d ON d.export_id = g.export_id AND {on}
"""

    def frame_sql(self, source: str | None = None) -> str:
        """The frame: the groups of `source` (a kept-groups table; by default the loaded rows grouped now)
        combined across exports, then the final select."""
        source = source or f"({self.groups_sql()})"
        aliases = ", ".join(self.groups)
        combined = ",\n        ".join(
            _COMBINE[how].format(alias) + f" AS {alias}"
            for alias, _, how in (*self.aggregates, ("duplicate_key_rows", "", "sum"))
        )
        return f"""
WITH f AS (
    SELECT {aliases},
        {combined}
    FROM {source}
    GROUP BY ALL
)
{self.select}"""

    def sql_hash(self) -> str:
        return hashlib.sha256(self.groups_sql().encode()).hexdigest()


def _check_fingerprint(con: duckdb.DuckDBPyConnection, feed: str) -> str:
    from pipelines.ingest.feeds import fingerprint

    return fingerprint(con, feed)


def _exists(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    schema, name = table.split(".")
    return table_exists(con, schema, name)


def kept_groups_current(con: duckdb.DuckDBPyConnection, groups: FeedGroups) -> bool:
    """True when `raw.check_groups_<feed>` holds exactly the groups the loaded rows would give now."""
    if not all(_exists(con, t) for t in (STATE_TABLE, groups.kept_table, groups.table)):
        return False
    state = con.execute(
        f"SELECT sql_hash, fingerprint FROM {STATE_TABLE} WHERE feed = ?", [groups.feed]
    ).fetchone()
    if state is None or state[0] != groups.sql_hash() or state[1] != _check_fingerprint(con, groups.feed):
        return False
    count = next(alias for alias, expr, _ in groups.aggregates if expr == "count(*)")
    stale = con.execute(
        f"""SELECT (SELECT count(*) FROM {groups.table})
                   <> (SELECT coalesce(sum({count}), 0) FROM {groups.kept_table})
                OR EXISTS (SELECT DISTINCT export_id FROM {groups.table}
                           EXCEPT SELECT DISTINCT export_id FROM {groups.kept_table})
                OR EXISTS (SELECT DISTINCT export_id FROM {groups.kept_table}
                           EXCEPT SELECT DISTINCT export_id FROM {groups.table})"""
    ).fetchone()[0]
    return not stale


def keep_groups(con: duckdb.DuckDBPyConnection, groups: FeedGroups, fingerprint: str) -> int:
    """Bring `raw.check_groups_<feed>` up to date with the loaded rows, in one transaction: group the
    exports not kept yet, drop the groups of exports no longer loaded; everything again when the grouping
    SQL or the feed's check `fingerprint` (the one ingestion just checked against) changed. Returns the
    number of exports grouped now."""
    sql_hash = groups.sql_hash()
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(
            f"CREATE TABLE IF NOT EXISTS {STATE_TABLE} (feed VARCHAR PRIMARY KEY, sql_hash VARCHAR, fingerprint VARCHAR)"
        )
        state = con.execute(
            f"SELECT sql_hash, fingerprint FROM {STATE_TABLE} WHERE feed = ?", [groups.feed]
        ).fetchone()
        if not _exists(con, groups.kept_table) or state != (sql_hash, fingerprint):
            con.execute(f"CREATE OR REPLACE TABLE {groups.kept_table} AS {groups.groups_sql()}")
            grouped = con.execute(f"SELECT count(DISTINCT export_id) FROM {groups.kept_table}").fetchone()[0]
        else:
            con.execute(
                f"""DELETE FROM {groups.kept_table}
                    WHERE export_id NOT IN (SELECT DISTINCT export_id FROM {groups.table})"""
            )
            new = [
                r[0]
                for r in con.execute(
                    f"""SELECT DISTINCT export_id FROM {groups.table}
                        EXCEPT SELECT DISTINCT export_id FROM {groups.kept_table} ORDER BY 1"""
                ).fetchall()
            ]
            if new:
                # the exports as literals: DuckDB then skips the row groups of other exports
                listed = ", ".join("'" + e.replace("'", "''") + "'" for e in new)
                con.execute(
                    f"INSERT INTO {groups.kept_table} {groups.groups_sql(f'export_id IN ({listed})')}"
                )
            grouped = len(new)
        con.execute(
            f"INSERT OR REPLACE INTO {STATE_TABLE} VALUES (?, ?, ?)", [groups.feed, sql_hash, fingerprint]
        )
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return grouped


def forget_groups(con: duckdb.DuckDBPyConnection) -> None:
    """Forget every kept group: the checks group the loaded rows themselves until the next ingest keeps
    them again. For loaded rows edited by hand (only ingestion writes `raw.<feed>`; an edit in place keeps
    the row count and exports, so the kept groups could not tell)."""
    if _exists(con, STATE_TABLE):
        con.execute(f"DELETE FROM {STATE_TABLE}")
