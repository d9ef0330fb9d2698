"""The vectorised FAO-56 balance against pyfao56.Model on the same inputs, and its physical bounds."""
from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from models.irrigation.balance import water_balance
from models.irrigation.kcb import table_kcb, tree_kcb
from models.irrigation.reference import pyfao56_parcel
from models.irrigation.season import prepare_balance, season_balance
from pipelines.core.config import load_crop

EVENTS = pd.DataFrame({"date": pd.to_datetime(["2026-02-01", "2026-03-10", "2026-03-15", "2026-04-20"]),
                       "parcel": ["P01", "P08", "P04", "P01"], "depth_mm": [30.0, 20.0, 15.0, 40.0]})


def test_durum_wheat_stage_curve_matches_er_raki():
    # Haouz wheat 0.15 / 0.90 / 0.23 over 30/60/50/35 days (Er-Raki et al. 2007 via configs/crops).
    kcb = table_kcb(load_crop("durum_wheat"), np.array([-1, 0, 30, 60, 90, 140, 175, 200]))
    assert np.isnan(kcb[0])
    assert kcb[1:].tolist() == pytest.approx([0.15, 0.15, 0.525, 0.90, 0.90, 0.23, 0.23])


def test_olive_ground_cover_kcb_in_fao_range():
    # Allen & Pereira 2009: 40 % cover, h = 4 m, u2 = 2, RHmin = 45, 20 °C -> Kcb ~0.5 (FAO-56 Table 17: 0.55-0.65).
    olive = load_crop("olive")
    kcb = tree_kcb(olive, np.array([0.0, 0.4, 0.7]), 2.0, 45.0, 20.0)
    assert kcb[0] == pytest.approx(0.15)
    assert 0.45 < kcb[1] < 0.60 and kcb[1] < kcb[2] < 0.85


def test_balance_equals_pyfao56(souss_weather, sample_parcels, sample_observations):
    weather, et0 = souss_weather
    prepared = prepare_balance(sample_parcels, weather, et0, "2025-10-01", "2026-06-30", sample_observations, EVENTS,
                               initial_depletion_fraction=0.1)
    # pyfao56 has few = min(1 − fc, fw) only; the drip rule under the canopy (FAO-56 p. 149) is checked by hand below
    assert prepared.inputs.shaded_wetting.tolist() == [False, True, True]
    prepared.inputs = dataclasses.replace(prepared.inputs, shaded_wetting=None)
    ours = water_balance(prepared.inputs)
    assert np.nanmin(ours["ks"]) < 0.7, "the scenario must include water stress"
    for k in range(len(prepared.table)):
        peer = pyfao56_parcel(prepared, k)
        first = len(prepared.dates) - len(peer)
        single = prepared.inputs.single_kc[k, first:]
        # pyfao56 has no single-Kc path: compare up to the first day carrying a single Kc (Kamble NDVI relation)
        comparable = np.cumsum(single) == 0
        for mine, theirs in (("etc_mm", "ETc"), ("depletion_mm", "Dr"), ("ks", "Ks"), ("eta_mm", "ETa"),
                             ("deep_percolation_mm", "DP"), ("taw_mm", "TAW")):
            cycle = np.isfinite(ours["kcb"][k, first:])  # sowing to the end of the late season (harvest)
            assert cycle.sum() >= min(len(peer), sum(prepared.table["crop"][k].stage_days)), "cycle cut short"
            cycle &= comparable
            assert cycle.sum() >= 60
            diff = np.abs(ours[mine][k, first:][cycle] - peer[theirs].to_numpy(float)[cycle])
            assert diff.max() < 0.01, (prepared.table["parcel"][k], mine, diff.max())
        assert np.isnan(ours["depletion_mm"][k, :first]).all()
    # tomato (P08): from its flight on, the single Kc of Kamble et al. (2013) runs without Ke (no double count)
    tomato = list(prepared.table["parcel"]).index("P08")
    days = prepared.inputs.single_kc[tomato]
    assert days.sum() >= 30 and np.all(ours["ke"][tomato][days] == 0)


def test_balance_bounds_and_irrigation(souss_weather, sample_parcels, sample_observations):
    weather, et0 = souss_weather
    ds = season_balance(sample_parcels, weather, et0, "2025-10-01", "2026-06-30", sample_observations, EVENTS)
    dr, taw = ds["depletion_mm"].values, ds["taw_mm"].values
    ok = ~np.isnan(dr)
    assert (dr[ok] >= 0).all() and (dr[ok] <= taw[ok] + 1e-9).all()
    assert ((ds["ks"] >= 0) & (ds["ks"] <= 1) | ds["ks"].isnull()).all()
    # A 30 mm sprinkler irrigation (Ea 0.90 × DU 0.80, configs/irrigation.yaml) adds 21.6 mm net on 2026-02-01.
    assert float(ds["irrigation_net_mm"].sel(parcel="P01", date="2026-02-01")) == pytest.approx(21.6)
    day = ds.sel(parcel="P01", date="2026-02-01")
    before = float(ds["depletion_mm"].sel(parcel="P01", date="2026-01-31"))
    expected = max(before - float(day.rain_eff_mm) - 21.6 + float(day.eta_mm) + float(day.deep_percolation_mm), 0.0)
    assert float(day.depletion_mm) == pytest.approx(expected)
    # Before sowing (tomato 2026-01-10) there is no balance; the first flight switches Kcb to NDVI.
    assert np.isnan(float(ds["kcb"].sel(parcel="P08", date="2026-01-09")))
    assert ds["kcb_source"].sel(parcel="P01", date="2026-01-14").item() == "fao_table"
    assert ds["kcb_source"].sel(parcel="P01", date="2026-01-15").item() == "ndvi"
    # On the flight date Kcb equals the NDVI relation: 1.64 × 0.80 − 0.2296 = 1.0824.
    assert float(ds["kcb"].sel(parcel="P01", date="2026-02-20")) == pytest.approx(1.0824)


