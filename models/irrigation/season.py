"""A farm's season balance: parcels table + weather + ET0 + drone observations -> (parcel, date) Dataset.

Bad input never becomes a silent default: an unknown crop excludes the parcel (flag names the
missing configs/crops file); a parcel without soil data uses loam (FAO-56 Table 19, mid-range
texture) and says so; an unknown irrigation method uses surface efficiency (the lowest, so the
volume is not under-estimated) and says so. Flags are in the `parcel_flags` variable.

Initial root-zone depletion (flagged per parcel): a measured soil-moisture reading on the crop's
first day when there is one; else, for a crop sown after the first weather day, a bare-soil
spin-up from that day (Kcb = 0, initial root depth), starting dry after the summer (Dr = TAW,
`SPINUP_START_DEPLETION`) unless told otherwise; else `initial_depletion_fraction`, assumed.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from models.irrigation.balance import BalanceInputs, water_balance
from models.irrigation.kcb import parcel_kcb, stage_fraction
from models.irrigation.system import parcel_system
from pipelines.core.config import load_crop, load_irrigation_methods, load_irrigation_settings, load_soils
from pipelines.core.errors import ConfigError, InputDataError

FALLBACK_SOIL = "loam"
FALLBACK_METHOD = "surface"
HEIGHT_INI_M = 0.05
RAIN_MIN_FRACTION_ET0 = 0.2
SPINUP_START_DEPLETION = 1.0
ASSUMED_REFILL = "no irrigation records: assumed irrigated as planned"
PARCEL_COLUMNS = ("parcel", "crop", "soil_texture", "sowing_date", "irrigation_method", "area_m2")
SYSTEM_VARIABLES = ("kind", "wetted_fraction", "interval_days", "rotation_days", "max_gross_mm",
                    "application_rate_mm_h",
                    "plant_area_m2", "max_pulse_h", "sector", "ecw_ds_m", "ece_ds_m", "leaching_requirement",
                    "ks_salinity", "et0_factor", "under_cover")


def read_parcel_records(path: str | Path, what: str, columns: tuple[str, ...]) -> pd.DataFrame:
    """A farm's per-parcel CSV records (`columns`, dates ISO 8601), or InputDataError naming the fix."""
    path = Path(path)
    header = ",".join(columns)
    if not path.is_file():
        raise InputDataError(path, f"{what} file not found", f"create it ({header}) or remove it from farm.yaml")
    table = pd.read_csv(path, comment="#", dtype={"parcel": str})
    missing = set(columns) - set(table.columns)
    if missing:
        raise InputDataError(path, f"missing columns {sorted(missing)}", f"use the header {header}")
    table["date"] = pd.to_datetime(table["date"], format="ISO8601")
    return table


def read_irrigation_events(path: str | Path, parcel_ids) -> pd.DataFrame:
    """Recorded irrigations `date,parcel,depth_mm` (gross applied depth, mm)."""
    events = read_parcel_records(path, "irrigation events", ("date", "parcel", "depth_mm"))
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
    soils, methods, settings, crops = load_soils(), load_irrigation_methods(), load_irrigation_settings(), {}
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
        system = parcel_system(row, crop, soil_name, methods[method], settings)
        notes.extend(system.notes)
        rows.append({"parcel": row.parcel, "crop": crop, "sowing": pd.Timestamp(row.sowing_date),
                     "soil": soils[soil_name],
                     "efficiency": system.efficiency, "system": system, "area_m2": float(row.area_m2),
                     "method": method})
        flags[row.parcel] = "; ".join(notes)
    return pd.DataFrame(rows), flags


