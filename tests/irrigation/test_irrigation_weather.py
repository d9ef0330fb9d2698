"""Station CSV ingestion: aliases, spikes, gaps, fallbacks, and errors that name the file and the fix."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from models.irrigation import et0 as fao
from models.irrigation.et0 import reference_et_method, reference_et_mm
from models.irrigation.weather import read_weather
from pipelines.core.errors import InputDataError


def _write(tmp_path, frame: pd.DataFrame):
    path = tmp_path / "weather.csv"
    frame.to_csv(path, index=False)
    return path


def test_spikes_and_missing_days_are_flagged_and_filled(tmp_path, souss_frame, souss_site):
    raw = souss_frame.copy()
    raw.loc[10, "tmax_c"] = raw.loc[10, "tmin_c"] - 3          # Tmax < Tmin
    raw.loc[20, "rh_max_pct"] = 140.0                          # RH > 100 %
    raw.loc[21, "rh_max_pct"] = 102.0                          # slight over-range: clipped
    raw.loc[30, "rain_mm"] = -4.0                              # negative rain
    raw = raw.drop(index=[40, 41])                             # two missing days
    weather = read_weather(_write(tmp_path, raw), souss_site[0])
    assert len(weather) == len(souss_frame) and weather.index.is_monotonic_increasing
    day10, day40 = weather.iloc[10], weather.iloc[40]
    assert "tmax<tmin" in day10["flags"] and day10.tmax_c > day10.tmin_c
    # linear interpolation between the neighbours
    assert day10.tmax_c == pytest.approx((souss_frame.tmax_c[9] + souss_frame.tmax_c[11]) / 2)
    assert ("dropped and interpolated" in weather.iloc[20]["flags"]
            and weather.iloc[20].rh_max_pct == pytest.approx((85.0 + 100.0) / 2))
    assert weather.iloc[21].rh_max_pct == 100.0 and "clipped" in weather.iloc[21]["flags"]
    assert weather.iloc[30].rain_mm == 0.0 and "rain_mm negative" in weather.iloc[30]["flags"]
    assert "day missing" in day40["flags"] and day40.tmin_c == pytest.approx(souss_frame.tmin_c[40], abs=0.01)
    assert weather.iloc[5]["flags"] == ""
    assert (weather.humidity_source == "rh_max_min").all() and (weather.solar_source == "measured").all()


def test_aliases_and_units(tmp_path, souss_frame, souss_site):
    raw = souss_frame.rename(columns={"tmin_c": "Tmin", "tmax_c": "TMAX", "rain_mm": "precip", "solar_mj_m2": "srad"})
    raw = raw.drop(columns=["wind_ms", "wind_height_m"]).assign(wind_kmh=7.2, wind_height_m=2.0)
    weather = read_weather(_write(tmp_path, raw), souss_site[0])
    assert weather.u2_ms.iloc[0] == pytest.approx(2.0, abs=0.001)  # 7.2 km/h at 2 m (eq. 47 gives 1.0002·u)
    assert weather.tmin_c.iloc[0] == pytest.approx(souss_frame.tmin_c[0])


def test_fallbacks_without_humidity_wind_radiation(tmp_path, souss_frame, souss_site):
    lat, elevation = souss_site
    raw = souss_frame[["date", "tmin_c", "tmax_c", "rain_mm"]]
    weather = read_weather(_write(tmp_path, raw), lat)
    first = weather.iloc[0]
    assert first.u2_ms == 2.0 and "u2 = 2 m/s" in first["flags"]
    assert first.ea_kpa == pytest.approx(fao.saturation_vapour_pressure_kpa(first.tmin_c - 2.0))
    assert first.solar_mj_m2 == pytest.approx(fao.solar_from_temperature_mj_m2(first.tmax_c, first.tmin_c, lat, 274))
    assert (reference_et_method(weather) == "hargreaves_samani").all()
    et0 = reference_et_mm(weather, lat, elevation)
    assert et0.iloc[0] == pytest.approx(fao.hargreaves_samani_mm(first.tmin_c, first.tmax_c, lat, 274))
    # With sunshine hours instead of radiation, Angström is used and Penman-Monteith stays.
    with_sun = souss_frame.drop(columns=["solar_mj_m2"]).assign(sunshine_h=8.0)
    sunny = read_weather(_write(tmp_path, with_sun), lat)
    assert (sunny.solar_source == "sunshine").all() and (reference_et_method(sunny) == "penman_monteith").all()


@pytest.mark.parametrize("change, message", [
    (lambda f: f.drop(columns=["tmax_c"]), "no 'tmax_c' column"),
    (lambda f: f.assign(tmin_c=f.tmin_c + 273.15, tmax_c=f.tmax_c + 273.15), "looks like kelvin"),
    (lambda f: f.assign(rh_min_pct=0.45, rh_max_pct=0.85), "holds fractions"),
    (lambda f: f.assign(solar_mj_m2=f.solar_mj_m2 * 11.57), "outside 0..45"),
    (lambda f: f.drop(index=range(50, 62)), "missing for 12 days from 2025-11-20"),
    (lambda f: pd.concat([f, f.iloc[[3]]]), "appears twice"),
    (lambda f: f.drop(columns=["wind_height_m"]), "without wind_height_m"),
])
def test_bad_files_raise_with_the_fix(tmp_path, souss_frame, souss_site, change, message):
    path = _write(tmp_path, change(souss_frame.copy()))
    with pytest.raises(InputDataError, match=message) as error:
        read_weather(path, souss_site[0])
    assert str(path) in str(error.value)


def test_missing_file(tmp_path):
    with pytest.raises(InputDataError, match="weather file not found"):
        read_weather(tmp_path / "nope.csv", 30.0)
    assert np.isfinite(fao.daylight_hours(30.0, 172))
