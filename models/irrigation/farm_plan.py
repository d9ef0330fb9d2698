"""A farm's season balance and today's plan from its inputs (no file or store access here).

The inputs (`FarmInputs`) are read by `pipelines.plans.farm_inputs`: the parcels table (area in
m² on the farm's UTM grid, crop, soil, sowing, method and the irrigation-system columns), the
weather and its ET0, the drone observations of the store's `parcels` cube, recorded irrigations,
soil-moisture readings and the forecast. The plan is `recommendation.recommend` per parcel, then
the farm's water allocation (`quota`), with a note on where Kcb and the outlook came from.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr

from models.irrigation import quota
from models.irrigation.localized import run_time
from models.irrigation.recommendation import recommend, recommend_columns
from models.irrigation.season import BalanceView, season_balance
from models.irrigation.season_range import range_views
from pipelines.core.config import Farm, load_crop

NO_FLIGHTS = "no flights in the store yet: Kcb from FAO-56 stage tables only"
NO_NDVI = ("no NDVI in the season's flights (RGB camera flights: ExG is not an NDVI and feeds no Kcb relation): "
           "Kcb from FAO-56 stage tables only")
SYSTEM_COLUMNS = ("emitter_flow_l_h", "emitters_per_plant", "emitter_spacing_m", "lateral_spacing_m", "plant_spacing_m",
                  "laterals_per_row", "interval_days", "max_pulse_h", "application_rate_mm_h", "max_depth_mm",
                  "rotation_days", "sector", "under_cover", "water_source", "ece_ds_m")
FIELD_NDVI = "ndvi_parcel_mean"


@dataclass
class FarmInputs:
    """Everything the farm's balance and plan compute on (read by `pipelines.plans.farm_inputs`)."""

    parcels: pd.DataFrame
    weather: pd.DataFrame
    et0_mm: pd.Series
    observations: pd.DataFrame
    irrigation_events: pd.DataFrame | None
    observation_note: str
    forecast: pd.DataFrame | None = None
    forecast_note: str = "no forecast: recent ET0, no rain"
    soil_moisture: pd.DataFrame | None = None


def parcel_table(frame: pd.DataFrame, farm: Farm) -> pd.DataFrame:
    """parcel, crop, soil_texture, sowing_date, irrigation_method, area_m2 (m² on the farm grid), the
    irrigation-system columns present in the parcels layer and ecw_ds_m of the parcel's water source."""
    table = pd.DataFrame({"parcel": frame["id"].astype(str).to_numpy(), "area_m2": frame.geometry.area.to_numpy()})
    for column in ("crop", "soil_texture", "sowing_date", "irrigation_method", *SYSTEM_COLUMNS):
        if column in frame or column in ("crop", "soil_texture", "sowing_date", "irrigation_method"):
            table[column] = frame[column].to_numpy() if column in frame else None
    water = farm.water
    if water is not None:
        names = table["water_source"] if "water_source" in table else pd.Series([None] * len(table))
        names = names.where(names.notna() & names.isin(list(water.sources)), water.default_source)
        table["water_source"] = names.to_numpy()
        table["ecw_ds_m"] = [water.sources[n].ecw_ds_m for n in names]
    return table


def observations_from_cube(parcel_stats: xr.DataArray) -> pd.DataFrame:
    """Long table parcel, date, ndvi_mean[, crop_cover_fraction, weed_pressure] from the (parcel, time,
    variable) cube.

    The NDVI-Kcb and NDVI-fAPAR relations were fitted on field-average NDVI (satellite pixels
    mixing canopy and soil: Duchemin et al. 2006, Kamble et al. 2013, Myneni & Williams 1994),
    so the parcel's all-pixel mean (`ndvi_parcel_mean`) is used when the cube has it, not the
    crop-pixel mean that agronomists read for vigour.
    """
    names = parcel_stats["variable"].values
    ndvi = FIELD_NDVI if FIELD_NDVI in names else "ndvi_mean"
    wanted = [v for v in (ndvi, "crop_cover_fraction", "weed_pressure") if v in names]
    frame = parcel_stats.sel(variable=wanted).to_dataset(dim="variable").to_dataframe().reset_index()
    frame = frame.rename(columns={FIELD_NDVI: "ndvi_mean"})
    wanted = ["ndvi_mean" if v == FIELD_NDVI else v for v in wanted]
    frame = frame.rename(columns={"time": "date"})[["parcel", "date", *wanted]]
    frame["parcel"] = frame["parcel"].astype(str)
    return frame.dropna(subset=["ndvi_mean"]) if "ndvi_mean" in frame else frame.iloc[0:0]


