"""A farm's season balance: parcels table + weather + ET0 + drone observations -> (parcel, date) Dataset.

Bad input never becomes a silent default: an unknown crop excludes the parcel (flag names the
missing configs/crops file); a parcel without soil data uses loam (FAO-56 Table 19, mid-range
texture) and says so; an unknown irrigation method uses surface efficiency (the lowest, so the
volume is not under-estimated) and says so. Flags are in the `parcel_flags` variable.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from models.irrigation.balance import BalanceInputs, water_balance
from models.irrigation.kcb import parcel_kcb, stage_fraction
from pipelines.core.config import load_crop, load_irrigation_methods, load_soils
from pipelines.core.errors import ConfigError, InputDataError

FALLBACK_SOIL = "loam"
FALLBACK_METHOD = "surface"
HEIGHT_INI_M = 0.05
RAIN_MIN_FRACTION_ET0 = 0.2
ASSUMED_REFILL = ("no irrigation records: assumed irrigated as planned (refill to field capacity "
                  "whenever depletion reached RAW)")
PARCEL_COLUMNS = ("parcel", "crop", "soil_texture", "sowing_date", "irrigation_method", "area_m2")


def read_irrigation_events(path: str | Path, parcel_ids) -> pd.DataFrame:
    """Recorded irrigations `date,parcel,depth_mm` (gross applied depth, mm)."""
    path = Path(path)
    if not path.is_file():
        raise InputDataError(path, "irrigation events file not found",
                             "create it (date,parcel,depth_mm) or remove it from farm.yaml")
    events = pd.read_csv(path, comment="#", dtype={"parcel": str})
    missing = {"date", "parcel", "depth_mm"} - set(events.columns)
    if missing:
        raise InputDataError(path, f"missing columns {sorted(missing)}", "use the header date,parcel,depth_mm")
    events["date"] = pd.to_datetime(events["date"], format="ISO8601")
    unknown = sorted(set(events["parcel"]) - set(map(str, parcel_ids)))
    if unknown:
        raise InputDataError(path, f"parcels {unknown} are not in the farm's parcels", "fix the parcel ids")
    bad = events[~events["depth_mm"].between(0, 300)]
    if len(bad):
        raise InputDataError(path,
                             f"depth_mm {bad['depth_mm'].iloc[0]} on {bad['date'].iloc[0].date()} is outside 0-300 mm",
                             "give the applied depth in mm")
    return events[["date", "parcel", "depth_mm"]]


def _parcel_parameters(parcels: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    soils, methods, crops = load_soils(), load_irrigation_methods(), {}
    rows, flags = [], {}
    for row in parcels.itertuples(index=False):
        notes = []
        try:
            crop = crops.setdefault(row.crop, load_crop(row.crop))
        except ConfigError as exc:
            flags[row.parcel] = f"excluded: {exc}"
            continue
        soil_name = row.soil_texture if isinstance(row.soil_texture, str) else None
        if soil_name not in soils:
            notes.append(f"soil '{soil_name}' unknown or missing: {FALLBACK_SOIL} used (FAO-56 Table 19); "
                         "add soil_texture to parcels")
            soil_name = FALLBACK_SOIL
        method = row.irrigation_method if row.irrigation_method in methods else None
        if method is None:
            notes.append(f"irrigation method '{row.irrigation_method}' unknown: {FALLBACK_METHOD} efficiency used")
            method = FALLBACK_METHOD
        soil, system = soils[soil_name], methods[method]
        rows.append({"parcel": row.parcel, "crop": crop, "sowing": pd.Timestamp(row.sowing_date), "soil": soil,
                     "efficiency": system.efficiency, "wetted_fraction": system.wetted_fraction,
                     "area_m2": float(row.area_m2), "method": method})
        flags[row.parcel] = "; ".join(notes)
    return pd.DataFrame(rows), flags


def _growth(crop, days: np.ndarray, kcb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Root depth (FAO-56 p. 279, with the stage curve) and crop height (from Kcb, as pyfao56), m."""
    if crop.kind == "tree":
        return np.full(days.shape, crop.root_depth_max_m), np.full(days.shape, crop.height_max_m)
    development, _ = stage_fraction(crop, days)
    root = crop.root_depth_min_m + (crop.root_depth_max_m - crop.root_depth_min_m) * development
    ratio = (kcb - crop.kcb_ini) / (crop.kcb_mid - crop.kcb_ini)
    height = np.maximum(HEIGHT_INI_M + (crop.height_max_m - HEIGHT_INI_M) * np.nan_to_num(ratio, nan=0.0), 0.001)
    return root, np.maximum.accumulate(height)


