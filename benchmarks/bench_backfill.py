"""Season backfill of daily plans for a cooperative: N farms × a season, single-run ranges vs day-by-day runs.

N synthetic farms are copies of the sample farm's config (`configs/farms/chtouka`: parcels, weather,
irrigation records) under a temporary SAQI_CONFIGS with new farm ids `coop001…`; no flights, so
each plan's Kcb comes from the FAO-56 stage tables. The Dagster instance is PostgreSQL (database
`saqi_bench_15b` on 127.0.0.1:5432, created here and dropped at the end).

Figure: farm-days planned per minute by the daily backfill assets (`weather`, `reference_et`,
`irrigation_plan`, `zone_irrigation_plan`) run as one run per farm over its days
(`materialize_ranges`, what `saqi backfill --here` and the daemon's single-run policy do), one farm
run per core at once, on the deployment's instance config (pooled connections, batched event
writes: pipelines/orchestration/pg_storage.py).
Baseline, in the same run: one farm's first days as one run per day (`materialize_stage`, the
path before the single-run policy). Both are timed in a worker process after its imports. The
two recommendations cubes of that farm are compared on the baseline's days (`identical`).
Full size: 100 farms × the season (273 days, Oct–June); `--quick`: 3 farms × 30 days.
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
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PG = {"host": "127.0.0.1", "port": 5432, "user": "postgres"}
DATABASE = "saqi_bench_15b"
SOURCE_FARM = "chtouka"
FULL, QUICK = (100, None, 5), (3, 30, 4)  # farms, days (None: the whole season), baseline days
TARGET_S = 600.0
WORKERS = os.cpu_count() or 1  # farm runs side by side, as the daemon runs a backfill's per-farm runs


@dataclass
class BackfillResult:
    """Timings (s) of the range backfill and of the day-by-day baseline, and where their stores are."""

    farms: list[str]
    days: list[dt.date]
    range_s: float
    range_failed: list[str]
    baseline_days: list[dt.date]
    baseline_s: float
    baseline_failed: list[str]
    range_root: Path
    baseline_root: Path
    work: Path


def farm_copies(work: Path, n_farms: int) -> Path:
    """A configs folder under `work` with `n_farms` copies of the sample farm (ids coop001…)."""
    configs = work / "configs"
    shutil.copytree(ROOT / "configs", configs, ignore=shutil.ignore_patterns("farms"))
    source = ROOT / "configs" / "farms" / SOURCE_FARM
    for i in range(1, n_farms + 1):
        farm = f"coop{i:03d}"
        target = configs / "farms" / farm
        shutil.copytree(source, target)
        yaml_path = target / "farm.yaml"
        yaml_path.write_text(yaml_path.read_text(encoding="utf-8").replace(f"id: {SOURCE_FARM}", f"id: {farm}", 1),
                             encoding="utf-8")
    return configs


def _worker(mode: str, home: str, data_root: str, first: str, last: str, *farms: str) -> None:
    """Backfill `farms` over first..last as ranges (`range`) or one run per day (`daily`); print JSON."""
    import dagster as dg

    from pipelines.core.config import configs_dir
    from pipelines.orchestration.definitions import defs
    from pipelines.orchestration.resources import SaqiStorage
    from pipelines.orchestration.runs import BACKFILL_ASSETS, backfill_keys, materialize_ranges, materialize_stage

    storage = SaqiStorage(data_root=data_root, landing_dir=str(Path(data_root).parent / "landing"),
                          configs=str(configs_dir()))
    bench_defs = dg.Definitions(assets=list(defs.assets), resources={"storage": storage})
    with dg.DagsterInstance.from_config(home) as instance:
        keys = backfill_keys("daily", list(farms), dt.date.fromisoformat(first), dt.date.fromisoformat(last), instance)
        started = time.perf_counter()
        if mode == "range":
            outcome = materialize_ranges(bench_defs, "bench backfill", BACKFILL_ASSETS["daily"], keys, instance,
                                         workers=WORKERS)
        else:
            outcome = materialize_stage(bench_defs, "bench backfill", BACKFILL_ASSETS["daily"], keys, instance)
        seconds = time.perf_counter() - started
    print(json.dumps({"seconds": seconds, "succeeded": len(outcome.succeeded),
                      "failed": [f"{k}: {v}" for k, v in outcome.failed.items()]}))


def _run_worker(args: list[str], env: dict) -> dict:
    proc = subprocess.run([sys.executable, "-m", "benchmarks.bench_backfill", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=6 * 3600)
    if proc.returncode != 0:
        raise RuntimeError(f"backfill worker {args[0]} failed: {proc.stderr.strip()[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _admin():
    import psycopg2

    admin = psycopg2.connect(dbname="postgres", connect_timeout=5, **PG)
    admin.autocommit = True
    return admin


def _drop(admin) -> None:
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')


def season_backfill(n_farms: int, n_days: int | None, baseline_days: int, work: Path) -> BackfillResult:
    """Backfill n_farms × n_days (None: the whole season) as ranges, and the first farm's first
    `baseline_days` day by day, on a fresh PostgreSQL instance (dropped afterwards)."""
    configs = farm_copies(work, n_farms)
    farms = [f"coop{i:03d}" for i in range(1, n_farms + 1)]
    from pipelines.core.config import load_farm

    season = load_farm(SOURCE_FARM).season
    total = n_days or (season.end - season.start).days + 1
    days = [season.start + dt.timedelta(days=i) for i in range(total)]
    home = work / "home"
    home.mkdir()
    shutil.copy(ROOT / "configs" / "deploy" / "dagster-postgres.yaml", home / "dagster.yaml")
    env = {**os.environ, "SAQI_CONFIGS": str(configs), "DAGSTER_HOME": str(home), "PYTHONPATH": str(ROOT),
           "DAGSTER_PG_HOST": PG["host"], "DAGSTER_PG_PORT": str(PG["port"]), "DAGSTER_PG_USER": PG["user"],
           "DAGSTER_PG_PASSWORD": "", "DAGSTER_PG_DB": DATABASE}
    range_root, baseline_root = work / "range" / "data", work / "daily" / "data"
    admin = _admin()
    try:
        _drop(admin)
        with admin.cursor() as cursor:
            cursor.execute(f'CREATE DATABASE "{DATABASE}"')
        base = days[:baseline_days]
        daily = _run_worker(["daily", str(home), str(baseline_root), base[0].isoformat(), base[-1].isoformat(),
                             farms[0]], env)
        ranged = _run_worker(["range", str(home), str(range_root), days[0].isoformat(), days[-1].isoformat(),
                              *farms], env)
    finally:
        _drop(admin)
        admin.close()
    return BackfillResult(farms, days, ranged["seconds"], ranged["failed"], base, daily["seconds"], daily["failed"],
                          range_root, baseline_root, work)


def identical(result: BackfillResult) -> bool:
    """The first farm's recommendations cube of the range backfill equals the day-by-day one on the baseline's days."""
    import numpy as np

    from pipelines.store import cube, tables

    days = slice(np.datetime64(result.baseline_days[0]), np.datetime64(result.baseline_days[-1]))
    ranged = tables.read_recommendations(cube.farm_store(result.range_root, result.farms[0])).sel(date=days)
    daily = tables.read_recommendations(cube.farm_store(result.baseline_root, result.farms[0])).sel(date=days)
    return set(ranged.data_vars) == set(daily.data_vars) and all(
        np.array_equal(ranged[n].values, daily[n].values, equal_nan=True) for n in daily.data_vars)


def run(quick: bool = False) -> list[dict]:
    n_farms, n_days, baseline_days = QUICK if quick else FULL
    work = Path(tempfile.mkdtemp(prefix="saqi-bench-backfill-"))
    try:
        result = season_backfill(n_farms, n_days, baseline_days, work)
        same = identical(result)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    farm_days = len(result.farms) * len(result.days)
    rate = farm_days / result.range_s * 60.0
    baseline_rate = len(result.baseline_days) / result.baseline_s * 60.0
    failed = len(result.range_failed) + len(result.baseline_failed)
    case = (f"season backfill, {len(result.farms)} farms × {len(result.days)} days = {farm_days} farm-days of the 4 "
            f"daily assets, one run per farm, {WORKERS} at once, PostgreSQL; {result.range_s:.0f} s; baseline "
            f"{len(result.baseline_days)} day-by-day runs; cube identical: {same}; failed partitions {failed}")
    return [{"benchmark": "backfill", "case": case, "figure": rate, "unit": "farm-days/min",
             "baseline": "one run per farm-day", "baseline_figure": baseline_rate, "ratio": rate / baseline_rate,
             "target": f"100 farms × season < {TARGET_S:.0f} s, cube identical",
             "met": bool(same and not failed and not quick and result.range_s < TARGET_S)}]


if __name__ == "__main__" and len(sys.argv) > 2 and sys.argv[1] in ("range", "daily"):
    _worker(*sys.argv[1:])