def farm_season(farm: Farm, inputs: FarmInputs, end: dt.date | None = None, parcels: pd.DataFrame | None = None,
                observations: pd.DataFrame | None = None, events: pd.DataFrame | None = None) -> xr.Dataset:
    """The balance from the season start to `end` (default: last weather day of the season).

    Parcels without irrigation records are assumed irrigated as planned (flagged per parcel).
    `parcels`, `observations`, `events` replace the inputs' (management zones as parcels).
    """
    end = end or min(farm.season.end, inputs.weather.index[-1].date())
    return season_balance(inputs.parcels if parcels is None else parcels, inputs.weather, inputs.et0_mm,
                          farm.season.start, end, inputs.observations if observations is None else observations,
                          inputs.irrigation_events if events is None else events, assume_planned_irrigation=True,
                          lat_deg=farm.location.lat_deg, soil_moisture=inputs.soil_moisture)


RECENT_DAYS = 14


def _gross_m3(balance: BalanceView) -> np.ndarray:
    """Gross volume applied per day of the whole range (m³): Σ over parcels of irrigation_mm × area_m2 / 1000
    (1 mm on 1 m² = 1 L), computed once per range balance and shared by its day views."""
    if "gross_m3" not in balance.cache:
        irrigation = balance.day(balance.full.sizes["date"])["irrigation_mm"]
        filled = np.where(np.isnan(irrigation), 0.0, irrigation)
        balance.cache["gross_m3"] = np.sum(filled * balance["area_m2"][:, None] / 1000.0, axis=0)
    return balance.cache["gross_m3"]


def _used_m3(balance: xr.Dataset | BalanceView, day: pd.Timestamp) -> tuple[float, float, float]:
    """(season, month, recent daily mean) gross volume applied before `day` by the balance (recorded
    or as planned), m³: the sums and mean over the days before `day` of the view, in the order and with
    the reductions of xarray's (the numbers are the same to the bit)."""
    balance = balance if isinstance(balance, BalanceView) else BalanceView.of(balance)
    dates = balance.dates
    end = int(dates.searchsorted(day))
    gross = _gross_m3(balance)
    before = gross[:end]
    month = gross[int(dates.searchsorted(day.replace(day=1))):end]
    recent = before[-RECENT_DAYS:]
    return float(np.sum(before)), float(np.sum(month)), float(np.nanmean(recent)) if recent.size else 0.0


def _crop_rules(crops: dict, names: list[str], day: pd.Timestamp) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """(quota priority, RDI fraction, RDI reason) per plan row (crop `names`) for the crop stage of `day`'s month."""
    for crop in set(names) - set(crops):
        crops[crop] = load_crop(crop)
    priority = np.array([crops[c].quota_priority for c in names])
    stages = [next((s for s in crops[c].deficit_stages if day.month in s.months), None) for c in names]
    rdi = np.array([s.fraction if s else 1.0 for s in stages])
    reasons = [f"RDI {c} {s.name}: {s.fraction:.0%} of demand ({s.source.split(':')[0]})" if s else ""
               for c, s in zip(names, stages)]
    return priority, rdi, reasons


def _sum(values) -> float:
    """`Series.sum` of floats: NaN counted as 0, then numpy's sum (pandas nanops.nansum)."""
    values = np.asarray(values, dtype=float)
    return float(np.sum(np.where(np.isnan(values), 0.0, values)))


