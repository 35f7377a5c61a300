"""Analysts read the published marts while a run writes the warehouse (interface.md)."""

import subprocess
import sys
import textwrap
import time

from builders import DOSSIER_COLUMNS, dossier_row, write_csv, write_registers

from pipelines.lib.warehouse import connect
from pipelines.publish import open_published, publish, published_path

OK = (2, 5, 3, 0, 4, 2, 1, 2, 1, 0)


def _warehouse_with_marts(settings, n: int):
    with connect(settings.warehouse) as con:
        con.execute("CREATE SCHEMA IF NOT EXISTS marts")
        con.execute("CREATE SCHEMA IF NOT EXISTS raw")
        con.execute("CREATE OR REPLACE TABLE raw.quarantine_rows (feed VARCHAR, reason VARCHAR)")
        con.execute("CREATE OR REPLACE TABLE raw.exports (export_id VARCHAR)")
        con.execute(
            f"CREATE OR REPLACE TABLE marts.kpi_province_year AS SELECT range AS year FROM range({n})"
        )
        con.execute(f"CREATE OR REPLACE TABLE marts.par_ranking AS SELECT range AS rank FROM range({n})")


def test_publish_replaces_the_copy_atomically(make_settings):
    settings = make_settings()
    _warehouse_with_marts(settings, 5)
    with connect(settings.warehouse) as con:
        counts = publish(con, settings)
    assert counts["marts.kpi_province_year"] == 5 and counts["quality.quarantine_rows"] == 0
    with open_published(settings) as con:
        assert con.execute("SELECT count(*) FROM kpi_province_year").fetchone() == (5,)
    # no temporary file is left beside the published one
    assert [p.name for p in published_path(settings).parent.iterdir()] == ["par_marts.duckdb"]


def test_reader_never_blocked_nor_sees_a_half_built_state(make_settings, tmp_path):
    """A reader in another process queries the published copy in a loop while this process holds the
    warehouse's write lock, rebuilds the marts and publishes three times."""
    settings = make_settings()
    _warehouse_with_marts(settings, 10)
    with connect(settings.warehouse) as con:
        publish(con, settings)
    reader = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                f"""
                import time, duckdb
                seen, errors = set(), 0
                end = time.time() + 6
                while time.time() < end:
                    try:
                        con = duckdb.connect({str(published_path(settings))!r}, read_only=True)
                        a = con.execute("select count(*) from marts.kpi_province_year").fetchone()[0]
                        b = con.execute("select count(*) from marts.par_ranking").fetchone()[0]
                        con.close()
                        seen.add((a, b))
                    except Exception as exc:
                        errors += 1
                        print("ERROR", exc)
                print("SEEN", sorted(seen))
                print("ERRORS", errors)
                """
            ),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    time.sleep(0.5)
    with connect(settings.warehouse) as con:  # the writer holds the warehouse for the whole time
        for n in (20, 30, 40):
            con.execute(
                f"CREATE OR REPLACE TABLE marts.kpi_province_year AS SELECT range AS year FROM range({n})"
            )
            time.sleep(0.3)  # a half-built state: one mart rebuilt, the other not yet
            con.execute(f"CREATE OR REPLACE TABLE marts.par_ranking AS SELECT range AS rank FROM range({n})")
            publish(con, settings)
            time.sleep(0.8)
    out, _ = reader.communicate(timeout=30)
    seen = eval(out.split("SEEN ")[1].splitlines()[0])  # noqa: S307 - our own subprocess output
    assert "ERRORS 0" in out
    # only complete states: both marts always from the same publish
    assert all(a == b for a, b in seen)
    assert (10, 10) in seen and (40, 40) in seen


def test_sql_command_reads_the_published_copy(make_settings, tmp_path):
    sources = tmp_path / "sources"
    write_registers(sources)
    write_csv(
        sources / "dossiers" / "dossiers_2024-03.csv",
        DOSSIER_COLUMNS,
        [dossier_row("2024-03", "S01", "1.004227", OK, "2024-04-05T08:00:00")],
    )
    settings = make_settings()
    _warehouse_with_marts(settings, 3)
    with connect(settings.warehouse) as con:
        publish(con, settings)
    env = {
        "PAR_SOURCES": str(sources),
        "PAR_WAREHOUSE": str(settings.warehouse),
        "PATH": "/usr/bin:/bin",
    }
    out = subprocess.run(
        [sys.executable, "-m", "pipelines", "sql", "select count(*) as n from kpi_province_year"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert out.splitlines()[-2:] == ["n", "3"]
