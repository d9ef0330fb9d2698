"""Reading a farm's irrigation inputs from its configs, its Zarr store and the landing area.

Everything `models.irrigation.farm_plan` and `zone_plan` compute on is read here, so the models
never take a farm id nor open a store (DESIGN, issue 16):
- parcels (`configs/farms/<farm>/parcels.geojson`) with their irrigation-system properties and the
  ECw of their water source (farm.yaml `water`);
- the station weather and its ET0 (FAO-56), recorded irrigations, soil-moisture readings;
- drone observations from the store's `parcels` cube, zones and zone NDVI per flight;
- the forecast: `<landing>/<farm>/forecast.csv` when present (a daily CSV with the weather's
  canonical columns for the next days), else `configs/farms/<farm>/forecast.csv`, else none; the
  plan's note says which.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

from models.irrigation.et0 import reference_et_mm
from models.irrigation.farm_plan import (
    NO_FLIGHTS,
    NO_NDVI,
    FarmInputs,
    farm_plan,
    farm_plans,
    forecast_frame,
    observations_from_cube,
    parcel_table,
)
from models.irrigation.season import read_irrigation_events, read_parcel_records
from models.irrigation.weather import read_weather
from models.irrigation.zone_plan import (
    NO_ZONES,
    ZoneInputs,
    as_zones,
    parcel_plan_as_zones,
    zone_events,
    zone_plan,
    zone_table,
)
from pipelines.core.config import Farm, load_farm
from pipelines.core.errors import InputDataError
from pipelines.core.grid import FarmGrid
from pipelines.core.keys import farm_id as valid_farm_id
from pipelines.imagery.parcels.layer import load_parcels
from pipelines.imagery.zones.outlines import ZONES, zone_observations, zone_outlines, zoned_flight
from pipelines.store import cube, windows
from pipelines.store.tables import PARCELS, read_parcel_cube

FORECAST_FILE = "forecast.csv"


def forecast_location(farm: Farm, landing_dir: str | Path | None = None,
                      explicit: str | Path | None = None) -> Path | None:
    """The forecast CSV to use: `explicit`, else the landing area's, else the farm config's, else None."""
    candidates = [Path(explicit)] if explicit else []
    if landing_dir is not None:
        candidates.append(Path(landing_dir) / valid_farm_id(farm.id) / FORECAST_FILE)
    candidates.append(farm.path(FORECAST_FILE))
    return next((p for p in candidates if p.is_file()), None)


def read_soil_moisture(path: Path) -> pd.DataFrame:
    """Readings `parcel,date,theta_m3_m3` (volumetric water content of the root zone)."""
    table = read_parcel_records(path, "soil-moisture", ("parcel", "date", "theta_m3_m3"))
    if not table["theta_m3_m3"].between(0, 0.6).all():
        raise InputDataError(path, "theta_m3_m3 outside 0-0.6", "give volumetric water content in m³/m³, not %")
    return table


def farm_inputs(farm: Farm, data_root: str | Path, landing_dir: str | Path | None = None,
                forecast_path: str | Path | None = None) -> FarmInputs:
    """All inputs of the farm's balance and plan (see the module docstring)."""
    parcels = parcel_table(load_parcels(farm).frame, farm)
    weather = read_weather(farm.path(farm.weather), farm.location.lat_deg)
    et0 = reference_et_mm(weather, farm.location.lat_deg, farm.location.elevation_m)
    store = cube.farm_store(data_root, farm.id)
    if cube.has_product(store, PARCELS):
        observations = observations_from_cube(read_parcel_cube(store))
        note = (f"Kcb from {observations['date'].nunique()} flights between FAO-56 stage tables" if len(observations)
                else NO_NDVI)
    else:
        observations, note = pd.DataFrame(columns=["parcel", "date", "ndvi_mean"]), NO_FLIGHTS
    events = (read_irrigation_events(farm.path(farm.irrigation_events), parcels["parcel"])
              if farm.irrigation_events else None)
    soil = read_soil_moisture(farm.path(farm.soil_moisture)) if farm.soil_moisture else None
    path = forecast_location(farm, landing_dir, forecast_path)
    forecast, forecast_note = None, "no forecast file (landing area or farm configs): outlook from recent ET0, no rain"
    if path is not None:
        table = read_weather(path, farm.location.lat_deg)
        forecast = forecast_frame(table, reference_et_mm(table, farm.location.lat_deg, farm.location.elevation_m))
        forecast_note = f"forecast {path} ({forecast.index[0].date()}..{forecast.index[-1].date()})"
    return FarmInputs(parcels, weather, et0, observations, events, note, forecast, forecast_note, soil)


