"""The landing sensor: registers each completely landed flight as a `flights` partition and
requests the flight job for it (ingest → indices → segmentation → parcel statistics).

Completeness and stability rules: `pipelines.orchestration.landing`. The cursor (JSON) keeps the flights still
uploading with their size fingerprint and every flight already registered, so a half-uploaded
flight is never requested and a restart neither misses nor repeats one (the instance's dynamic
partitions are consulted too, in case the cursor was reset).
"""
from __future__ import annotations

from pathlib import Path

import dagster as dg

from pipelines.core.config import farm_ids
from pipelines.orchestration.jobs import flight_job
from pipelines.orchestration.landing import LandingCursor, scan_landing
from pipelines.orchestration.partitions import flights
from pipelines.orchestration.resources import SaqiStorage

INTERVAL_S = 60


@dg.sensor(job=flight_job, minimum_interval_seconds=INTERVAL_S, default_status=dg.DefaultSensorStatus.RUNNING,
           description="Watches the landing area for complete flight folders; registers and runs each once.")
def landing_sensor(context: dg.SensorEvaluationContext, storage: SaqiStorage) -> dg.SensorResult:
    cursor = LandingCursor.parse(context.cursor)
    scan = scan_landing(storage.landing_dir, farm_ids(Path(storage.configs)))
    for name, reason in scan.refused.items():
        context.log.warning(f"landing: refused {name}: {reason}")
    known = {f.key for f in scan.flights if context.instance.has_dynamic_partition(flights.name, f.key)}
    ready = cursor.advance(scan, known)
    waiting = sorted(cursor.pending)
    return dg.SensorResult(
        run_requests=[dg.RunRequest(partition_key=f.key, run_key=f"{f.key}:{f.fingerprint}",
                                    tags={"saqi/landing": f.location}) for f in ready],
        dynamic_partitions_requests=[flights.build_add_request([f.key for f in ready])] if ready else [],
        cursor=cursor.dump(),
        skip_reason=(None if ready
                     else f"no new complete flight ({len(waiting)} waiting: {', '.join(waiting) or 'none'})"),
    )
