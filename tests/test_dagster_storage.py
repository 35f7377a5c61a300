"""The project's dagster.yaml: Dagster's SQLite event log with its connections kept open.

Real Dagster instances over a real DAGSTER_HOME, real runs of a small job with assets and an asset
check; what one storage class wrote, the other reads (the on-disk history is Dagster's own)."""

import shutil
import subprocess
import sys
from pathlib import Path

import dagster as dg
from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage

from pipelines.lib.dagster_storage import OPEN_RUN_SHARDS, PooledSqliteEventLogStorage

REPO = Path(__file__).resolve().parents[1]


@dg.asset
def dossier_count() -> int:
    return 3


@dg.asset_check(asset=dossier_count)
def dossier_count_positive() -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=True)


@dg.asset(deps=[dossier_count])
def unit_ranking(context: dg.AssetExecutionContext) -> None:
    context.log.info("ranking written")


JOB = dg.Definitions(
    assets=[dossier_count, unit_ranking],
    asset_checks=[dossier_count_positive],
    jobs=[dg.define_asset_job("small_job", selection=dg.AssetSelection.all())],
).resolve_job_def("small_job")


def _home(tmp_path: Path, *, project_yaml: bool) -> Path:
    home = tmp_path / "dagster_home"
    home.mkdir(exist_ok=True)
    if project_yaml:
        shutil.copy(REPO / "dagster.yaml", home / "dagster.yaml")
    else:
        (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    return home


def _instance(home: Path, monkeypatch) -> dg.DagsterInstance:
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    return dg.DagsterInstance.from_config(str(home))


def _run(instance: dg.DagsterInstance) -> str:
    result = JOB.execute_in_process(instance=instance)
    assert result.success
    return result.run_id


def _history(instance: dg.DagsterInstance, run_id: str) -> dict:
    logs = instance.all_logs(run_id)
    return {
        "status": instance.get_run_by_id(run_id).status,
        "materialized": sorted(
            e.dagster_event.asset_key.to_user_string()
            for e in logs
            if e.dagster_event and e.dagster_event.is_step_materialization
        ),
        "checks": [
            e.dagster_event.event_specific_data.check_name
            for e in logs
            if e.dagster_event and e.dagster_event.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION
        ],
        "messages": [e.user_message for e in logs if e.user_message == "ranking written"],
        "latest": instance.get_latest_materialization_event(dg.AssetKey("unit_ranking")).run_id,
    }


def test_project_yaml_selects_the_pooled_event_log(tmp_path, monkeypatch):
    instance = _instance(_home(tmp_path, project_yaml=True), monkeypatch)
    assert type(instance.event_log_storage) is PooledSqliteEventLogStorage
    # the files lie where Dagster's default storage puts them
    assert Path(instance.event_log_storage._base_dir) == tmp_path / "dagster_home" / "history" / "runs"


def test_history_written_by_either_storage_is_read_by_the_other(tmp_path, monkeypatch):
    home = _home(tmp_path, project_yaml=False)
    with _instance(home, monkeypatch) as default:
        assert type(default.event_log_storage) is SqliteEventLogStorage
        earlier = _run(default)

    _home(tmp_path, project_yaml=True)
    with _instance(home, monkeypatch) as pooled:
        assert type(pooled.event_log_storage) is PooledSqliteEventLogStorage
        later = _run(pooled)
        seen_by_pooled = {run_id: _history(pooled, run_id) for run_id in (earlier, later)}

    _home(tmp_path, project_yaml=False)
    with _instance(home, monkeypatch) as default:
        seen_by_default = {run_id: _history(default, run_id) for run_id in (earlier, later)}

    for run_id in (earlier, later):
        for seen in (seen_by_pooled, seen_by_default):
            history = seen[run_id]
            assert history["status"] == dg.DagsterRunStatus.SUCCESS
            assert history["materialized"] == ["dossier_count", "unit_ranking"]
            assert history["checks"] == ["dossier_count_positive"]
            assert history["messages"] == ["ranking written"]
            assert history["latest"] == later  # the index shard is shared by both


def test_a_run_written_here_is_read_by_another_process_at_once(tmp_path, monkeypatch):
    """The connection kept open must not hide committed events from another reader (a webserver)."""
    home = _home(tmp_path, project_yaml=True)
    with _instance(home, monkeypatch) as pooled:
        run_id = _run(pooled)
        stored = len(pooled.all_logs(run_id))
        reader = subprocess.run(
            [
                sys.executable,
                "-c",
                "import sys, dagster as dg; i = dg.DagsterInstance.from_config(sys.argv[1]); "
                "print(len(i.all_logs(sys.argv[2])), i.get_run_by_id(sys.argv[2]).status.value)",
                str(home),
                run_id,
            ],
            capture_output=True,
            text=True,
            env={"DAGSTER_HOME": str(home), "PATH": "/usr/bin:/bin"},
            check=True,
        )
    assert reader.stdout.split() == [str(stored), "SUCCESS"]
    assert stored > 10


def test_only_a_few_run_shards_stay_open_and_wipe_closes_them(tmp_path, monkeypatch):
    home = _home(tmp_path, project_yaml=True)
    with _instance(home, monkeypatch) as pooled:
        storage = pooled.event_log_storage
        run_ids = [_run(pooled) for _ in range(OPEN_RUN_SHARDS + 2)]
        open_shards = [name for name in storage._engines if name != "index"]
        assert open_shards == run_ids[-OPEN_RUN_SHARDS:]
        # an evicted shard opens again on demand
        assert _history(pooled, run_ids[0])["materialized"] == ["dossier_count", "unit_ranking"]

        pooled.wipe()
        assert [name for name in storage._engines if name != "index"] == []  # the index is wiped, not deleted
        assert not [p.name for p in (home / "history" / "runs").glob("*.db") if p.name != "index.db"]
        after = _run(pooled)
        assert _history(pooled, after)["status"] == dg.DagsterRunStatus.SUCCESS
