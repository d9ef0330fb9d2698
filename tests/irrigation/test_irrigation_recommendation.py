"""Today's plan: refill depth, efficiency, volume, next date, outlook with a forecast."""
from __future__ import annotations

import pandas as pd
import pytest

from models.irrigation.recommendation import recommend
from models.irrigation.season import season_balance
from pipelines.core.errors import InputDataError


@pytest.fixture
def balance(souss_weather, sample_parcels, sample_observations):
    weather, et0 = souss_weather
    return season_balance(sample_parcels, weather, et0, "2025-10-01", "2026-06-30", sample_observations)


def test_plan_numbers_follow_fao56(balance):
    plan = recommend(balance, "2026-04-15").set_index("parcel")
    today = balance.sel(date="2026-04-15")
    for parcel, efficiency in (("P01", 0.75), ("P04", 0.90), ("P08", 0.90)):
        row, dr, raw = (plan.loc[parcel], float(today.depletion_mm.sel(parcel=parcel)),
                        float(today.raw_mm.sel(parcel=parcel)))
        assert row.irrigate_today == (dr >= raw)
        if row.irrigate_today:
            # refill to field capacity: net = Dr; gross = Dr / efficiency; volume = gross × area / 1000
            assert row.net_depth_mm == pytest.approx(dr, abs=0.05)
            assert row.depth_mm == pytest.approx(dr / efficiency, abs=0.05)
            area = float(balance.area_m2.sel(parcel=parcel))
            assert row.volume_m3 == pytest.approx(dr / efficiency / 1000 * area, abs=0.1)
            assert row.next_irrigation_date == pd.Timestamp("2026-04-15")
        else:
            assert row.depth_mm == 0 and row.volume_m3 == 0 and row.next_irrigation_date > pd.Timestamp("2026-04-15")
        taw = float(today.taw_mm.sel(parcel=parcel))
        assert row.ks == pytest.approx(min(1.0, (taw - dr) / (taw - raw)), abs=1e-3)
        assert row.stress == (row.ks < 1)
    assert plan["irrigate_today"].any(), "a dry April without irrigation must trigger at least one parcel"


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


def test_plan_date_outside_balance(balance):
    with pytest.raises(InputDataError, match="no day 2026-08-01"):
        recommend(balance, "2026-08-01")
