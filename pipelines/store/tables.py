"""Per-parcel tables in the farm store: the `parcels` cube (parcel, time, variable) and the
`recommendations` cube (parcel, date), both per the DESIGN Zarr contract.

Per-flight statistics are written whole per flight (`flights/<flight>/parcel_stats`); the
`parcels` cube is assembled from them, so two flights written at once never race. The
`recommendations` cube covers the whole season, preallocated once, and each day writes only
its own region (chunks of one day), so a re-run replaces that day and nothing else.
"""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import xarray as xr

from pipelines.store import cube
from pipelines.store.lock import product_lock
from pipelines.store.publish import join

PARCELS = "parcels"
RECOMMENDATIONS = "recommendations"


def stats_product(stats: pd.DataFrame, flight: str, date: dt.date) -> xr.DataArray:
    """A flight's parcel table (one row per parcel, numeric columns) as (parcel, variable)."""
    table = stats.set_index("parcel")
    numeric = table.select_dtypes("number").astype("float64")
    return xr.DataArray(
        numeric.to_numpy(), dims=("parcel", "variable"), name="parcel_stats",
        coords={"parcel": np.array(numeric.index, dtype=object), "variable": np.array(numeric.columns, dtype=object)},
        attrs={"flight": flight, "date": date.isoformat(), "long_name": "per-parcel statistics of one flight"},
    )


def assemble_parcel_cube(store: cube.Store) -> xr.DataArray:
    """Stack every flight's `parcel_stats` into the season's (parcel, time, variable) cube."""
    layers = []
    for flight in cube.flights_in_store(store):
        group = cube.flight_group(flight, "parcel_stats")
        if cube.has_product(store, group):
            layer = cube.read_product(store, group)["parcel_stats"].load()
            layers.append(layer.expand_dims(time=[np.datetime64(layer.attrs["date"],
                                                                "ns")]).assign_coords(flight=("time",
                                                                                              np.array([flight],
                                                                                                       dtype=object))))
    if not layers:
        raise LookupError(f"{store}: no flight has parcel statistics yet")
    cube_ = xr.concat(layers, dim="time", join="outer").sortby("time").transpose("parcel", "time", "variable")
    cube_.attrs = {"long_name": "per-parcel statistics per flight (season time series)"}
    return cube_.rename("parcel_stats")


def read_parcel_cube(store: cube.Store) -> xr.DataArray:
    """The season's (parcel, time, variable) parcel-statistics cube, loaded into memory."""
    return cube.read_product(store, PARCELS)["parcel_stats"].load()


def _season_template(parcels: list[str], start: dt.date, end: dt.date, variables: dict[str, dict]) -> xr.Dataset:
    dates = pd.date_range(start, end, freq="D")
    shape = (len(parcels), len(dates))
    data = {name: (("parcel", "date"), np.full(shape, np.nan, dtype="float64"),
                   attrs) for name, attrs in variables.items()}
    return xr.Dataset(data, coords={"parcel": np.array(parcels, dtype=object), "date": dates})


def write_day(store: cube.Store, day: pd.DataFrame, date: dt.date, season: tuple[dt.date, dt.date],
              variables: dict[str, dict]) -> None:
    """Write one date's rows (index = parcel, columns = variables) into the recommendations cube.

    `variables` maps every variable of the cube to its CF attributes (units, long_name); the cube
    is created for the whole season on first use. Staged and published like every product: under
    the product's exclusive lock the cube is read, this date's cells of `day.columns` replaced and
    the whole cube published atomically, so a killed writer leaves the previous cube whole and two
    days written at once both land (local disks and object stores alike).
    """
    write_days(store, {date: day}, season, variables)


def write_days(store: cube.Store, days: dict[dt.date, pd.DataFrame], season: tuple[dt.date, dt.date],
               variables: dict[str, dict]) -> None:
    """`write_day` for several dates at once: the cube is read, every date's cells replaced and the
    cube published once, so a backfilled range costs one publication (all frames have the same
    parcels and columns)."""
    start, end = season
    outside = [d for d in days if not start <= d <= end]
    if outside:
        raise ValueError(f"{outside[0]} is outside the season {start}..{end}")
    if not days:
        return
    dates = sorted(days)
    columns = list(days[dates[0]].columns)
    parcels = sorted(map(str, days[dates[0]].index))
    group = join(str(store), RECOMMENDATIONS)
    with product_lock(store, RECOMMENDATIONS):
        if cube.has_product(store, RECOMMENDATIONS):   # as stored: times stay numbers with their units
            existing = cube.load_product(store, RECOMMENDATIONS, decode_times=False)
            first = xr.decode_cf(existing[["date"]])["date"].values[0]
        else:
            existing = _season_template(parcels, start, end, variables).assign_attrs(season=f"{start}/{end}")
            first = existing.date.values[0]
        missing = set(columns) - set(existing.data_vars)
        if missing or list(existing.parcel.values) != parcels:
            raise ValueError(f"{group}: cube has variables {sorted(existing.data_vars)} and parcels "
                             f"{list(existing.parcel.values)}; got {sorted(columns)} for {parcels}: "
                             "delete the recommendations group to rebuild it for the new layout")
        first_day = first.astype("datetime64[D]")
        updated = existing.copy(deep=True)
        cells = {name: updated[name].values for name in columns}   # the copy's arrays, written in place
        for date in dates:
            index = int((np.datetime64(date) - first_day).astype(int))
            region = days[date].reindex(parcels)
            for name in columns:
                cells[name][:, index] = region[name].to_numpy(dtype="float64")
        for variable in updated.variables.values():
            variable.encoding = {}
        updated.attrs.pop(cube.VERSION_ATTR, None)
        cube.write_product(store, RECOMMENDATIONS, updated, chunks={"date": updated.sizes["date"]}, locked=True)