def test_bad_parcels_are_flagged_not_defaulted(souss_weather, sample_parcels):
    weather, et0 = souss_weather
    parcels = pd.concat([sample_parcels, pd.DataFrame([
        {"parcel": "P11", "crop": "banana", "soil_texture": "loam", "sowing_date": "2025-10-01",
         "irrigation_method": "drip", "area_m2": 5000.0},
        {"parcel": "P12", "crop": "barley", "soil_texture": None, "sowing_date": "2025-11-01",
         "irrigation_method": "flood", "area_m2": 5000.0}])], ignore_index=True)
    ds = season_balance(parcels, weather, et0, "2025-10-01", "2026-06-30")
    assert "P11" not in ds.parcel.values and "banana" in ds.attrs["excluded_parcels"]
    flag = ds["parcel_flags"].sel(parcel="P12").item()
    assert "loam used" in flag and "surface efficiency used" in flag
    assert float(ds["efficiency"].sel(parcel="P12")) == pytest.approx(0.75 * 0.80)  # surface Ea × DU


def test_unrecorded_parcels_assumed_irrigated_as_planned_never_exceed_raw_for_long(sample_parcels, souss_weather):
    from models.irrigation.season import ASSUMED_REFILL

    weather, et0 = souss_weather
    dry = season_balance(sample_parcels, weather, et0, "2025-10-01", "2026-06-30")
    planned = season_balance(sample_parcels, weather, et0, "2025-10-01", "2026-06-30", assume_planned_irrigation=True)
    assert all(ASSUMED_REFILL in str(flag) for flag in planned["parcel_flags"].values)
    # Refilled whenever depletion reaches RAW: Ks dips below 1 for at most one day at a time.
    ks = planned["ks"].values.copy()
    # the sowing day starts from the dry bare-soil spin-up: its Ks is that of the soil before the
    # pre-sowing irrigation; from the next day on the plan keeps the crop out of stress
    first = np.argmax(np.isfinite(ks), axis=1)
    ks[np.arange(len(ks)), first] = np.nan
    stressed = np.nan_to_num(ks, nan=1.0) < 1.0
    assert not (stressed[:, 1:] & stressed[:, :-1]).any(), "stress lasts one day at most (the day the refill is due)"
    assert np.nanmin(ks) > 0.75 and np.nanmin(dry["ks"].values) < 0.7
    applied = planned["irrigation_net_mm"].values
    raw_before = np.roll(planned["raw_mm"].values, 1, axis=1)
    dr_before = np.roll(planned["depletion_mm"].values, 1, axis=1)
    events = applied > 0
    assert events.sum() > 5
    # refill of the depletion, at most what one event applies (sprinkler: 40 mm gross × 0.72 = 28.8 mm net)
    cap = (planned["max_gross_mm"].values.astype(float) * planned["efficiency"].values)[:, None] * np.ones_like(applied)
    later = events & np.isfinite(dr_before)
    assert np.allclose(applied[later], np.minimum(dr_before, cap)[later], atol=1e-6)
    assert np.isclose(cap[0, 0], 28.8) and np.isclose(np.nanmax(applied[0]), 28.8)
    # sprinkler wheat (P01): the RAW rule; drip olive and tomato (P04, P08): daily replacement of a few mm
    raw_rule = planned.parcel.values == "P01"
    assert np.all(dr_before[later & raw_rule[:, None]] >= raw_before[later & raw_rule[:, None]] - 1e-9)
    drip = ~raw_rule
    april = planned.indexes["date"].month == 4
    drip_april = applied[drip][:, april]
    assert (drip_april > 0).mean() > 0.9 and 1.0 < np.nanmedian(drip_april[drip_april > 0]) < 8.0


def test_initial_depletion_from_a_reading_or_a_spin_up_is_flagged(souss_weather, sample_parcels):
    weather, et0 = souss_weather
    reading = pd.DataFrame({"parcel": ["P04"], "date": pd.to_datetime(["2025-10-02"]), "theta_m3_m3": [0.20]})
    prepared = prepare_balance(sample_parcels, weather, et0, "2025-10-01", "2026-06-30", soil_moisture=reading)
    # olive on loam (θFC 0.25, θWP 0.12): (0.25 − 0.20) / 0.13 = 38.5 % of TAW, from the reading
    olive = list(prepared.table["parcel"]).index("P04")
    assert prepared.inputs.initial_depletion_fraction[olive] == pytest.approx(0.05 / 0.13)
    assert "soil-moisture reading of 2025-10-02" in prepared.flags["P04"]
    # wheat and tomato are sown after the first weather day: a bare-soil spin-up from a dry soil, flagged
    assert "bare-soil spin-up 2025-10-01→2025-11-20" in prepared.flags["P01"]
    wheat = list(prepared.table["parcel"]).index("P01")
    before = prepared.dates < pd.Timestamp("2025-11-20")
    assert prepared.inputs.active[wheat, before].all() and not prepared.inputs.crop_active[wheat, before].any()
    assert (prepared.inputs.kcb[wheat, before] == 0).all()
