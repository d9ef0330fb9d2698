"""Asset jobs: one per partitioning of the graph, launched by the sensor, schedules and backfills."""
from __future__ import annotations

import dagster as dg

from pipelines.orchestration.runs import (
    DAILY,
    FARM_OUTPUTS,
    FARM_SEASON,
    FLIGHT_ANALYSIS,
    FLIGHT_INGEST,
)

FLIGHT_ASSETS = FLIGHT_INGEST + FLIGHT_ANALYSIS
DAILY_ASSETS = DAILY
WEEKLY_ASSETS = FARM_SEASON + FARM_OUTPUTS

flight_job = dg.define_asset_job(
    "flight_job", selection=dg.AssetSelection.assets(*FLIGHT_ASSETS),
    description="One landed flight: manifest → reflectance → indices → crop/weed map → parcel statistics and zones.")
daily_job = dg.define_asset_job(
    "daily_job", selection=dg.AssetSelection.assets(*DAILY_ASSETS),
    description="One farm-day: weather → reference ET0 → irrigation plan (per parcel and per zone).")
weekly_job = dg.define_asset_job(
    "weekly_job", selection=dg.AssetSelection.assets(*WEEKLY_ASSETS),
    description="One farm: season parcel cube → yield estimate → parcel/cooperative reports and weekly bulletin.")

JOBS = [flight_job, daily_job, weekly_job]
