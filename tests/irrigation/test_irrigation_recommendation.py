"""Today's plan: refill depth, efficiency, volume, next date, outlook with a forecast."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from models.irrigation.recommendation import recommend
from models.irrigation.season import season_balance
from pipelines.core.errors import InputDataError


@pytest.fixture
def balance(souss_weather, sample_parcels, sample_observations):
    weather, et0 = souss_weather
    return season_balance(sample_parcels, weather, et0, "2025-10-01", "2026-06-30", sample_observations)


def test_plan_numbers_follow_the_method_rules(balance):
    day = pd.Timestamp("2026-04-15")
    plan = recommend(balance, day).set_index("parcel")
    today, yesterday = balance.sel(date=day), balance.sel(date=day - pd.Timedelta(days=1))
    area = balance.area_m2.to_series()
    # sprinkler wheat P01: FAO-56 RAW rule, refill to field capacity, at most 40 mm gross per event
    # (configs/irrigation.yaml), gross = net / (Ea 0.90 × DU 0.80)
    row, dr, raw = plan.loc["P01"], float(today.depletion_mm.sel(parcel="P01")), float(today.raw_mm.sel(parcel="P01"))
    assert row.irrigate_today == (dr >= raw) and row.irrigate_today
    gross = min(dr / 0.72, 40.0)
    assert row.depth_mm == pytest.approx(gross, abs=0.05) and row.net_depth_mm == pytest.approx(gross * 0.72, abs=0.05)
    assert row.volume_m3 == pytest.approx(gross / 1000 * area["P01"], abs=0.1)
    assert row.run_time_h == pytest.approx(gross / 9.0, abs=0.01)  # sprinkler application rate 9 mm/h
    taw = float(today.taw_mm.sel(parcel="P01"))
    assert row.ks == pytest.approx(min(1.0, (taw - dr) / (taw - raw)), abs=1e-3) and row.stress == (row.ks < 1)
    # drip olive P04 and tomato P08: daily replacement (interval 1 day) of what the wetted soil lost since
    # yesterday's event, i.e. yesterday's end-of-day depletion; gross = net / (Ea 0.95 × DU 0.90)
    for parcel in ("P04", "P08"):
        row, lost = plan.loc[parcel], float(yesterday.depletion_mm.sel(parcel=parcel))
        assert row.irrigate_today and row.interval_days == 1 and row.next_irrigation_date == day + pd.Timedelta(days=1)
        assert row.net_depth_mm == pytest.approx(lost, abs=0.05)
        assert row.depth_mm == pytest.approx(lost / (0.95 * 0.90), abs=0.05)
        assert row.volume_m3 == pytest.approx(lost / (0.95 * 0.90) / 1000 * area[parcel], abs=0.1)
        # no drip layout in this table: FAO-56 Table 20's wetted fraction, no litres per plant or run time
        assert np.isnan(row.litres_per_plant) and np.isnan(row.run_time_h) and "no drip layout" in row.notes
    assert float(today.taw_mm.sel(parcel="P04")) == pytest.approx(1000 * (0.25 - 0.12) * 1.5 * 0.35, abs=0.01)


def test_not_sown_parcel_gets_no_water(balance):
    plan = recommend(balance, "2026-01-05").set_index("parcel")
    assert not plan.loc["P08", "irrigate_today"] and plan.loc["P08", "volume_m3"] == 0
    assert "not sown" in plan.loc["P08", "notes"]


def test_forecast_rain_delays_next_irrigation(balance):
    day = pd.Timestamp("2026-03-01")
    dates = pd.date_range(day + pd.Timedelta(days=1), periods=7)
    dry = pd.DataFrame({"et0_mm": 6.0, "rain_mm": 0.0}, index=dates)
    wet = pd.DataFrame({"et0_mm": 2.0, "rain_mm": [40.0, 0, 0, 0, 0, 0, 0]}, index=dates)
    plan_dry = recommend(balance, day, dry).set_index("parcel")
    plan_wet = recommend(balance, day, wet).set_index("parcel")
    assert plan_dry.loc["P01", "outlook_source"].startswith("forecast (7 days)")
    assert plan_wet.loc["P01", "outlook_rain_mm"] == 40.0
    kc = float(balance.kc.sel(parcel="P01", date=day))
    assert plan_dry.loc["P01", "outlook_etc_mm"] == pytest.approx(7 * 6.0 * kc, abs=0.1)
    assert plan_wet.loc["P01", "next_irrigation_date"] > plan_dry.loc["P01", "next_irrigation_date"]


def test_forecast_drizzle_counts_as_the_balance_counts_rain(balance):
    """FAO-56 ch. 7 p. 151: rain under 0.2·ET0 is evaporated; 1 mm a day at ET0 6 mm moves nothing."""
    day = pd.Timestamp("2026-03-01")
    dates = pd.date_range(day + pd.Timedelta(days=1), periods=7)
    dry = pd.DataFrame({"et0_mm": 6.0, "rain_mm": 0.0}, index=dates)
    drizzle = dry.assign(rain_mm=1.0)                                  # 1.0 < 0.2 × 6.0 = 1.2 mm
    shower = dry.assign(rain_mm=1.5)                                   # above it: counts fully
    plans = [recommend(balance, day, f).set_index("parcel").loc["P01"] for f in (dry, drizzle, shower)]
    assert plans[1].outlook_rain_mm == 0.0 and plans[2].outlook_rain_mm == pytest.approx(7 * 1.5)
    assert plans[1].next_irrigation_date == plans[0].next_irrigation_date


def test_plan_date_outside_balance(balance):
    with pytest.raises(InputDataError, match="no day 2026-08-01"):
        recommend(balance, "2026-08-01")
