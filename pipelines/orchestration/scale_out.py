"""Scale-out on Celery (dagster-celery): the flight ingest job with each step sent to a Celery
worker through the broker (Redis), instead of a subprocess of the run worker. Reconstructed from
this module path by the workers, which load the code location themselves.

Start workers (any number of machines sharing the store and the instance):
`celery -A dagster_celery.app worker -Q dagster --prefetch-multiplier=1` with a
`dagster_celery_config.py` on PYTHONPATH naming `broker_url` and `result_backend`
(or `dagster-celery worker start -y celery.yaml -A dagster_celery.app`).
"""
from __future__ import annotations

import dagster as dg

from pipelines.orchestration.runs import FLIGHT_INGEST

CELERY_FLIGHT_JOB = "flight_ingest_celery"


def celery_run_config(broker: str, backend: str | None = None) -> dict:
    """Run config selecting the broker (and result backend, default: the broker) of the Celery executor."""
    return {"execution": {"config": {"broker": broker, "backend": backend or broker}}}


def celery_flight_job() -> dg.JobDefinition:
    """Manifest → reflectance → indices of one flight partition, steps executed by Celery workers."""
    from dagster_celery import celery_executor

    from pipelines.orchestration.definitions import defs
    from pipelines.orchestration.partitions import flights

    job = dg.define_asset_job(CELERY_FLIGHT_JOB, selection=dg.AssetSelection.assets(*FLIGHT_INGEST),
                              executor_def=celery_executor, partitions_def=flights)
    return dg.Definitions(assets=defs.assets, resources=defs.resources, jobs=[job]).resolve_job_def(CELERY_FLIGHT_JOB)
