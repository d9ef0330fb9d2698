"""Asset jobs: one per partitioning of the graph, launched by the sensor, schedules and backfills."""
from __future__ import annotations

import dagster as dg

FLIGHT_ASSETS = ("flight_manifest", "reflectance", "vegetation_indices", "crop_segmentation", "parcel_stats")
DAILY_ASSETS = ("weather", "reference_et", "irrigation_plan")
WEEKLY_ASSETS = ("parcel_timeseries", "yield_estimate", "parcel_reports")

flight_job = dg.define_asset_job(
    "flight_job", selection=dg.AssetSelection.assets(*FLIGHT_ASSETS),
    description="One landed flight: manifest → reflectance → indices → crop/weed map → parcel statistics.")
daily_job = dg.define_asset_job(
    "daily_job", selection=dg.AssetSelection.assets(*DAILY_ASSETS),
    description="One farm-day: weather → reference ET0 → irrigation plan.")
weekly_job = dg.define_asset_job(
    "weekly_job", selection=dg.AssetSelection.assets(*WEEKLY_ASSETS),
    description="One farm: season parcel cube → yield estimate → parcel/cooperative reports and weekly bulletin.")

JOBS = [flight_job, daily_job, weekly_job]
