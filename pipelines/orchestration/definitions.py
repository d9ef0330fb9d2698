"""The Dagster code location: assets, checks, resources, sensors, schedules, executor."""
import dagster as dg

import assets.flights
import assets.imagery
import assets.irrigation
import assets.parcels
import assets.reports
import assets.segmentation
import assets.yields
import assets.zone_irrigation
import assets.zones
from pipelines.orchestration.event_batches import enable_event_batches
from pipelines.orchestration.jobs import JOBS
from pipelines.orchestration.resources import default_dask, default_storage
from pipelines.orchestration.schedules import SCHEDULES
from pipelines.orchestration.sensors import landing_sensor

ASSET_MODULES = [assets.flights, assets.imagery, assets.segmentation, assets.parcels, assets.zones, assets.irrigation,
                 assets.zone_irrigation, assets.yields, assets.reports]

# Every process that loads the code location (run workers, daemon, `saqi backfill --here`) stores a
# ranged step's materialisations in batches: one INSERT instead of one per partition (pg_storage.py).
enable_event_batches()

defs = dg.Definitions(
    assets=dg.load_assets_from_modules(ASSET_MODULES),
    asset_checks=dg.load_asset_checks_from_modules(ASSET_MODULES),
    resources={"storage": default_storage(), "dask": default_dask()},
    jobs=JOBS,
    sensors=[landing_sensor],
    schedules=SCHEDULES,
    executor=dg.multiprocess_executor.configured({"max_concurrent": 2}),
)