def quota_changes(columns, balance: BalanceView, farm: Farm, date, crops: dict) -> tuple[dict, str]:
    """The columns `apply_quota` adds or replaces (name -> values, in that order) and its note, from
    the plan's columns (name -> values: `recommend_columns`, or a plan's)."""
    day = pd.Timestamp(date)
    limits = farm.water.quota if farm.water is not None else None
    asked = np.asarray(columns["volume_m3"], dtype=float)
    asked_m3 = _sum(asked)
    used_season, used_month, recent = _used_m3(balance, day)
    allowance, why = quota.daily_allowance_m3(day.date(), farm.season.end, limits.season_m3 if limits else None,
                                              limits.monthly_m3 if limits else None, used_season, used_month,
                                              asked_m3, recent)
    names = list(columns["crop"])
    priority, rdi, reasons = _crop_rules(crops, names, day)
    allowed, why_cut = quota.allocate(asked, priority, rdi, reasons, allowance)
    why_cut = [r.replace("quota: priority", f"allocation short: {c}, priority") for r, c in zip(why_cut, names)]
    changed = quota.quota_arrays(asked, columns["area_m2"], allowed, why_cut, rdi)
    scale = np.divide(allowed, asked, out=np.ones(len(asked)), where=asked > 0)
    for column in ("depth_mm", "net_depth_mm", "leaching_mm", "volume_m3", "litres_per_plant"):
        changed[column] = np.round(np.asarray(columns[column], dtype=float) * scale, 1)
    hours, pulses, per_pulse = run_time(changed["depth_mm"], balance["application_rate_mm_h"].astype(float),
                                        balance["max_pulse_h"].astype(float))
    changed["run_time_h"], changed["pulses"], changed["pulse_h"] = np.round(hours, 2), pulses, np.round(per_pulse, 2)
    cut = _sum(changed["quota_cut_m3"])
    note = (f"allocation: {why}; today {asked_m3:.0f} m³ asked, {allowance:.0f} m³ allowed, "
            f"{cut:.0f} m³ cut on {int((changed['quota_cut_m3'] > 0).sum())} parcels" if np.isfinite(allowance)
            else "allocation: none configured")
    return changed, note


def apply_quota(plan: pd.DataFrame, balance: xr.Dataset | BalanceView, farm: Farm, date,
                crops: dict | None = None) -> tuple[pd.DataFrame, str]:
    """Cut today's plan to the farm's allowance (`quota.allocate`); depths, volumes, litres and run
    times become what the allowance permits, and quota_cut_m3/mm and quota_reason say what was cut
    (`quota_changes`). `crops`: crop id -> Crop already loaded (filled in here)."""
    balance = balance if isinstance(balance, BalanceView) else BalanceView.of(balance)
    changed, note = quota_changes({name: plan[name].to_numpy() for name in plan.columns}, balance, farm, date,
                                  {} if crops is None else crops)
    out = plan.copy()
    for name, values in changed.items():
        out[name] = values
    return out, note


def farm_plan(farm: Farm, inputs: FarmInputs, date, parcels: pd.DataFrame | None = None,
              observations: pd.DataFrame | None = None, events: pd.DataFrame | None = None
              ) -> tuple[pd.DataFrame, xr.Dataset, str]:
    """(today's plan after the allocation, the balance up to `date`, a note on Kcb, forecast and quota)."""
    balance = farm_season(farm, inputs, date, parcels, observations, events)
    plan = recommend(balance, date, inputs.forecast)
    plan, quota_note = apply_quota(plan, balance, farm, date)
    return plan, balance, "; ".join([inputs.observation_note, inputs.forecast_note, quota_note])


def farm_plans(farm: Farm, inputs: FarmInputs, days, parcels: pd.DataFrame | None = None,
               observations: pd.DataFrame | None = None, events: pd.DataFrame | None = None, views: bool = False):
    """(day, plan, balance, note) for each of `days`, each the same as `farm_plan(farm, inputs, day, …)`,
    from one run of the balance over the range (`season_range.range_views`). `views`: the balance is
    the day's `BalanceView` (numpy reads; `.dataset()` is the Dataset) for callers reading few of it."""
    ranged = range_views(inputs.parcels if parcels is None else parcels, inputs.weather, inputs.et0_mm,
                         farm.season.start, days, inputs.observations if observations is None else observations,
                         inputs.irrigation_events if events is None else events, lat_deg=farm.location.lat_deg,
                         assume_planned_irrigation=True, soil_moisture=inputs.soil_moisture)
    crops: dict = {}
    for day, view in ranged:  # the plan's frame made once, from its columns after the allocation
        columns = recommend_columns(view, day.date(), inputs.forecast)
        changed, quota_note = quota_changes(columns, view, farm, day.date(), crops)
        plan = pd.DataFrame({**columns, **changed})
        note = "; ".join([inputs.observation_note, inputs.forecast_note, quota_note])
        yield day.date(), plan, view if views else view.dataset(), note


def forecast_frame(table: pd.DataFrame, et0_mm: pd.Series) -> pd.DataFrame:
    """Daily et0_mm and rain_mm of a forecast weather table (canonical columns, `read_weather`)."""
    return pd.DataFrame({"et0_mm": et0_mm, "rain_mm": table["rain_mm"]})