@dataclass
class PreparedBalance:
    """Everything the balance runs on: the parcels kept, the days, the arrays and their provenance."""

    table: pd.DataFrame
    dates: pd.DatetimeIndex
    inputs: BalanceInputs
    kcb_source: np.ndarray
    rain_mm: np.ndarray
    flags: dict[str, str]


def prepare_balance(parcels: pd.DataFrame, weather: pd.DataFrame, et0_mm: pd.Series, start, end,
                    observations: pd.DataFrame | None = None, irrigation_events: pd.DataFrame | None = None,
                    initial_depletion_fraction: float = 0.0,
                    rain_min_fraction_et0: float = RAIN_MIN_FRACTION_ET0,
                    assume_planned_irrigation: bool = False) -> PreparedBalance:
    """Build the balance inputs of `season_balance` (same arguments)."""
    dates = pd.date_range(pd.Timestamp(start), pd.Timestamp(end), freq="D", name="date")
    missing = dates.difference(weather.index)
    if len(missing):
        raise InputDataError("weather", f"no weather for {len(missing)} days from {missing[0].date()}",
                             "extend the weather CSV to cover the season up to the plan date")
    table, flags = _parcel_parameters(parcels)
    if table.empty:
        raise InputDataError("parcels", f"no parcel has a known crop ({flags})", "add the crops to configs/crops/")
    w = weather.loc[dates]
    et0 = et0_mm.loc[dates].to_numpy(dtype=float)
    rain = w["rain_mm"].to_numpy(dtype=float)
    rain_eff = np.where(rain >= rain_min_fraction_et0 * et0, rain, 0.0)
    climate = {"u2_ms": float(w["u2_ms"].mean()), "rh_min_pct": float(w["rh_min_pct"].mean()),
               "tmean_c": float(((w["tmin_c"] + w["tmax_c"]) / 2).mean())}
    n, d = len(table), len(dates)
    kcb, cover, root, height, source = (np.zeros((n, d)), np.zeros((n, d)), np.zeros((n, d)), np.zeros((n, d)),
                                        np.empty((n, d), dtype=object))
    by_parcel = dict(tuple(observations.groupby("parcel"))) if observations is not None and len(observations) else {}
    for k, row in enumerate(table.itertuples(index=False)):
        series = parcel_kcb(row.crop, dates, row.sowing, by_parcel.get(row.parcel), climate)
        kcb[k], cover[k], source[k] = series.kcb, series.cover_fraction, series.source
        root[k], height[k] = _growth(row.crop, (dates - row.sowing).days.to_numpy(), series.kcb)
    irrigation = np.zeros((n, d))
    recorded = set(irrigation_events["parcel"]) if irrigation_events is not None else set()
    refill = np.array([assume_planned_irrigation and p not in recorded for p in table["parcel"]])
    for parcel in table["parcel"][refill]:
        flags[parcel] = "; ".join(filter(None, [flags.get(parcel, ""), ASSUMED_REFILL]))
    if irrigation_events is not None and len(irrigation_events):
        index = {p: k for k, p in enumerate(table["parcel"])}
        for event in irrigation_events.itertuples(index=False):
            day = (pd.Timestamp(event.date) - dates[0]).days
            if event.parcel in index and 0 <= day < d:
                irrigation[index[event.parcel], day] += event.depth_mm
    col = lambda f: np.array([f(r) for r in table.itertuples(index=False)], dtype=float)  # noqa: E731
    inputs = BalanceInputs(
        et0_mm=et0, rain_mm=rain_eff, u2_ms=w["u2_ms"].to_numpy(float), rh_min_pct=w["rh_min_pct"].to_numpy(float),
        kcb=np.nan_to_num(kcb), kcb_ini=col(lambda r: r.crop.kcb_ini), height_m=height, root_depth_m=root,
        cover_fraction=cover, theta_fc=col(lambda r: r.soil.theta_fc), theta_wp=col(lambda r: r.soil.theta_wp),
        rew_mm=col(lambda r: r.soil.rew_mm), tew_mm=col(lambda r: r.soil.tew_mm),
        p_base=col(lambda r: r.crop.depletion_fraction), irrigation_mm=irrigation,
        efficiency=col(lambda r: r.efficiency),
        wetted_fraction=col(lambda r: r.wetted_fraction),
        initial_depletion_fraction=np.full(n, float(initial_depletion_fraction)),
        active=~np.isnan(kcb), assumed_refill=refill)
    return PreparedBalance(table, dates, inputs, source, rain, flags)


