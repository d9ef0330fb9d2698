"""One balance run over a range of plan days gives, for each day, the balance and plan of that day's
own run (`season_balance(…, end=day)`, `farm_plan`), including the parcels whose Kcb depends on the
plan day: flights after an earlier plan day, and the tree crops' season climate up to the plan day."""
from __future__ import annotations

import datetime as dt

import pandas as pd
import xarray as xr

from models.irrigation.farm_plan import RECENT_DAYS, _used_m3, farm_plan, farm_plans
from models.irrigation.season_range import range_views
from models.irrigation.zone_plan import as_zones, zone_rows
from pipelines.core.config import load_farm
from pipelines.plans.farm_inputs import farm_inputs

FLIGHTS = {dt.date(2026, 2, 3): 0.42, dt.date(2026, 2, 17): 0.55, dt.date(2026, 3, 4): 0.61}


def _inputs(tmp_path, flown: bool):
    farm = load_farm("chtouka")
    inputs = farm_inputs(farm, tmp_path)
    if flown:  # every parcel flown three times (olive and citrus: trees, Kcb from cover and climate)
        inputs.observations = pd.DataFrame(
            [{"parcel": p, "date": pd.Timestamp(day), "ndvi_mean": ndvi + 0.01 * k}
             for k, p in enumerate(inputs.parcels["parcel"]) for day, ndvi in FLIGHTS.items()])
    return farm, inputs


def _check(farm, inputs, days):
    ranged = list(farm_plans(farm, inputs, days))
    assert [r[0] for r in ranged] == days
    for day, plan, balance, note in ranged:
        own_plan, own_balance, own_note = farm_plan(farm, inputs, day)
        xr.testing.assert_identical(balance, own_balance)
        pd.testing.assert_frame_equal(plan, own_plan, check_exact=True)
        assert note == own_note
    return ranged


def test_range_equals_each_day_without_flights(tmp_path):
    farm, inputs = _inputs(tmp_path, flown=False)
    days = [dt.date(2025, 10, 1) + dt.timedelta(days=i) for i in range(0, 270, 23)]
    ranged = _check(farm, inputs, days)
    assert len(ranged[-1][2].date) == 254 and float(ranged[-1][2]["depletion_mm"].notnull().sum()) > 1000


def test_range_equals_each_day_with_flights_and_trees(tmp_path):
    farm, inputs = _inputs(tmp_path, flown=True)
    days = [dt.date(2026, 1, 30) + dt.timedelta(days=i) for i in range(0, 50, 3)]
    ranged = _check(farm, inputs, days)
    sources = {str(s) for _, _, b, _ in ranged for s in b["kcb_source"].values.ravel()}
    assert {"ndvi", "ndvi_extrapolated"} <= sources


def _used_m3_xarray(balance: xr.Dataset, day: pd.Timestamp) -> tuple[float, float, float]:
    """The xarray form `farm_plan._used_m3` had before the numpy one (the reference)."""
    gross = (balance["irrigation_mm"].fillna(0.0) * balance["area_m2"] / 1000.0).sum("parcel")
    before = gross.sel(date=slice(None, day - pd.Timedelta(days=1)))
    month = before.sel(date=slice(day.replace(day=1), None))
    recent = before.isel(date=slice(-RECENT_DAYS, None))
    return float(before.sum()), float(month.sum()), float(recent.mean()) if recent.size else 0.0


def test_used_volumes_of_a_range_view_equal_xarray_to_the_bit(tmp_path):
    """The allocation's used volumes from a day view of the range balance (shared per-day gross
    volumes) are the xarray sums of that day's own Dataset, bit for bit, on every day of the season."""
    farm, inputs = _inputs(tmp_path, flown=True)
    days = [farm.season.start + dt.timedelta(days=i) for i in range(0, 273, 4)]
    views = list(range_views(inputs.parcels, inputs.weather, inputs.et0_mm, farm.season.start, days,
                             inputs.observations, inputs.irrigation_events, lat_deg=farm.location.lat_deg,
                             assume_planned_irrigation=True))
    for day, view in views:
        own = view.dataset()
        assert _used_m3(view, day) == _used_m3_xarray(own, day) == _used_m3(own, day)
    assert _used_m3(views[-1][1], views[-1][0])[0] > 0


def test_parcel_plan_as_zone_zero_equals_the_general_zone_rows(tmp_path):
    """`as_zones`' direct path (one zone 0 per parcel) gives `zone_rows`' frame with a zones table of
    one zone per parcel, exactly (order, dtypes, notes, spreads: 0 mm, or NaN out of season)."""
    farm, inputs = _inputs(tmp_path, flown=False)
    for day in (dt.date(2025, 10, 1), dt.date(2026, 3, 15)):
        plan, balance, note = farm_plan(farm, inputs, day)
        areas = balance["area_m2"].to_series()
        zones = pd.DataFrame({"parcel": areas.index, "parent": areas.index, "zone": 0, "area_m2": areas.to_numpy(),
                              "note": ""})
        fast, _, fast_note = as_zones(plan.iloc[::-1].reset_index(drop=True), balance, note)
        pd.testing.assert_frame_equal(fast, zone_rows(plan, zones), check_exact=True)
        assert fast_note.endswith(note)
        assert fast["depletion_spread_mm"].isna().sum() == plan["depletion_mm"].isna().sum()


def test_range_views_give_the_same_plans_and_balances(tmp_path):
    """`farm_plans(…, views=True)` yields the same plans, and day views whose Dataset and arrays are the
    day's balance (what the assets read: et0 of the day)."""
    farm, inputs = _inputs(tmp_path, flown=True)
    days = [dt.date(2026, 1, 30) + dt.timedelta(days=i) for i in range(0, 40, 9)]
    for (day, plan, balance, note), (_, view_plan, view, view_note) in zip(
            farm_plans(farm, inputs, days), farm_plans(farm, inputs, days, views=True), strict=True):
        pd.testing.assert_frame_equal(view_plan, plan, check_exact=True)
        assert view_note == note
        xr.testing.assert_identical(view.dataset(), balance)
        assert view["et0_mm"][-1] == balance["et0_mm"].sel(date=pd.Timestamp(day)).item()
        assert (view["kcb_source"] == balance["kcb_source"].values).all()
