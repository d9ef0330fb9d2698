"""A farm's inputs to the balance, read from its configs and its Zarr store, and today's plan.

Parcels come from the farm's parcel file (area in m² on the farm's UTM grid); drone observations
from the store's `parcels` cube (parcel, time, variable) with `ndvi_mean` and, when present,
`crop_cover_fraction`. Without that cube (no flight yet) every Kcb comes from the FAO tables and
the plan says so.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import xarray as xr

from models.irrigation.et0 import reference_et_mm
from models.irrigation.recommendation import recommend
from models.irrigation.season import read_irrigation_events, season_balance
from models.irrigation.weather import read_weather
from pipelines.core.config import Farm, load_farm
from pipelines.imagery.parcels.layer import load_parcels
from pipelines.store import cube
from pipelines.store.tables import PARCELS, read_parcel_cube

NO_FLIGHTS = "no flights in the store yet: Kcb from FAO-56 stage tables only"
NO_NDVI = ("no NDVI in the season's flights (RGB camera flights: ExG is not an NDVI and feeds no Kcb relation): "
           "Kcb from FAO-56 stage tables only")


@dataclass
class FarmInputs:
    """A farm's season inputs: parcel table, daily weather and ET0 (mm/day, FAO-56 eq. 6), flight observations,
    recorded irrigations (None without a file) and a note on where Kcb comes from."""

    parcels: pd.DataFrame
    weather: pd.DataFrame
    et0_mm: pd.Series
    observations: pd.DataFrame
    irrigation_events: pd.DataFrame | None
    observation_note: str


def parcel_table(farm: Farm) -> pd.DataFrame:
    """parcel, crop, soil_texture, sowing_date, irrigation_method, area_m2 (m² on the farm grid)."""
    frame = load_parcels(farm).frame
    table = pd.DataFrame({"parcel": frame["id"].astype(str), "area_m2": frame.geometry.area.to_numpy()})
    for column in ("crop", "soil_texture", "sowing_date", "irrigation_method"):
        table[column] = frame[column].to_numpy() if column in frame else None
    return table


FIELD_NDVI = "ndvi_parcel_mean"


def observations_from_cube(parcel_stats: xr.DataArray) -> pd.DataFrame:
    """Long table parcel, date, ndvi_mean[, crop_cover_fraction] from the (parcel, time, variable) cube.

    The NDVI-Kcb and NDVI-fAPAR relations were fitted on field-average NDVI (satellite pixels
    mixing canopy and soil: Duchemin et al. 2006, Kamble et al. 2013, Myneni & Williams 1994),
    so the parcel's all-pixel mean (`ndvi_parcel_mean`) is used when the cube has it, not the
    crop-pixel mean that agronomists read for vigour.
    """
    names = parcel_stats["variable"].values
    ndvi = FIELD_NDVI if FIELD_NDVI in names else "ndvi_mean"
    wanted = [v for v in (ndvi, "crop_cover_fraction") if v in names]
    frame = parcel_stats.sel(variable=wanted).to_dataset(dim="variable").to_dataframe().reset_index()
    frame = frame.rename(columns={FIELD_NDVI: "ndvi_mean"})
    wanted = ["ndvi_mean" if v == FIELD_NDVI else v for v in wanted]
    frame = frame.rename(columns={"time": "date"})[["parcel", "date", *wanted]]
    frame["parcel"] = frame["parcel"].astype(str)
    return frame.dropna(subset=["ndvi_mean"]) if "ndvi_mean" in frame else frame.iloc[0:0]


def farm_inputs(farm: Farm, data_root: str | Path) -> FarmInputs:
    """Gather a farm's inputs to the FAO-56 balance from its configs and its store under `data_root`.

    ET0 (mm/day) is FAO-56 Penman-Monteith (eq. 6; Hargreaves eq. 52 on days without full weather) at
    the farm's latitude and elevation. Without a parcel cube in the store the observations are empty
    and the note says so.
    """
    parcels = parcel_table(farm)
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
    return FarmInputs(parcels, weather, et0, observations, events, note)


def farm_season(farm: Farm, data_root: str | Path, end: dt.date | None = None) -> tuple[FarmInputs, xr.Dataset]:
    """The farm's inputs and its balance from the season start to `end` (default: last weather day).

    Parcels without irrigation records are assumed irrigated as planned (flagged per parcel).
    """
    inputs = farm_inputs(farm, data_root)
    end = end or min(farm.season.end, inputs.weather.index[-1].date())
    balance = season_balance(inputs.parcels, inputs.weather, inputs.et0_mm, farm.season.start, end,
                             inputs.observations, inputs.irrigation_events, assume_planned_irrigation=True)
    return inputs, balance


def farm_plan(farm_id: str, date: dt.date, data_root: str | Path,
              forecast_path: str | Path | None = None) -> tuple[pd.DataFrame, xr.Dataset, str]:
    """(today's plan, the season balance up to `date`, a note on where Kcb came from)."""
    farm = load_farm(farm_id)
    inputs, balance = farm_season(farm, data_root, date)
    return recommend(balance, date, forecast_table(farm, forecast_path)), balance, inputs.observation_note


def forecast_table(farm: Farm, forecast_path: str | Path | None) -> pd.DataFrame | None:
    """Daily et0_mm and rain_mm of the forecast CSV (weather columns), None when there is no file."""
    if forecast_path is None or not Path(forecast_path).is_file():
        return None
    table = read_weather(forecast_path, farm.location.lat_deg)
    return pd.DataFrame({"et0_mm": reference_et_mm(table, farm.location.lat_deg, farm.location.elevation_m),
                         "rain_mm": table["rain_mm"]})