def zone_inputs(farm: Farm, data_root: str | Path, base: FarmInputs, end: dt.date | None = None) -> ZoneInputs:
    """Zones of the latest zoned flight on or before `end` (default: last weather day of the season)
    and their NDVI per flight, with the farm's other inputs."""
    end = end or min(farm.season.end, base.weather.index[-1].date())
    store = cube.farm_store(data_root, farm.id)
    flight = zoned_flight(store, end)
    if flight is None:
        raise InputDataError(store, f"{NO_ZONES}: none on or before {end}",
                             "materialise management_zones for a flight of the season, or plan per parcel")
    grid = FarmGrid.of_farm(farm)
    outlines = zone_outlines(windows.stored_array(store, flight, ZONES), grid, load_parcels(farm, grid))
    zones = zone_table(base.parcels, outlines)
    observations = zone_observations(store, outlines, grid, farm.season.start, end)
    flights = observations["date"].nunique()
    note = (f"zones of flight {flight}: {int((zones['zone'] > 0).sum())} zones in {zones['parent'].nunique()} parcels; "
            + (f"Kcb from {flights} flights between FAO-56 stage tables" if flights
               else "no NDVI on any flight: Kcb from FAO-56 stage tables only"))
    return ZoneInputs(base, flight, zones, observations, zone_events(base.irrigation_events, zones), note, end)


def read_farm_plan(farm: Farm | str, date: dt.date, data_root: str | Path, landing_dir: str | Path | None = None,
                   forecast_path: str | Path | None = None, zones: bool = False, inputs: FarmInputs | None = None):
    """(plan, balance, note) of the farm on `date`: per parcel, or per management zone when `zones`
    (falling back to the parcels, zone 0, when no zones exist up to `date`).

    `inputs`: the farm's `farm_inputs`, already read (a backfilled range of days reads them once;
    the plan of each day is the same as a day-by-day run's)."""
    farm = load_farm(farm) if isinstance(farm, str) else farm
    base = inputs if inputs is not None else farm_inputs(farm, data_root, landing_dir, forecast_path)
    if not zones:
        return farm_plan(farm, base, date)
    if zoned_flight(cube.farm_store(data_root, farm.id), date) is None:
        return parcel_plan_as_zones(farm, base, date)
    return zone_plan(farm, zone_inputs(farm, data_root, base, date), date)


def read_farm_plans(farm: Farm, days, data_root: str | Path, landing_dir: str | Path | None = None,
                    zones: bool = False, inputs: FarmInputs | None = None, views: bool = False):
    """(day, plan, balance, note) for each of `days` (sorted), each equal to `read_farm_plan`'s for
    that day; the per-parcel balances of all the days come from one balance run over the range
    (`farm_plan.farm_plans`), the zone plans of days with zones from one run per day. `views`: a
    balance of the range run is its `BalanceView` (`.dataset()` gives the Dataset; a zoned day's is
    a Dataset)."""
    base = inputs if inputs is not None else farm_inputs(farm, data_root, landing_dir)
    days = sorted(days)
    store = cube.farm_store(data_root, farm.id)
    zoned = {day for day in days if zones and zoned_flight(store, day) is not None}
    plain = [day for day in days if day not in zoned]
    ranged = iter(farm_plans(farm, base, plain, views=views) if plain else ())
    for day in days:
        if day in zoned:
            yield day, *zone_plan(farm, zone_inputs(farm, data_root, base, day), day)
            continue
        _, plan, balance, note = next(ranged)
        yield (day, *as_zones(plan, balance, note)) if zones else (day, plan, balance, note)