def read_recommendations(store: cube.Store) -> xr.Dataset:
    """The season's (parcel, date) `recommendations` cube, loaded into memory."""
    return xr.open_zarr(str(store), group=RECOMMENDATIONS, consolidated=False).load()


def recommendation_variables(season_start: dt.date) -> dict[str, dict]:
    """Every variable of the `recommendations` cube with its CF attributes (the contract)."""
    mm = "mm"
    return {
        "irrigate_today": {"units": "1", "long_name": "irrigate today (1) or not (0)"},
        "depth_mm": {"units": mm, "long_name": "gross irrigation depth to apply today"},
        "net_depth_mm": {"units": mm, "long_name": "net irrigation depth (root-zone refill)"},
        "volume_m3": {"units": "m3", "long_name": "gross irrigation volume for the parcel"},
        "next_irrigation_date": {"units": f"days since {season_start.isoformat()}",
                                 "long_name": "next irrigation date"},
        "depletion_mm": {"units": mm, "long_name": "root-zone depletion Dr (FAO-56 eq. 85)"},
        "taw_mm": {"units": mm, "long_name": "total available water TAW (FAO-56 eq. 82)"},
        "raw_mm": {"units": mm, "long_name": "readily available water RAW (FAO-56 eq. 83)"},
        "ks": {"units": "1", "long_name": "water stress coefficient Ks (FAO-56 eq. 84)"},
        "stress": {"units": "1", "long_name": "water stress flag (Ks < 1)"},
        "kcb": {"units": "1", "long_name": "basal crop coefficient Kcb"},
        "etc_mm": {"units": mm, "long_name": "crop evapotranspiration ETc"},
        "et0_mm": {"units": mm, "long_name": "reference evapotranspiration ET0 (FAO-56 eq. 6)"},
        "litres_per_plant": {"units": "L", "long_name": "gross water per plant today (drip, micro-sprinkler)"},
        "run_time_h": {"units": "h", "long_name": "run time of today's event at the system's application rate"},
        "pulses": {"units": "1", "long_name": "number of pulses the run time is split into"},
        "leaching_fraction": {"units": "1", "long_name": "leaching requirement LR, share of the gross depth (FAO-29)"},
        "quota_cut_m3": {"units": "m3", "long_name": "volume cut from today's demand by the farm's water quota"},
        "quota_cut_mm": {"units": mm, "long_name": "depth cut from today's demand by the farm's water quota"},
        "quota_deficit_stage": {"units": "1", "long_name": "quota cut taken first at a stage that tolerates "
                                                           "regulated deficit irrigation (1) or by crop priority (0)"},
        "yield_t_ha": {"units": "t ha-1", "long_name": "expected yield"},
        "yield_p10_t_ha": {"units": "t ha-1", "long_name": "yield, 10th percentile"},
        "yield_p90_t_ha": {"units": "t ha-1", "long_name": "yield, 90th percentile"},
    }


RECOMMENDATION_COLUMNS = ("depth_mm", "net_depth_mm", "volume_m3", "depletion_mm", "taw_mm", "raw_mm", "ks", "kcb",
                          "etc_mm")
RECOMMENDATION_OPTIONAL = ("litres_per_plant", "run_time_h", "pulses", "leaching_fraction", "quota_cut_m3",
                           "quota_cut_mm", "quota_deficit_stage")


def recommendation_rows(plan: pd.DataFrame, season_start: dt.date) -> pd.DataFrame:
    """The day's cells of the recommendations cube per parcel (float64; next date in days since the
    season start), built in one frame from the plan's columns."""
    nan = np.full(len(plan), np.nan)
    numeric = {column: plan[column].to_numpy(dtype="float64") for column in RECOMMENDATION_COLUMNS}
    numeric |= {column: plan[column].to_numpy(dtype="float64") if column in plan else nan
                for column in RECOMMENDATION_OPTIONAL}
    numeric |= {column: plan[column].to_numpy(dtype="float64") for column in ("irrigate_today", "stress")}
    next_date = pd.to_datetime(plan["next_irrigation_date"])
    numeric["next_irrigation_date"] = (next_date - pd.Timestamp(season_start)).dt.days.to_numpy(dtype="float64")
    return pd.DataFrame(numeric, index=pd.Index(plan["parcel"].to_numpy(), name="parcel"))


ZONE_PLAN_NUMERIC = ("zone", "area_m2", "depth_mm", "volume_m3", "depletion_mm", "raw_mm", "taw_mm", "ks", "kcb",
                     "etc_mm", "depletion_spread_mm")


def zone_plan_product(day: dt.date, plan: pd.DataFrame, note: str) -> xr.DataArray:
    """The day's `zone_plans/<date>` product: (zone_id, variable) float64 of ZONE_PLAN_NUMERIC and irrigate_today."""
    variables = [*ZONE_PLAN_NUMERIC, "irrigate_today"]
    values = np.column_stack([plan[column].to_numpy(dtype="float64") for column in variables])
    return xr.DataArray(values, dims=("zone_id", "variable"), name="zone_plan",
                        coords={"zone_id": np.array(plan["zone_id"], dtype=object),
                                "variable": np.array(variables, dtype=object)},
                        attrs={"date": day.isoformat(), "note": note})
