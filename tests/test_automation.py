"""The nightly schedule and the new-export sensor, evaluated with Dagster's test helpers."""

import datetime as dt
import shutil

import dagster as dg
from builders import DOSSIER_COLUMNS, dossier_row, write_csv, write_registers

from pipelines.definitions import defs

OK = (0, 1, 0, 0, 1, 0, 0, 0, 0, 0)


def test_nightly_schedule_runs_the_main_job_at_one_in_the_morning_local():
    schedule = defs.get_schedule_def("par_nightly")
    assert schedule.cron_schedule == "0 1 * * *"
    assert schedule.execution_timezone == "Asia/Ho_Chi_Minh"
    assert schedule.job_name == "par_main_job"
    when = dt.datetime(2026, 11, 28, 1, 0, tzinfo=dt.timezone(dt.timedelta(hours=7)))
    result = schedule.evaluate_tick(dg.build_schedule_context(scheduled_execution_time=when))
    assert len(result.run_requests) == 1


def test_sensor_fires_once_per_new_export(tmp_path, monkeypatch):
    sources = tmp_path / "sources"
    write_registers(sources)
    monkeypatch.setenv("PAR_SOURCES", str(sources))
    sensor = defs.get_sensor_def("par_new_exports")

    first = sensor.evaluate_tick(dg.build_sensor_context(cursor=None))
    assert len(first.run_requests) == 1  # the two register files are new

    idle = sensor.evaluate_tick(dg.build_sensor_context(cursor=first.cursor))
    assert idle.run_requests == [] and idle.skip_message == "no new exports"

    path = write_csv(
        sources / "dossiers" / "dossiers_2024-03.csv",
        DOSSIER_COLUMNS,
        [dossier_row("2024-03", "S01", "1.004227", OK, "2024-04-05T08:00:00")],
    )
    second = sensor.evaluate_tick(dg.build_sensor_context(cursor=idle.cursor))
    assert len(second.run_requests) == 1
    assert second.run_requests[0].run_key != first.run_requests[0].run_key

    # the same bytes again under another name are not a new export
    shutil.copy(path, sources / "dossiers" / "dossiers_2024-03_again.csv")
    again = sensor.evaluate_tick(dg.build_sensor_context(cursor=second.cursor))
    assert again.run_requests == []

    # a lost cursor re-proposes the same content, with the same run key: Dagster starts it only once
    replay = sensor.evaluate_tick(dg.build_sensor_context(cursor=first.cursor))
    assert replay.run_requests[0].run_key == second.run_requests[0].run_key


def test_asset_graph_snapshot():
    """The graph the UI shows: ingestion → dbt layers → ranking → publish, with checks attached."""
    graph = defs.resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    for expected in (
        "raw/units",
        "raw/dossiers",
        "raw/payments",
        "staging/stg_dossiers__rows",
        "intermediate/int_dossiers__versions",
        "marts/kpi_province_year",
        "marts/reporting_gaps",
        "marts/ranking_gate",
        "marts/par_ranking",
        "publish/marts",
    ):
        assert expected in keys
    ranking_parents = {
        k.to_user_string() for k in graph.get(dg.AssetKey(["marts", "par_ranking"])).parent_keys
    }
    assert "marts/ranking_gate" in ranking_parents
    publish_parents = {k.to_user_string() for k in graph.get(dg.AssetKey(["publish", "marts"])).parent_keys}
    assert "marts/par_ranking" in publish_parents
