"""The shared-deployment instance (configs/deploy/dagster-postgres.yaml) on the machine's
PostgreSQL: the test creates its own database, materialises two farm-days of weather through it,
reads them back from Dagster's event log and from the table itself, and drops the database."""
from __future__ import annotations

import shutil
import uuid
from pathlib import Path

import dagster as dg
import pytest

from pipelines.core.config import configs_dir
from pipelines.orchestration.definitions import defs
from pipelines.orchestration.resources import SaqiStorage
from pipelines.orchestration.runs import day_key, materialize_stage

ROOT = Path(__file__).resolve().parents[2]
PG = {"host": "127.0.0.1", "port": 5432, "user": "postgres"}


def _admin():
    psycopg2 = pytest.importorskip("psycopg2")
    try:
        connection = psycopg2.connect(dbname="postgres", connect_timeout=5, **PG)
    except psycopg2.OperationalError as exc:
        pytest.skip(f"PostgreSQL not reachable on 127.0.0.1:5432 as postgres (.ci/run starts it): {exc}")
    connection.autocommit = True
    return connection


@pytest.fixture
def database(monkeypatch):
    name = f"saqi_test_{uuid.uuid4().hex[:10]}"
    admin = _admin()
    try:
        with admin.cursor() as cursor:
            cursor.execute(f'CREATE DATABASE "{name}"')
        for key, value in {"HOST": PG["host"], "PORT": str(PG["port"]), "USER": PG["user"], "PASSWORD": "",
                           "DB": name}.items():
            monkeypatch.setenv(f"DAGSTER_PG_{key}", value)
        yield name
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def _deployment(tmp_path: Path) -> tuple[Path, dg.Definitions]:
    """A DAGSTER_HOME with the deployment's dagster.yaml, and the assets on a store under tmp_path."""
    home = tmp_path / "home"
    home.mkdir()
    shutil.copy(ROOT / "configs" / "deploy" / "dagster-postgres.yaml", home / "dagster.yaml")
    storage = SaqiStorage(data_root=str(tmp_path / "data"), landing_dir=str(tmp_path / "landing"),
                          configs=str(configs_dir()))
    return home, dg.Definitions(assets=list(defs.assets), resources={"storage": storage})


def test_materialisations_land_in_the_postgres_event_log(tmp_path, database):
    import psycopg2

    home, test_defs = _deployment(tmp_path)
    import datetime as dt

    keys = [day_key("chtouka", dt.date(2025, 10, 1)), day_key("chtouka", dt.date(2025, 10, 2))]
    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert type(instance.event_log_storage).__name__ == "PooledPostgresEventLogStorage"
        outcome = materialize_stage(test_defs, "weather", ["weather"], keys, instance)
        assert outcome.succeeded == ["2025-10-01|chtouka", "2025-10-02|chtouka"] and not outcome.failed
        records = instance.fetch_materializations(dg.AssetKey("weather"), limit=10).records
        assert sorted(r.asset_materialization.partition for r in records) == ["2025-10-01|chtouka",
                                                                              "2025-10-02|chtouka"]
        tmax = {r.asset_materialization.partition: r.asset_materialization.metadata["Max air temperature (°C)"].value
                for r in records}
        assert tmax["2025-10-01|chtouka"] == pytest.approx(24.2)  # configs/farms/chtouka/weather.csv
    with psycopg2.connect(dbname=database, connect_timeout=5, **PG) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM event_logs WHERE dagster_event_type = 'ASSET_MATERIALIZATION'")
        assert cursor.fetchone()[0] == 2
        cursor.execute("SELECT count(*) FROM runs")
        assert cursor.fetchone()[0] == 2


