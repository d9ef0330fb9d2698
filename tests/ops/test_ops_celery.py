"""Flights backfilled through two Celery worker processes (dagster-celery, Redis broker db 15 on
127.0.0.1, started and stopped here) give the same Zarr products as the in-process path."""
from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
BROKER = "redis://127.0.0.1:6379/15"
DATES = [dt.date(2026, 1, 15), dt.date(2026, 3, 1)]


def _redis_up() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(BROKER, socket_connect_timeout=2).ping())
    except redis.exceptions.ConnectionError:
        return False


@pytest.fixture
def workers(tmp_path):
    """Two Celery worker processes (one slot each) on the `dagster` queue; terminated at the end."""
    import redis

    redis.Redis.from_url(BROKER).flushdb()
    config = tmp_path / "celery_config"
    config.mkdir()
    (config / "dagster_celery_config.py").write_text(f"broker_url = {BROKER!r}\nresult_backend = {BROKER!r}\n")
    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{config}", "SAQI_DATA_ROOT": str(tmp_path / "celery-data"),
           "SAQI_LANDING_DIR": str(tmp_path / "landing"), "DAGSTER_HOME": str(tmp_path / "home")}
    logs = [open(tmp_path / f"worker{i}.log", "w") for i in (1, 2)]
    procs = [subprocess.Popen([sys.executable, "-m", "celery", "-A", "dagster_celery.app", "worker", "-Q", "dagster",
                               "--concurrency=1", "--prefetch-multiplier=1", "--pool=prefork", "--loglevel=INFO",
                               "-n", f"saqi{i}@127.0.0.1"], env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
             for i, log in zip((1, 2), logs)]
    try:
        yield env, [tmp_path / f"worker{i}.log" for i in (1, 2)]
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        for log in logs:
            log.close()
        redis.Redis.from_url(BROKER).flushdb()


@pytest.mark.slow
@pytest.mark.integration
@pytest.mark.skipif(not _redis_up(), reason="no Redis on 127.0.0.1:6379")
def test_celery_backfill_of_flights_equals_in_process(tmp_path, workers, monkeypatch):
    from pipelines.core.config import configs_dir, load_farm
    from pipelines.orchestration.definitions import defs
    from pipelines.orchestration.resources import SaqiStorage
    from pipelines.orchestration.runs import FLIGHT_INGEST, QUIET
    from pipelines.orchestration.scale_out import celery_flight_job, celery_run_config
    from pipelines.store import cube, windows
    from pipelines.synthetic.flights import generate_farm_flights

    env, logs = workers
    generate_farm_flights(load_farm("chtouka"), tmp_path / "landing", tmp_path / "truth", dates=DATES)
    keys = [f"chtouka-{d:%Y%m%d}" for d in DATES]
    (tmp_path / "home").mkdir()
    for name in ("SAQI_DATA_ROOT", "SAQI_LANDING_DIR", "DAGSTER_HOME"):
        monkeypatch.setenv(name, env[name])
    local = SaqiStorage(data_root=str(tmp_path / "local-data"), landing_dir=env["SAQI_LANDING_DIR"],
                        configs=str(configs_dir()))
    with dg.DagsterInstance.from_config(env["DAGSTER_HOME"]) as instance:
        instance.add_dynamic_partitions("flights", keys)
        for key in keys:
            result = dg.execute_job(dg.reconstructable(celery_flight_job), instance,
                                    run_config={**QUIET, **celery_run_config(BROKER)}, tags={"dagster/partition": key})
            assert result.success, f"celery run of {key} failed; worker logs in {logs}"
            assert result.dagster_run.tags.get("dagster/partition") == key
            local_run = dg.materialize(list(defs.assets), instance=instance, resources={"storage": local},
                                       partition_key=key,
                                       selection=list(FLIGHT_INGEST), run_config=QUIET)
            assert local_run.success
    served = [Path(p).read_text().count("] succeeded in ") for p in logs]
    assert sum(served) == len(keys) * len(FLIGHT_INGEST), f"steps executed per worker: {served}"
    celery_store = cube.farm_store(env["SAQI_DATA_ROOT"], "chtouka")
    local_store = cube.farm_store(local.stores_root, "chtouka")
    for key in keys:
        for product in ("reflectance", "indices"):
            ours = np.asarray(windows.stored_array(celery_store, key, product)[:])
            theirs = np.asarray(windows.stored_array(local_store, key, product)[:])
            assert ours.shape == theirs.shape and np.isfinite(ours).mean() > 0.9
            np.testing.assert_array_equal(ours, theirs, err_msg=f"{key} {product}")
