"""Backfill throughput of the Dagster instance: PostgreSQL vs SQLite, runs launched concurrently.

Two backfills are measured. (1) A daily backfill of the `weather` asset over farm-days (one run
per partition, as the daemon launches them) is split between 2 worker processes started at once
against the same instance, as the multiprocess run launcher does. Figure: runs per minute on PostgreSQL (a throwaway
database on 127.0.0.1:5432); baseline: the same on SQLite in the same run. Every failed run is
counted, and "database is locked" failures separately: the target is none on PostgreSQL.
(2) A flight backfill of 30 flights x 3 farms (chtouka plus two copies of it, haouz and tadla, in a
temporary configs dir): 90 dynamic partitions `<farm>-<yyyymmdd>` registered in the instance, one
landed folder each (a symlink to one synthetic orthomosaic + its own flight.yaml), and one run of
`flight_manifest` per partition through Dagster's multiprocess executor (`execute_job` of a
reconstructable job; each step in its own process), split between 2 concurrent worker processes.
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
EXTRA_FARMS = ("haouz", "tadla")
FIRST_FLIGHT = dt.date(2026, 1, 5)
FLIGHT_EVERY_DAYS = 3


def manifest_job():
    """The `flight_manifest` asset as a job on the code location's own executor (multiprocess,
    max_concurrent 2), reconstructed from this module path in each step process."""
    import dagster as dg

    from pipelines.orchestration.definitions import defs

    job = dg.define_asset_job("bench_manifest_job", selection=["flight_manifest"], executor_def=defs.executor)
    return dg.Definitions(assets=defs.assets, resources=defs.resources, jobs=[job]).get_job_def("bench_manifest_job")


def _flight_worker(home: str, keys: list[str]) -> None:
    """Execute one multiprocess run of `flight_manifest` per flight key; print the outcome."""
    import dagster as dg

    from benchmarks.bench_ops import (
        manifest_job as job_fn,  # a module path, not __main__, for the step processes
    )
    from pipelines.orchestration.runs import QUIET

    succeeded, failed = 0, []
    with dg.DagsterInstance.from_config(home) as instance:
        for key in keys:
            result = dg.execute_job(dg.reconstructable(job_fn), instance, run_config=QUIET,
                                    tags={"dagster/partition": key, "saqi/stage": "bench"})
            if result.success:
                succeeded += 1
                continue
            errors = [e.step_failure_data.error.message for e in result.all_events
                      if e.is_step_failure and e.step_failure_data and e.step_failure_data.error]
            failed.append(f"{key}: {errors[0].strip().splitlines()[-1] if errors else 'run failed'}")
    print(json.dumps({"succeeded": succeeded, "failed": failed}))


def _worker(home: str, days: list[str]) -> None:
    """Run one single-partition run per day against the instance in `home`; print the outcome."""
    import dagster as dg

    from pipelines.orchestration.definitions import defs
    from pipelines.orchestration.runs import day_key, materialize_stage

    with dg.DagsterInstance.from_config(home) as instance:
        keys = [day_key("chtouka", dt.date.fromisoformat(d)) for d in days]
        outcome = materialize_stage(defs, "bench", ["weather"], keys, instance)
    print(json.dumps({"succeeded": len(outcome.succeeded), "failed": list(outcome.failed.values())}))


def _throughput(home: Path, n_runs: int, env: dict) -> tuple[float, int, int]:
    days = [(FIRST_DAY + dt.timedelta(days=i)).isoformat() for i in range(n_runs)]
    return _concurrent(home, "worker", days, env)


def _concurrent(home: Path, mode: str, items: list[str], env: dict) -> tuple[float, int, int]:
    """Split `items` between WORKERS processes started at once; (succeeded runs/min, failed, locked)."""
    shares = [items[i::WORKERS] for i in range(WORKERS)]
    started = time.perf_counter()
    procs = [subprocess.Popen([sys.executable, "-m", "benchmarks.bench_ops", mode, str(home), *share], cwd=ROOT,
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


def _flight_setup(work: Path, n_farms: int, n_flights: int) -> tuple[dict, list[str]]:
    """Temp configs (+ farm copies), a landing area with one folder per flight; env and flight keys."""
    from pipelines.core.config import load_farm
    from pipelines.synthetic.flights import generate_farm_flights

    configs = work / "configs"
    shutil.copytree(ROOT / "configs", configs)
    farms = ["chtouka", *EXTRA_FARMS][:n_farms]
    for farm in farms[1:]:
        shutil.copytree(configs / "farms" / "chtouka", configs / "farms" / farm)
        yaml_path = configs / "farms" / farm / "farm.yaml"
        yaml_path.write_text(yaml_path.read_text(encoding="utf-8").replace("id: chtouka", f"id: {farm}", 1),
                             encoding="utf-8")
    source = generate_farm_flights(load_farm("chtouka"), work / "source", work / "truth", dates=[FIRST_FLIGHT])[0]
    landing = work / "landing"
    keys = []
    for farm in farms:
        for i in range(n_flights):
            day = FIRST_FLIGHT + dt.timedelta(days=FLIGHT_EVERY_DAYS * i)
            folder = landing / farm / day.strftime("%Y%m%d")
            folder.mkdir(parents=True)
            (folder / "orthomosaic.tif").symlink_to(source.orthomosaic)
            (folder / "flight.yaml").write_text(source.manifest.read_text(encoding="utf-8").replace(
                FIRST_FLIGHT.isoformat(), day.isoformat()), encoding="utf-8")
            keys.append(f"{farm}-{day:%Y%m%d}")
    env = {"SAQI_CONFIGS": str(configs), "SAQI_LANDING_DIR": str(landing), "PYTHONPATH": str(ROOT)}
    return env, keys


def _flight_throughput(home: Path, keys: list[str], env: dict) -> tuple[float, int, int]:
    """Register the flight partitions (untimed), then time the concurrent backfill of `flight_manifest`."""
    registration = subprocess.run([sys.executable, "-m", "benchmarks.bench_ops", "register", str(home), *keys],
                                  cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    if registration.returncode != 0:
        raise RuntimeError(f"registering flight partitions in {home} failed: {registration.stderr.strip()[-500:]}")
    return _concurrent(home, "flights", keys, env)


def _register(home: str, keys: list[str]) -> None:
    import dagster as dg

    with dg.DagsterInstance.from_config(home) as instance:
        instance.add_dynamic_partitions("flights", keys)


def _row(case: str, rates: dict, failed: dict, locked: dict) -> dict:
    return {
        "benchmark": "ops",
        "case": (f"{case}; failed runs PostgreSQL {failed['postgres']} (locked {locked['postgres']}), "
                 f"SQLite {failed['sqlite']} (locked {locked['sqlite']})"),
        "figure": rates["postgres"], "unit": "runs/min", "baseline": "same backfill on the SQLite instance",
        "baseline_figure": rates["sqlite"],
        "ratio": rates["postgres"] / rates["sqlite"] if rates["sqlite"] else float("nan"),
        "target": "no failed run on PostgreSQL", "met": bool(failed["postgres"] == 0),
    }


def run(quick: bool = False) -> list[dict]:
    n_runs = 4 if quick else 24
    n_farms, n_flights = (2, 3) if quick else (3, 30)
    work = Path(tempfile.mkdtemp(prefix="saqi-bench-ops-"))
    env = {**os.environ, "SAQI_DATA_ROOT": str(work / "data")}
    flight_env, keys = _flight_setup(work, n_farms, n_flights)
    flight_env = {**env, **flight_env, "SAQI_DATA_ROOT": str(work / "flight-data")}
    daily, flights = ({}, {}, {}), ({}, {}, {})
    admins = []
    try:
        for backend in ("sqlite", "postgres"):
            homes = []
            for case in ("daily", "flights"):
                home = work / f"{backend}-{case}"
                home.mkdir()
                homes.append(home)
                backend_env = {}
                if backend == "sqlite":
                    shutil.copy(ROOT / "configs" / "dagster" / "dagster.yaml", home / "dagster.yaml")
                else:
                    admin, database = _postgres_database()
                    admins.append((admin, database))
                    shutil.copy(ROOT / "configs" / "deploy" / "dagster-postgres.yaml", home / "dagster.yaml")
                    backend_env = {"DAGSTER_PG_HOST": PG["host"], "DAGSTER_PG_PORT": str(PG["port"]),
                                   "DAGSTER_PG_USER": PG["user"], "DAGSTER_PG_PASSWORD": "", "DAGSTER_PG_DB": database}
                if case == "daily":
                    figures = _throughput(home, n_runs, {**env, **backend_env})
                    target = daily
                else:
                    figures = _flight_throughput(home, keys, {**flight_env, **backend_env})
                    target = flights
                for store, value in zip(target, figures):
                    store[backend] = value
    finally:
        for admin, database in admins:
            with admin.cursor() as cursor:
                cursor.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
            admin.close()
        shutil.rmtree(work, ignore_errors=True)
    return [
        _row(f"daily backfill, {n_runs} single-partition runs of `weather` from {WORKERS} concurrent processes",
             *daily),
        _row(f"flight backfill, {n_flights} flights x {n_farms} farms = {len(keys)} runs of `flight_manifest` on the "
             f"multiprocess executor from {WORKERS} concurrent processes", *flights),
    ]


MODES = {"worker": _worker, "flights": _flight_worker, "register": _register}

if __name__ == "__main__" and len(sys.argv) > 2 and sys.argv[1] in MODES:
    MODES[sys.argv[1]](sys.argv[2], sys.argv[3:])
