"""One balance run over a range of plan days gives, for each day, the balance and plan of that day's
own run (`season_balance(…, end=day)`, `farm_plan`), including the parcels whose Kcb depends on the
plan day: flights after an earlier plan day, and the tree crops' season climate up to the plan day."""
from __future__ import annotations

import datetime as dt

import pandas as pd
import xarray as xr

from models.irrigation.farm_plan import farm_plan, farm_plans
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
