"""Publish the ranking dbt computed with the KPIs as `marts.par_ranking` (the step after the gate).

The Dagster asset `marts/par_ranking` (pipelines/defs/ranking.py) calls this only once the blocking
`ranking_gate` check has passed; the copy is exact, in one transaction."""

from __future__ import annotations

import duckdb

PUBLISH_SQL = """
CREATE OR REPLACE TABLE marts.par_ranking AS
SELECT * FROM intermediate.int_ranking__scores
ORDER BY year, ranking_group, rank NULLS LAST, unit_code
"""


def publish_ranking(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    """Replace marts.par_ranking with intermediate.int_ranking__scores; return (year, ranking_group,
    units, ranked, mean score) per group."""
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(PUBLISH_SQL)
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    return con.execute(
        """SELECT year, ranking_group, count(*) AS units, count(rank) AS ranked, round(avg(score), 2)
           FROM marts.par_ranking GROUP BY ALL ORDER BY ALL"""
    ).fetchall()
