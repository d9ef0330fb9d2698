"""A synthetic Souss-like season (Oct-Jun) built in code: smooth seasonal cycles plus random rain."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from models.irrigation.et0 import reference_et_mm
from models.irrigation.weather import weather_table

LAT_DEG, ELEVATION_M = 30.2133, 95.0


def souss_weather_frame(start="2025-10-01", end="2026-06-30", seed=0) -> pd.DataFrame:
    dates = pd.date_range(start, end)
    season = np.sin((dates.day_of_year.to_numpy() - 100) / 58.0)
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "date": dates.strftime("%Y-%m-%d"), "tmin_c": 10 + 5 * season, "tmax_c": 22 + 6 * season,
        "rh_min_pct": 45.0, "rh_max_pct": 85.0, "wind_ms": 3.0, "wind_height_m": 10.0,
        "solar_mj_m2": 14 + 8 * season,
        "rain_mm": np.where(rng.random(len(dates)) < 0.06, rng.gamma(2, 6, len(dates)), 0.0)})


@pytest.fixture(scope="session")
def souss_weather() -> tuple[pd.DataFrame, pd.Series]:
    table = weather_table(souss_weather_frame(), "synthetic.csv", LAT_DEG)
    return table, reference_et_mm(table, LAT_DEG, ELEVATION_M)


@pytest.fixture
def sample_parcels() -> pd.DataFrame:
    return pd.DataFrame({
        "parcel": ["P01", "P04", "P08"], "crop": ["durum_wheat", "olive", "tomato"],
        "soil_texture": ["sandy_loam", "loam", "loam"], "sowing_date": ["2025-11-20", "2025-10-01", "2026-01-10"],
        "irrigation_method": ["sprinkler", "drip", "drip"], "area_m2": [10_500.0, 10_400.0, 9_800.0]})


@pytest.fixture
def sample_observations() -> pd.DataFrame:
    return pd.DataFrame({"parcel": ["P01", "P01", "P04", "P04", "P08"],
                         "date": pd.to_datetime(["2026-01-15", "2026-02-20", "2026-01-15", "2026-03-01", "2026-03-20"]),
                         "ndvi_mean": [0.45, 0.80, 0.50, 0.55, 0.86]})


@pytest.fixture(scope="session")
def souss_site() -> tuple[float, float]:
    """(latitude in degrees, elevation in m) of the sample farm near Biougra."""
    return LAT_DEG, ELEVATION_M


@pytest.fixture
def souss_frame() -> pd.DataFrame:
    """The raw canonical CSV columns of the synthetic season."""
    return souss_weather_frame()
