"""PostgreSQL instance storage that keeps its connections (wiring module: imports dagster).

dagster-postgres opens a new connection for every statement outside the webserver (SQLAlchemy
`NullPool`): a run that records many partitions pays a TCP + authentication handshake (~3–4 ms
on this machine) several times per event, so a season backfill of daily plans (4 assets ×
273 days × farms) spends most of its time connecting. These subclasses hold a small pool per
process instead, the mode dagster-postgres itself uses in the webserver
(`optimize_for_webserver`: `pool_size` 1 plus overflow), with `pool_pre_ping` so a PostgreSQL
restart costs a reconnect, not an error, and `pool_recycle` below the server's idle limits.
Configured in `configs/deploy/dagster-postgres.yaml` (`run_storage`, `event_log_storage`,
`schedule_storage`); measured in `benchmarks/bench_backfill.py` and docs/scale.md.

Dagster's batched event writes are switched on where the code location loads
(`event_batches.enable_event_batches`); the event log storage also writes a run's
planned-materialisation events in one INSERT (one row per asset and partition, as before:
`DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS` would write one row per asset but then a failed
run's partitions no longer show as failed).
"""
from __future__ import annotations

from collections.abc import Sequence

from dagster import DagsterEventType, EventLogEntry
from dagster._core.storage.event_log.schema import SqlEventLogStorageTable
from dagster_postgres.event_log import PostgresEventLogStorage
from dagster_postgres.run_storage import PostgresRunStorage
from dagster_postgres.schedule_storage import PostgresScheduleStorage
from dagster_postgres.utils import create_pg_engine, get_token_provider_from_config, pg_url_from_config

POOL_SIZE = 1  # connections kept open per storage and process
MAX_OVERFLOW = 4  # extra connections while threads (event batching, watchers) overlap, closed after use
POOL_RECYCLE_S = 3600


def _pooled(storage) -> None:
    storage._engine.dispose()
    storage._engine = create_pg_engine(storage.postgres_url, storage._token_provider, isolation_level="AUTOCOMMIT",
                                       pool_size=POOL_SIZE, max_overflow=MAX_OVERFLOW, pool_recycle=POOL_RECYCLE_S,
                                       pool_pre_ping=True)


def _arguments(inst_data, config_value) -> dict:
    return {"inst_data": inst_data, "postgres_url": pg_url_from_config(config_value),
            "should_autocreate_tables": config_value.get("should_autocreate_tables", True),
            "token_provider": get_token_provider_from_config(config_value)}


class _Pooled:
    """Mixin: build the storage as dagster-postgres does, then swap its engine for a pooled one."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _pooled(self)

    @classmethod
    def from_config_value(cls, inst_data, config_value):
        return cls(**_arguments(inst_data, config_value))


class PooledPostgresEventLogStorage(_Pooled, PostgresEventLogStorage):
    """`PostgresEventLogStorage` with a connection pool, and the planned events of a run written in
    one INSERT (see the module docstring)."""

    def store_event_batch(self, events: Sequence[EventLogEntry]) -> None:
        """dagster-postgres batches materialisations only; a run's ASSET_MATERIALIZATION_PLANNED
        events (one per asset and partition of a ranged run, sent as one batch at run creation) are
        stored here as its materialisation batches are: one INSERT of the event rows (each keeps its
        partition, so a failed run's partitions still show as failed), the asset-key rows updated
        from the last event of each asset. Other events of the batch are stored one by one."""
        planned = [e for e in events if e.dagster_event_type == DagsterEventType.ASSET_MATERIALIZATION_PLANNED
                   and e.get_dagster_event().asset_key is not None]
        if len(planned) < 2:
            return super().store_event_batch(events)
        with self._connect() as conn:
            ids = [int(row[0]) for row in conn.execute(
                self.prepare_insert_event_batch(planned).returning(SqlEventLogStorageTable.c.id)).fetchall()]
        last = {event.get_dagster_event().asset_key: (event, event_id) for event, event_id in zip(planned, ids)}
        with self.index_transaction() as conn:
            self._store_asset_event_tags(conn, planned, ids)
            for event, event_id in last.values():
                self._store_asset_event(conn, event, event_id)
        done = {id(event) for event in planned}
        for event in events:
            if id(event) not in done:
                self.store_event(event)


class PooledPostgresRunStorage(_Pooled, PostgresRunStorage):
    """`PostgresRunStorage` with a connection pool (see the module docstring)."""


class PooledPostgresScheduleStorage(_Pooled, PostgresScheduleStorage):
    """`PostgresScheduleStorage` with a connection pool (see the module docstring)."""