def test_pooled_storages_record_a_batched_range_and_survive_a_server_side_disconnect(tmp_path, database, monkeypatch):
    """The deployment's storages keep a pool (pg_storage.py); a 30-day ranged run with batched event
    writes records one materialisation per day and asset; after PostgreSQL kills every connection of
    the database, the next run reconnects (pool_pre_ping) instead of failing."""
    import datetime as dt

    import psycopg2
    from sqlalchemy.pool import QueuePool

    from pipelines.orchestration.event_batches import enable_event_batches
    from pipelines.orchestration.runs import materialize_ranges

    monkeypatch.delenv("DAGSTER_EVENT_BATCH_SIZE", raising=False)
    enable_event_batches()
    home, test_defs = _deployment(tmp_path)
    days = [dt.date(2025, 10, 1) + dt.timedelta(days=i) for i in range(30)]
    with dg.DagsterInstance.from_config(str(home)) as instance:
        for store in (instance.run_storage, instance.event_log_storage, instance.schedule_storage):
            assert isinstance(store._engine.pool, QueuePool), type(store).__name__
        outcome = materialize_ranges(test_defs, "daily", ["weather", "reference_et"],
                                     [day_key("chtouka", d) for d in days], instance)
        assert len(outcome.succeeded) == 30 and not outcome.failed
        with psycopg2.connect(dbname="postgres", connect_timeout=5, **PG) as admin, admin.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (database,))
        again = materialize_stage(test_defs, "weather", ["weather"], [day_key("chtouka", days[-1])], instance)
        assert again.succeeded == [f"{days[-1]}|chtouka"] and not again.failed
    with psycopg2.connect(dbname=database, connect_timeout=5, **PG) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT asset_key, count(DISTINCT partition) FROM event_logs "
                       "WHERE dagster_event_type = 'ASSET_MATERIALIZATION' GROUP BY asset_key ORDER BY asset_key")
        assert cursor.fetchall() == [('["reference_et"]', 30), ('["weather"]', 30)]


@pytest.mark.parametrize("config", ["dagster-postgres.yaml", "dagster-serve.yaml"])
def test_deployment_configs_pool_every_storage(tmp_path, database, config):
    """Both PostgreSQL instance configs (shared deployment, `make serve`) load the pooled storages."""
    from sqlalchemy.pool import QueuePool

    shutil.copy(ROOT / "configs" / "deploy" / config, tmp_path / "dagster.yaml")
    with dg.DagsterInstance.from_config(str(tmp_path)) as instance:
        for store in (instance.run_storage, instance.event_log_storage, instance.schedule_storage):
            assert type(store).__name__.startswith("PooledPostgres") and isinstance(store._engine.pool, QueuePool)


def test_planned_events_written_in_one_batch_keep_each_partition_failed_or_done(tmp_path, database, monkeypatch):
    """A ranged run's planned events (written in one INSERT by PooledPostgresEventLogStorage) keep one
    row per partition: a run that fails leaves each of its partitions planned without a materialisation
    (the UI shows them failed), a run that succeeds materialises each; the asset row names the last run."""
    import datetime as dt

    from pipelines.orchestration.event_batches import enable_event_batches

    monkeypatch.delenv("DAGSTER_EVENT_BATCH_SIZE", raising=False)
    enable_event_batches()
    home, test_defs = _deployment(tmp_path)
    weather = dg.AssetKey("weather")
    with dg.DagsterInstance.from_config(str(home)) as instance:
        def ranged(first: dt.date, last: dt.date) -> dg.ExecuteInProcessResult:
            return dg.materialize(list(test_defs.assets), instance=instance, resources=dict(test_defs.resources),
                                  selection=["weather"], raise_on_error=False,
                                  tags={"dagster/asset_partition_range_start": str(day_key("chtouka", first)),
                                        "dagster/asset_partition_range_end": str(day_key("chtouka", last))})

        # configs/farms/chtouka/weather.csv ends on 2026-06-30: a range past it fails as a whole
        failed = ranged(dt.date(2026, 6, 27), dt.date(2026, 7, 2))
        assert not failed.success
        events = instance.event_log_storage
        attempts = events.get_latest_asset_partition_materialization_attempts_without_materializations(weather)
        assert sorted(attempts) == [f"2026-0{m}-{d:02d}|chtouka" for m, d in
                                    [(6, 27), (6, 28), (6, 29), (6, 30), (7, 1), (7, 2)]]
        assert {run_id for run_id, _ in attempts.values()} == {failed.run_id}
        done = ranged(dt.date(2025, 10, 1), dt.date(2025, 10, 20))
        assert done.success
        assert len(instance.get_materialized_partitions(weather)) == 20
        assert instance.get_asset_records([weather])[0].asset_entry.last_run_id == done.run_id
