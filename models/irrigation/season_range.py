"""The season balances of a range of plan days from one run of the water balance (backfills).

The plan of day D reads the balance from the season start to D (`season.season_balance`). The
balance is causal (each day's state follows from the day before and the day's inputs), so the
balance up to D is the first days of a longer balance whenever its inputs over those days are the
same. Two inputs depend on the plan day itself (`season.prepare_balance`): the flights of the crop
cycle up to D (a later flight changes the Kcb interpolated after the last one), and the season's
mean climate up to D that turns a tree crop's observed cover into Kcb (Allen & Pereira 2009). So
each parcel's Kcb, cover and growth series are recomputed per plan day only for the parcels with
observations; where the series of D differs from every series already run, it becomes one more
row of the balance (the parcel as seen on D). One `water_balance` over all rows, days on the last
plan day, then gives every plan day's Dataset, equal to `season_balance(…, end=D)`.
"""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import fields, replace

import numpy as np
import pandas as pd
import xarray as xr

from models.irrigation.balance import water_balance
from models.irrigation.season import (
    BalanceView,
    PreparedBalance,
    balance_dataset,
    parcel_series,
    prepare_balance,
    season_climate,
)

SERIES = ("kcb", "cover_fraction", "kcb_source", "single_kc", "root_depth_m", "height_m")
DAILY_WEATHER = ("et0_mm", "rain_mm", "u2_ms", "rh_min_pct")


def _same(a: tuple, b: tuple, stop: int) -> bool:
    return all(np.array_equal(x[:stop], y[:stop], equal_nan=x.dtype.kind == "f") if x.dtype != object
               else bool((x[:stop] == y[:stop]).all()) for x, y in zip(a, b))


def _base_rows(prepared: PreparedBalance) -> list[tuple]:
    i = prepared.inputs
    kcb = np.where(i.crop_active, i.kcb, np.nan)
    return [(kcb[k], i.cover_fraction[k], prepared.kcb_source[k], i.single_kc[k], i.root_depth_m[k], i.height_m[k])
            for k in range(len(prepared.table))]


def _day_rows(prepared: PreparedBalance, weather: pd.DataFrame, days: Sequence[pd.Timestamp],
              observations: pd.DataFrame | None, lat_deg: float | None) -> tuple[list[tuple], list[int], dict]:
    """(series per balance row, parcel index of each row, plan day -> row index per parcel)."""
    rows = _base_rows(prepared)
    owner = list(range(len(rows)))
    by_parcel = dict(tuple(observations.groupby("parcel"))) if observations is not None and len(observations) else {}
    observed = [(k, r, by_parcel[r.parcel]) for k, r in enumerate(prepared.table.itertuples(index=False))
                if not r.system.under_cover and r.parcel in by_parcel]
    latest = {k: k for k, _, _ in observed}
    w = weather.loc[prepared.dates]
    chosen = {}
    for day in days:
        stop = int(prepared.dates.get_loc(day)) + 1
        index = np.arange(len(prepared.table))
        climate = season_climate(w.iloc[:stop], lat_deg) if observed else None
        for k, row, obs in observed:
            series = parcel_series(row, prepared.dates[:stop], obs, climate)
            match = next((r for r in (latest[k], k) if _same(series, rows[r], stop)), None)
            if match is None:  # the days after D are never read by D's plan: the base row's fill them
                rows.append(tuple(np.concatenate([s, b[stop:]]) for s, b in zip(series, rows[k])))
                owner.append(k)
                match = latest[k] = len(rows) - 1
            index[k] = match
        chosen[day] = (index, stop)
    return rows, owner, chosen


def range_balances(parcels: pd.DataFrame, weather: pd.DataFrame, et0_mm: pd.Series, start,
                   days: Sequence, observations: pd.DataFrame | None = None,
                   irrigation_events: pd.DataFrame | None = None, lat_deg: float | None = None,
                   **options) -> Iterator[tuple[pd.Timestamp, xr.Dataset]]:
    """(day, balance from `start` to day) for each of `days`, equal to `season_balance(…, end=day)`
    (same arguments; `options`: initial_depletion_fraction, rain_min_fraction_et0,
    assume_planned_irrigation, soil_moisture), from one `water_balance` run."""
    for day, view in range_views(parcels, weather, et0_mm, start, days, observations, irrigation_events, lat_deg,
                                 **options):
        yield day, view.dataset()


def range_views(parcels: pd.DataFrame, weather: pd.DataFrame, et0_mm: pd.Series, start,
                days: Sequence, observations: pd.DataFrame | None = None,
                irrigation_events: pd.DataFrame | None = None, lat_deg: float | None = None,
                **options) -> Iterator[tuple[pd.Timestamp, BalanceView]]:
    """`range_balances` as (day, `BalanceView`): the Dataset of each distinct choice of balance rows
    is built once over the whole range, and each day is a view of its first days (a day's Dataset,
    `view.dataset()`, equals `season_balance(…, end=day)`)."""
    days = sorted(pd.Timestamp(d) for d in days)
    prepared = prepare_balance(parcels, weather, et0_mm, start, days[-1], observations, irrigation_events,
                               lat_deg=lat_deg, **options)
    rows, owner, chosen = _day_rows(prepared, weather, days, observations, lat_deg)
    owner = np.asarray(owner)
    i = prepared.inputs
    stacked = {name: np.stack([r[n] for r in rows]) for n, name in enumerate(SERIES)}
    kcb = stacked.pop("kcb")
    source = stacked.pop("kcb_source")
    per_row = {f.name: getattr(i, f.name)[owner] for f in fields(i)
               if f.name not in DAILY_WEATHER and getattr(i, f.name) is not None
               and np.ndim(getattr(i, f.name)) == 1}
    before = i.active & ~i.crop_active
    crop_active = ~np.isnan(kcb)
    inputs = replace(i, **per_row, **stacked, kcb=np.nan_to_num(kcb), crop_active=crop_active,
                     active=crop_active | before[owner], irrigation_mm=i.irrigation_mm[owner])
    result = water_balance(inputs)
    views: dict[bytes, BalanceView] = {}
    for day in days:
        index, stop = chosen[day]
        key = index.tobytes()
        if key not in views:  # the days after a plan day are never read by its plan: one Dataset per row choice
            full_inputs = replace(i, **{name: getattr(inputs, name)[index] for name in
                                        ("kcb", "height_m", "root_depth_m", "cover_fraction", "irrigation_mm",
                                         "active", "crop_active", "single_kc")})
            full = replace(prepared, inputs=full_inputs, kcb_source=source[index])
            views[key] = BalanceView.of(balance_dataset(full, {n: v[index] for n, v in result.items()}))
        yield day, views[key].day(stop)
