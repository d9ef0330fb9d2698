"""The water balance and today's irrigation plan per management zone (FAO-56 ch. 7-8 per zone).

Each zone of the latest zoned flight on or before the plan date (`zone_outlines`) is balanced as
its own field: the parent parcel's crop, soil, sowing date and irrigation method, the zone's area,
and the zone's field-average NDVI on every flight of the season driving its Kcb (`kcb.parcel_kcb`).
Recorded irrigations of a parcel apply to each of its zones with the same gross depth (one valve,
one depth); a parcel without records is assumed irrigated as planned zone by zone (each zone
refilled when it reaches its own RAW, as a variable-rate system would), flagged. The plan rows are
`recommendation.recommend` per zone, with the parcel-level spread: depletion of the most vigorous
zone minus that of the weakest (mm; positive = the vigorous zone is drier).

Without any zones product up to the plan date the plan falls back to the per-parcel plan
(`farm_plan.farm_plan`), one row per parcel as zone 0, and the note says so.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import xarray as xr

from models.irrigation.farm_plan import (
    FarmInputs,
    farm_inputs,
    farm_plan,
    forecast_table,
)
from models.irrigation.recommendation import recommend
from models.irrigation.season import season_balance
from pipelines.core.config import Farm, load_farm
from pipelines.core.errors import InputDataError
from pipelines.core.grid import FarmGrid
from pipelines.imagery.parcels.layer import load_parcels
from pipelines.imagery.zones.outlines import (
    ZONES,
    zone_observations,
    zone_outlines,
    zoned_flight,
)
from pipelines.store import cube, windows

NO_ZONES = "no management zones in the store up to the plan date (the management_zones asset writes them per flight)"
PLAN_COLUMNS = ["parcel", "zone", "zone_id", "crop", "irrigation_method", "area_m2", "irrigate_today", "depth_mm",
                "volume_m3", "next_irrigation_date", "depletion_mm", "raw_mm", "taw_mm", "ks", "stress", "kcb",
                "kcb_source", "etc_mm", "depletion_spread_mm", "outlook_etc_mm", "outlook_rain_mm", "outlook_source",
                "notes"]


@dataclass
class ZoneInputs:
    """The farm's inputs with zones in place of parcels: `zones` has season_balance's parcel
    columns (parcel = zone id, area_m2 = zone area) plus parent, zone (rank) and note."""

    farm: FarmInputs
    flight: str
    zones: pd.DataFrame
    observations: pd.DataFrame
    irrigation_events: pd.DataFrame | None
    observation_note: str
    end: dt.date


def zone_table(parcels: pd.DataFrame, outlines: pd.DataFrame) -> pd.DataFrame:
    """Zone rows for `season_balance`: the parent parcel's attributes, the zone's id and area (m²)."""
    attributes = parcels.drop(columns="area_m2").rename(columns={"parcel": "parent"})
    zones = outlines[["zone_id", "parcel", "zone", "area_m2", "note"]].rename(columns={"parcel": "parent"})
    return zones.merge(attributes, on="parent", how="inner").rename(columns={"zone_id": "parcel"})


def zone_events(events: pd.DataFrame | None, zones: pd.DataFrame) -> pd.DataFrame | None:
    """Each recorded parcel irrigation (date, parcel, gross depth_mm) repeated for every zone of the parcel."""
    if events is None:
        return None
    expanded = events.rename(columns={"parcel": "parent"}).merge(zones[["parent", "parcel"]], on="parent")
    return expanded[["date", "parcel", "depth_mm"]].sort_values(["date", "parcel"], ignore_index=True)


def zone_inputs(farm: Farm, data_root: str | Path, end: dt.date | None = None) -> ZoneInputs:
    """Zones of the latest zoned flight on or before `end` (default: last weather day of the season),
    their NDVI per flight and the farm's weather."""
    base = farm_inputs(farm, data_root)
    end = end or min(farm.season.end, base.weather.index[-1].date())
    store = cube.farm_store(data_root, farm.id)
    flight = zoned_flight(store, end)
    if flight is None:
        raise InputDataError(store, f"{NO_ZONES}: none on or before {end}",
                             "materialise management_zones for a flight of the season, or plan per parcel")
    grid = FarmGrid.of_farm(farm)
    ranks = windows.stored_array(store, flight, ZONES)
    outlines = zone_outlines(ranks, grid, load_parcels(farm, grid))
    zones = zone_table(base.parcels, outlines)
    observations = zone_observations(store, outlines, grid, farm.season.start, end)
    flights = observations["date"].nunique()
    note = (f"zones of flight {flight}: {int((zones['zone'] > 0).sum())} zones in {zones['parent'].nunique()} parcels; "
            + (f"Kcb from {flights} flights between FAO-56 stage tables" if flights
               else "no NDVI on any flight: Kcb from FAO-56 stage tables only"))
    return ZoneInputs(base, flight, zones, observations, zone_events(base.irrigation_events, zones), note, end)


