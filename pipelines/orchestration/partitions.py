"""Partitions: flights are dynamic (`<farm>-<yyyymmdd>[-n]`, registered by the landing sensor),
farms are static (one per `configs/farms/<farm>/farm.yaml`), irrigation runs daily × farm."""
import datetime as dt
import warnings

import dagster as dg

from pipelines.core.config import farm_ids

SEASON_START = "2025-09-01"

flights = dg.DynamicPartitionsDefinition(name="flights")
farms = dg.StaticPartitionsDefinition(farm_ids())
farm_days = dg.MultiPartitionsDefinition({"date": dg.DailyPartitionsDefinition(start_date=SEASON_START), "farm": farms})



def farm_day(partition_key: dg.MultiPartitionKey) -> tuple[str, dt.date]:
    """(farm id, day) of a `farm_days` partition key (the one place the day key's format is read)."""
    keys = partition_key.keys_by_dimension
    return keys["farm"], dt.date.fromisoformat(keys["date"])


# A farm-level asset reads every flight of that farm (and every day of its irrigation plan).
all_flights = dg.AllPartitionMapping()
with warnings.catch_warnings():  # beta in Dagster 1.13; the snapshot test guards its behaviour
    warnings.simplefilter("ignore", dg.BetaWarning)
    farm_of_day = dg.MultiToSingleDimensionPartitionMapping(partition_dimension_name="farm")