def season_balance(parcels: pd.DataFrame, weather: pd.DataFrame, et0_mm: pd.Series, start, end,
                   observations: pd.DataFrame | None = None, irrigation_events: pd.DataFrame | None = None,
                   initial_depletion_fraction: float = 0.0,
                   rain_min_fraction_et0: float = RAIN_MIN_FRACTION_ET0,
                   assume_planned_irrigation: bool = False) -> xr.Dataset:
    """Daily balance of every parcel from `start` to `end` (inclusive), dims (parcel, date).

    parcels: columns parcel, crop, soil_texture, sowing_date, irrigation_method, area_m2.
    observations: long table parcel, date, ndvi_mean[, crop_cover_fraction] (one row per flight).
    irrigation_events: date, parcel, depth_mm (gross). Rain below rain_min_fraction_et0·ET0 is
    taken as fully evaporated (FAO-56 ch. 7, p. 151: 'precipitation less than about 0.2 ET0').
    initial_depletion_fraction: root-zone depletion at sowing/start as a fraction of TAW.
    assume_planned_irrigation: parcels without any recorded irrigation are assumed to have been
    irrigated as planned (flagged in `parcel_flags`); otherwise they are taken as never irrigated.
    """
    prepared = prepare_balance(parcels, weather, et0_mm, start, end, observations, irrigation_events,
                               initial_depletion_fraction, rain_min_fraction_et0, assume_planned_irrigation)
    table, flags = prepared.table, prepared.flags
    result = water_balance(prepared.inputs)
    coords = {"parcel": table["parcel"].to_numpy(dtype=object), "date": prepared.dates}
    data = {name: (("parcel", "date"), values) for name, values in result.items()}
    data["kcb_source"] = (("parcel", "date"), prepared.kcb_source)
    data["et0_mm"] = (("date",), prepared.inputs.et0_mm)
    data["rain_mm"] = (("date",), prepared.rain_mm)
    data["area_m2"] = (("parcel",), table["area_m2"].to_numpy(float))
    data["efficiency"] = (("parcel",), prepared.inputs.efficiency)
    data["crop"] = (("parcel",), np.array([r.crop.id for r in table.itertuples()], dtype=object))
    data["irrigation_method"] = (("parcel",), table["method"].to_numpy(dtype=object))
    data["sowing_date"] = (("parcel",), table["sowing"].to_numpy())
    data["parcel_flags"] = (("parcel",), np.array([flags.get(p, "") for p in table["parcel"]], dtype=object))
    dataset = xr.Dataset(data, coords=coords, attrs={"method": "FAO-56 dual crop coefficient, ch. 7-8"})
    dataset.attrs["excluded_parcels"] = "; ".join(f"{p}: {f}" for p, f in flags.items() if f.startswith("excluded"))
    return dataset
