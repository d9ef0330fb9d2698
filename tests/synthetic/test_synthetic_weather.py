"""The sample farm's committed season weather and irrigation records look like Agadir's."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from refet.calcs import ra_daily

COLUMNS = ["date", "tmin_c", "tmax_c", "rh_min_pct", "rh_max_pct", "wind_ms", "wind_height_m", "solar_mj_m2", "rain_mm"]


@pytest.fixture(scope="module")
def weather(farm) -> pd.DataFrame:
    return pd.read_csv(farm.path(farm.weather), parse_dates=["date"])


def test_weather_covers_the_season_day_by_day(weather):
    assert list(weather.columns) == COLUMNS
    assert len(weather) == 273
    assert (weather["date"].iloc[0] == pd.Timestamp("2025-10-01")
            and weather["date"].iloc[-1] == pd.Timestamp("2026-06-30"))
    assert (weather["date"].diff().dropna() == pd.Timedelta(days=1)).all()
    assert weather.notna().all().all()


def test_temperature_and_humidity_are_coherent_and_agadir_like(weather):
    assert (weather["tmin_c"] < weather["tmax_c"]).all()
    assert (weather["rh_min_pct"] < weather["rh_max_pct"]).all() and weather["rh_max_pct"].le(100).all()
    month = weather["date"].dt.month
    winter = weather[month.isin([12, 1, 2])]
    assert 6.0 <= winter["tmin_c"].mean() <= 10.0 and 19.5 <= winter["tmax_c"].mean() <= 23.0
    assert 25.0 <= weather.loc[month == 6, "tmax_c"].mean() <= 29.0
    assert 1.5 <= weather["wind_ms"].mean() <= 4.0 and (weather["wind_height_m"] == 2.0).all()


def test_solar_radiation_stays_within_the_extraterrestrial_bound(weather, farm):
    """FAO-56 eq. 21 Ra from refet (peer oracle); Rs between 0.25 Ra (overcast) and 0.75 Ra (clear)."""
    ra = ra_daily(math.radians(farm.location.lat_deg), weather["date"].dt.day_of_year.to_numpy(), method="asce")
    ratio = weather["solar_mj_m2"].to_numpy() / ra
    assert ratio.min() >= 0.25 - 1e-6 and ratio.max() <= 0.75 + 1e-6
    by_month = weather.groupby(weather["date"].dt.month)["solar_mj_m2"].mean()
    assert 10.5 <= by_month[12] <= 13.5 and 24.0 <= by_month[6] <= 28.0


def test_rain_falls_in_winter_events(weather):
    wet = weather[(weather["date"] >= "2025-11-01") & (weather["date"] <= "2026-03-31")]
    assert 200.0 <= wet["rain_mm"].sum() <= 250.0
    assert 6 <= (wet["rain_mm"] > 1.0).sum() <= 40
    assert weather.loc[weather["date"] >= "2026-04-01", "rain_mm"].sum() < 20.0
    assert (weather["rain_mm"] >= 0).all()


def test_irrigation_records_match_the_parcels_methods(farm):
    import geopandas as gpd

    events = pd.read_csv(farm.path(farm.irrigation_events), parse_dates=["date"])
    parcels = gpd.read_file(farm.path(farm.parcels)).set_index("id")
    method = parcels.loc[events["parcel"], "irrigation_method"].to_numpy()
    assert set(method) == {"surface", "sprinkler"}
    assert events.loc[method == "surface", "depth_mm"].between(30, 50).all()
    assert events.loc[method == "sprinkler", "depth_mm"].between(20, 30).all()
    for pid, group in events.groupby("parcel"):
        gaps = group["date"].sort_values().diff().dropna().dt.days
        assert gaps.min() >= 7 and gaps.max() <= 22, pid
        assert group["date"].min() >= pd.Timestamp(parcels.loc[pid, "sowing_date"])
    assert np.all(events["date"].between("2025-10-01", "2026-06-30"))