def zone_season(farm: Farm, data_root: str | Path, end: dt.date | None = None) -> tuple[ZoneInputs, xr.Dataset]:
    """The zone inputs and the balance (dims parcel = zone id, date) from the season start to `end`."""
    inputs = zone_inputs(farm, data_root, end)
    balance = season_balance(inputs.zones, inputs.farm.weather, inputs.farm.et0_mm, farm.season.start, inputs.end,
                             inputs.observations, inputs.irrigation_events, assume_planned_irrigation=True)
    return inputs, balance


def zone_rows(recommendation: pd.DataFrame, zones: pd.DataFrame) -> pd.DataFrame:
    """`recommend` rows per zone with parcel, zone, zone_id, area_m2 and the parcel's depletion spread (mm)."""
    plan = recommendation.rename(columns={"parcel": "zone_id"})
    by_zone = zones.set_index("parcel")
    plan["parcel"] = plan["zone_id"].map(by_zone["parent"])
    plan["zone"] = plan["zone_id"].map(by_zone["zone"]).astype(int)
    plan["area_m2"] = plan["zone_id"].map(by_zone["area_m2"]).round(1)
    extra = plan["zone_id"].map(by_zone["note"]).fillna("")
    plan["notes"] = [("; ".join(filter(None, [e, n]))) for e, n in zip(extra, plan["notes"])]
    ranked = plan.sort_values(["parcel", "zone"])
    ends = ranked.groupby("parcel")["depletion_mm"]
    plan["depletion_spread_mm"] = plan["parcel"].map(ends.last() - ends.first()).round(1)
    return plan[PLAN_COLUMNS].sort_values(["parcel", "zone"], ignore_index=True)


def zone_plan(farm_id: str, date: dt.date, data_root: str | Path,
              forecast_path: str | Path | None = None) -> tuple[pd.DataFrame, xr.Dataset, str]:
    """(today's plan per zone, the zone balance up to `date`, a note on the zones and Kcb sources).

    Falls back to the per-parcel plan (zone 0, the parcel's area, spread 0) when no flight up to
    `date` has zones; the note then starts with NO_ZONES.
    """
    farm = load_farm(farm_id)
    if zoned_flight(cube.farm_store(data_root, farm.id), date) is None:
        plan, balance, note = farm_plan(farm_id, date, data_root, forecast_path)
        areas = balance["area_m2"].to_series()
        zones = pd.DataFrame({"parcel": areas.index, "parent": areas.index, "zone": 0, "area_m2": areas.to_numpy(),
                              "note": ""})
        return zone_rows(plan, zones), balance, f"{NO_ZONES}: per-parcel plan; {note}"
    inputs, balance = zone_season(farm, data_root, date)
    return zone_rows(recommend(balance, date, forecast_table(farm, forecast_path)),
                     inputs.zones), balance, inputs.observation_note