def _growth(crop, days: np.ndarray, kcb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Root depth (FAO-56 p. 279, with the stage curve) and crop height (from Kcb, as pyfao56), m.
    Before sowing (spin-up): the initial root depth and a bare soil."""
    if crop.kind == "tree":
        return np.full(days.shape, crop.root_depth_max_m), np.full(days.shape, crop.height_max_m)
    development, _ = stage_fraction(crop, np.maximum(days, 0))
    root = crop.root_depth_min_m + (crop.root_depth_max_m - crop.root_depth_min_m) * development
    ratio = (kcb - crop.kcb_ini) / (crop.kcb_mid - crop.kcb_ini)
    height = np.maximum(HEIGHT_INI_M + (crop.height_max_m - HEIGHT_INI_M) * np.nan_to_num(ratio, nan=0.0), 0.001)
    height = np.where(days < 0, HEIGHT_INI_M, height)
    return root, np.maximum.accumulate(height)


def season_climate(weather: pd.DataFrame, lat_deg: float | None = None) -> dict[str, float]:
    """Means over `weather`'s days (the season up to the plan day) of u2 (m/s), RHmin (%) and mean
    air temperature (°C), with the latitude: the climate of the trees' Kcb (`kcb.tree_kcb`)."""
    climate = {"u2_ms": float(weather["u2_ms"].mean()), "rh_min_pct": float(weather["rh_min_pct"].mean()),
               "tmean_c": float(((weather["tmin_c"] + weather["tmax_c"]) / 2).mean())}
    if lat_deg is not None:
        climate["lat_deg"] = float(lat_deg)
    return climate


def parcel_series(row, dates: pd.DatetimeIndex, observations: pd.DataFrame | None, climate: dict[str, float]):
    """(kcb with NaN outside the crop's days, cover fraction, Kcb source, single-Kc days, root depth m,
    height m) of one parcel row of `_parcel_parameters` over `dates` (`kcb.parcel_kcb`, `_growth`)."""
    series = parcel_kcb(row.crop, dates, row.sowing, observations, climate)
    root, height = _growth(row.crop, (dates - row.sowing).days.to_numpy(), series.kcb)
    cover = series.cover_fraction
    if row.crop.tree_cover is not None:  # unobserved days: the cover the FAO-56 Table 17 Kcb was given for
        cover = np.where(np.isnan(cover), row.crop.tree_cover.typical_cover_fraction, cover)
    return series.kcb, cover, series.source, series.single, root, height


@dataclass
class PreparedBalance:
    """Everything the balance runs on: the parcels kept, the days, the arrays and their provenance."""

    table: pd.DataFrame
    dates: pd.DatetimeIndex
    inputs: BalanceInputs
    kcb_source: np.ndarray
    rain_mm: np.ndarray
    flags: dict[str, str]


def _initial_state(table: pd.DataFrame, dates: pd.DatetimeIndex, soil_moisture: pd.DataFrame | None,
                   default_fraction: float, flags: dict[str, str]) -> tuple[np.ndarray, np.ndarray]:
    """(depletion fraction of TAW on the first active day, spin-up mask: starts before sowing)."""
    fraction, spinup = np.full(len(table), float(default_fraction)), np.zeros(len(table), dtype=bool)
    readings = soil_moisture if soil_moisture is not None else pd.DataFrame(columns=["parcel", "date", "theta_m3_m3"])
    for k, row in enumerate(table.itertuples(index=False)):
        start = max(row.sowing, dates[0])
        near = readings[(readings["parcel"] == row.parcel)
                        & (pd.to_datetime(readings["date"]).sub(start).abs() <= pd.Timedelta(days=3))]
        if len(near):
            theta = float(near["theta_m3_m3"].iloc[0])
            fraction[k] = float(np.clip((row.soil.theta_fc - theta) / (row.soil.theta_fc - row.soil.theta_wp), 0, 1))
            read_on = pd.Timestamp(near["date"].iloc[0]).date()
            note = f"initial depletion from the soil-moisture reading of {read_on} ({theta:.3f} m³/m³)"
        elif row.sowing > dates[0]:
            spinup[k], fraction[k] = True, SPINUP_START_DEPLETION
            note = (f"initial depletion from a bare-soil spin-up {dates[0].date()}→{row.sowing.date()} "
                    "starting dry (Dr = TAW)")
        else:
            note = (f"initial depletion assumed {default_fraction:.0%} of TAW on {start.date()} "
                    "(no weather before it for a spin-up, no soil-moisture reading)")
        flags[row.parcel] = "; ".join(filter(None, [flags.get(row.parcel, ""), note]))
    return fraction, spinup


def prepare_balance(parcels: pd.DataFrame, weather: pd.DataFrame, et0_mm: pd.Series, start, end,
                    observations: pd.DataFrame | None = None, irrigation_events: pd.DataFrame | None = None,
                    initial_depletion_fraction: float = 0.0,
                    rain_min_fraction_et0: float = RAIN_MIN_FRACTION_ET0,
                    assume_planned_irrigation: bool = False, lat_deg: float | None = None,
                    soil_moisture: pd.DataFrame | None = None) -> PreparedBalance:
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
    climate = season_climate(w, lat_deg)
    n, d = len(table), len(dates)
    kcb, cover, root, height = np.zeros((n, d)), np.zeros((n, d)), np.zeros((n, d)), np.zeros((n, d))
    source, single = np.empty((n, d), dtype=object), np.zeros((n, d), dtype=bool)
    by_parcel = dict(tuple(observations.groupby("parcel"))) if observations is not None and len(observations) else {}
    fraction, spinup = _initial_state(table, dates, soil_moisture, initial_depletion_fraction, flags)
    for k, row in enumerate(table.itertuples(index=False)):
        obs = None if row.system.under_cover else by_parcel.get(row.parcel)
        kcb[k], cover[k], source[k], single[k], root[k], height[k] = parcel_series(row, dates, obs, climate)
    crop_active = ~np.isnan(kcb)
    before = (dates.to_numpy()[None, :] < table["sowing"].to_numpy()[:, None]) & spinup[:, None]
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
    system = lambda name: col(lambda r: getattr(r.system, name))  # noqa: E731
    inputs = BalanceInputs(
        et0_mm=et0, rain_mm=rain_eff, u2_ms=w["u2_ms"].to_numpy(float), rh_min_pct=w["rh_min_pct"].to_numpy(float),
        kcb=np.nan_to_num(kcb), kcb_ini=col(lambda r: r.crop.kcb_ini), height_m=height, root_depth_m=root,
        cover_fraction=cover, theta_fc=col(lambda r: r.soil.theta_fc), theta_wp=col(lambda r: r.soil.theta_wp),
        rew_mm=col(lambda r: r.soil.rew_mm), tew_mm=col(lambda r: r.soil.tew_mm),
        p_base=col(lambda r: r.crop.depletion_fraction), irrigation_mm=irrigation,
        efficiency=col(lambda r: r.efficiency),
        wetted_fraction=system("wetted_fraction"), initial_depletion_fraction=fraction,
        active=crop_active | before, assumed_refill=refill, crop_active=crop_active, single_kc=single,
        taw_fraction=system("taw_fraction"), ks_salinity=system("ks_salinity"), et0_factor=system("et0_factor"),
        rain_factor=system("rain_factor"), interval_days=system("interval_days").astype(int),
        rotation_days=system("rotation_days").astype(int), max_gross_mm=system("max_gross_mm"),
        shaded_wetting=np.array([r.system.kind == "localized" for r in table.itertuples()]))
    return PreparedBalance(table, dates, inputs, source, rain, flags)


def season_balance(parcels: pd.DataFrame, weather: pd.DataFrame, et0_mm: pd.Series, start, end,
                   observations: pd.DataFrame | None = None, irrigation_events: pd.DataFrame | None = None,
                   initial_depletion_fraction: float = 0.0,
                   rain_min_fraction_et0: float = RAIN_MIN_FRACTION_ET0,
                   assume_planned_irrigation: bool = False, lat_deg: float | None = None,
                   soil_moisture: pd.DataFrame | None = None) -> xr.Dataset:
    """Daily balance of every parcel from `start` to `end` (inclusive), dims (parcel, date).

    parcels: columns parcel, crop, soil_texture, sowing_date, irrigation_method, area_m2, and
    optionally the system columns of `system.parcel_system` (emitter_flow_l_h, …, ecw_ds_m,
    under_cover, sector). observations: long table parcel, date, ndvi_mean[, crop_cover_fraction].
    irrigation_events: date, parcel, depth_mm (gross). Rain below rain_min_fraction_et0·ET0 is
    taken as fully evaporated (FAO-56 ch. 7, p. 151: 'precipitation less than about 0.2 ET0').
    initial_depletion_fraction: depletion (fraction of TAW) of crops already in the field on
    `start` without a reading. lat_deg: latitude for the trees' effective cover (sun at noon).
    soil_moisture: optional readings parcel, date, theta_m3_m3. assume_planned_irrigation:
    parcels without any recorded irrigation are assumed irrigated as planned (flagged).
    """
    prepared = prepare_balance(parcels, weather, et0_mm, start, end, observations, irrigation_events,
                               initial_depletion_fraction, rain_min_fraction_et0, assume_planned_irrigation,
                               lat_deg, soil_moisture)
    return balance_dataset(prepared, water_balance(prepared.inputs))


def balance_dataset(prepared: PreparedBalance, result: dict[str, np.ndarray]) -> xr.Dataset:
    """The (parcel, date) Dataset of `season_balance` from the prepared inputs and `water_balance`'s result."""
    table, flags = prepared.table, prepared.flags
    coords = {"parcel": table["parcel"].to_numpy(dtype=object), "date": prepared.dates}
    data = {name: (("parcel", "date"), values) for name, values in result.items()}
    data["kcb_source"] = (("parcel", "date"), prepared.kcb_source)
    data["single_kc"] = (("parcel", "date"), prepared.inputs.single_kc)
    data["et0_mm"] = (("date",), prepared.inputs.et0_mm)
    data["rain_mm"] = (("date",), prepared.rain_mm)
    data["area_m2"] = (("parcel",), table["area_m2"].to_numpy(float))
    data["efficiency"] = (("parcel",), prepared.inputs.efficiency)
    data["crop"] = (("parcel",), np.array([crop.id for crop in table["crop"]], dtype=object))
    data["irrigation_method"] = (("parcel",), table["method"].to_numpy(dtype=object))
    data["sowing_date"] = (("parcel",), table["sowing"].to_numpy())
    data["assumed_refill"] = (("parcel",), np.asarray(prepared.inputs.assumed_refill, dtype=bool))
    systems = table["system"].tolist()  # one pass over the column (itertuples builds a class per call)
    for name in SYSTEM_VARIABLES:
        values = [getattr(system, name) for system in systems]
        data[name] = (("parcel",), np.array(values, dtype=object if isinstance(values[0], str) else None))
    data["parcel_flags"] = (("parcel",), np.array([flags.get(p, "") for p in table["parcel"]], dtype=object))
    dataset = xr.Dataset(data, coords=coords, attrs={"method": "FAO-56 dual crop coefficient, ch. 7-8"})
    dataset.attrs["excluded_parcels"] = "; ".join(f"{p}: {f}" for p, f in flags.items() if f.startswith("excluded"))
    return dataset


@dataclass
class BalanceView:
    """The first `stop` days of a season balance Dataset, read as numpy arrays without xarray's
    per-read cost (a backfill reads one range balance per plan day: `season_range`).

    `view[name]` is the variable's values as the Dataset holds them, cut to `stop` days along the
    date axis (always the last); `dataset()` is the Dataset of those days."""

    full: xr.Dataset
    stop: int
    arrays: dict
    cache: dict

    @classmethod
    def of(cls, dataset: xr.Dataset, stop: int | None = None) -> BalanceView:
        """The view of `dataset`'s first `stop` days (default: all)."""
        arrays = {name: (variable.values, "date" in variable.dims) for name, variable in dataset.variables.items()}
        return cls(dataset, dataset.sizes["date"] if stop is None else stop, arrays, {})

    def day(self, stop: int) -> BalanceView:
        """The view of the first `stop` days (sharing the arrays and the cache)."""
        return BalanceView(self.full, stop, self.arrays, self.cache)

    def __getitem__(self, name: str) -> np.ndarray:
        values, dated = self.arrays[name]
        return values[..., : self.stop] if dated else values

    @property
    def dates(self) -> pd.DatetimeIndex:
        """The view's days."""
        return self.full.indexes["date"][: self.stop]

    def dataset(self) -> xr.Dataset:
        """The Dataset of the view's days (`isel` of the full one: no copy of the values)."""
        return self.full if self.stop == self.full.sizes["date"] else self.full.isel(date=slice(0, self.stop))
