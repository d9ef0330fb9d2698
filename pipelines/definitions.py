"""The Dagster code location: assets, checks, resources, sensors, schedules, executor."""
import dagster as dg

import assets.flights
import assets.imagery
import assets.irrigation
import assets.parcels
import assets.reports
import assets.segmentation
import assets.yields
import assets.zones
from pipelines.resources import default_storage

ASSET_MODULES = [assets.flights, assets.imagery, assets.segmentation, assets.parcels, assets.zones, assets.irrigation,
                 assets.yields, assets.reports]

defs = dg.Definitions(
    assets=dg.load_assets_from_modules(ASSET_MODULES),
    asset_checks=dg.load_asset_checks_from_modules(ASSET_MODULES),
    resources={"storage": default_storage()},
    executor=dg.multiprocess_executor.configured({"max_concurrent": 2}),
)
