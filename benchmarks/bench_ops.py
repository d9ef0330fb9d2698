"""Backfill throughput of the Dagster instance: PostgreSQL vs SQLite, runs launched concurrently.

A daily backfill of the `weather` asset over farm-days (one run per partition, as the daemon
launches them) is split between 2 worker processes started at once against the same instance,
as the multiprocess run launcher does. Figure: runs per minute on PostgreSQL (a throwaway
database on 127.0.0.1:5432); baseline: the same on SQLite in the same run. Every failed run is
counted, and "database is locked" failures separately: the target is none on PostgreSQL.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORKERS = 2
FIRST_DAY = dt.date(2025, 10, 1)
PG = {"host": "127.0.0.1", "port": 5432, "user": "postgres"}


def _worker(home: str, days: list[str]) -> None:
    """Run one single-partition run per day against the instance in `home`; print the outcome."""
    import dagster as dg

    from pipelines.definitions import defs
    from pipelines.runs import day_key, materialize_stage

    with dg.DagsterInstance.from_config(home) as instance:
        keys = [day_key("chtouka", dt.date.fromisoformat(d)) for d in days]
        outcome = materialize_stage(defs, "bench", ["weather"], keys, instance)
    print(json.dumps({"succeeded": len(outcome.succeeded), "failed": list(outcome.failed.values())}))


def _throughput(home: Path, n_runs: int, env: dict) -> tuple[float, int, int]:
    days = [(FIRST_DAY + dt.timedelta(days=i)).isoformat() for i in range(n_runs)]
    shares = [days[i::WORKERS] for i in range(WORKERS)]
    started = time.perf_counter()
    procs = [subprocess.Popen([sys.executable, "-m", "benchmarks.bench_ops", "worker", str(home), *share], cwd=ROOT,
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for share in shares]
    failures: list[str] = []
    succeeded = 0
    for proc in procs:
        out, err = proc.communicate(timeout=600)
        if proc.returncode != 0:
            failures.append(err.strip().splitlines()[-1] if err.strip() else f"worker exit {proc.returncode}")
            continue
        result = json.loads(out.strip().splitlines()[-1])
        succeeded += result["succeeded"]
        failures += result["failed"]
    elapsed = time.perf_counter() - started
    locked = sum("database is locked" in f for f in failures)
    return succeeded / elapsed * 60.0, len(failures), locked


def _postgres_database():
    import psycopg2

    admin = psycopg2.connect(dbname="postgres", connect_timeout=5, **PG)
    admin.autocommit = True
    name = f"saqi_bench_{uuid.uuid4().hex[:8]}"
    with admin.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    return admin, name


def run(quick: bool = False) -> list[dict]:
    n_runs = 4 if quick else 24
    work = Path(tempfile.mkdtemp(prefix="saqi-bench-ops-"))
    env = {**os.environ, "SAQI_DATA_ROOT": str(work / "data")}
    admin = None
    try:
        sqlite_home = work / "sqlite"
        sqlite_home.mkdir()
        shutil.copy(ROOT / "configs" / "dagster" / "dagster.yaml", sqlite_home / "dagster.yaml")
        sqlite_rate, sqlite_failed, sqlite_locked = _throughput(sqlite_home, n_runs, env)
        admin, database = _postgres_database()
        pg_home = work / "postgres"
        pg_home.mkdir()
        shutil.copy(ROOT / "configs" / "deploy" / "dagster-postgres.yaml", pg_home / "dagster.yaml")
        pg_env = {**env, "DAGSTER_PG_HOST": PG["host"], "DAGSTER_PG_PORT": str(PG["port"]), "DAGSTER_PG_USER": PG["user"],
                  "DAGSTER_PG_PASSWORD": "", "DAGSTER_PG_DB": database}
        pg_rate, pg_failed, pg_locked = _throughput(pg_home, n_runs, pg_env)
    finally:
        if admin is not None:
            with admin.cursor() as cursor:
                cursor.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
            admin.close()
        shutil.rmtree(work, ignore_errors=True)
    return [{
        "benchmark": "ops",
        "case": (f"daily backfill, {n_runs} single-partition runs of `weather` from {WORKERS} concurrent processes; "
                 f"failed runs PostgreSQL {pg_failed} (locked {pg_locked}), SQLite {sqlite_failed} (locked {sqlite_locked})"),
        "figure": pg_rate, "unit": "runs/min", "baseline": "same backfill on the SQLite instance",
        "baseline_figure": sqlite_rate, "ratio": pg_rate / sqlite_rate if sqlite_rate else float("nan"),
        "target": "no failed run on PostgreSQL", "met": bool(pg_failed == 0),
    }]


if __name__ == "__main__" and len(sys.argv) > 2 and sys.argv[1] == "worker":
    _worker(sys.argv[2], sys.argv[3:])
