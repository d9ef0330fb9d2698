"""ET0 against FAO-56 worked examples and against refet / pyfao56 on the same inputs."""
from __future__ import annotations

import math

import numpy as np
import pytest

from models.irrigation import et0 as fao

BRUSSELS_LAT = 50 + 48 / 60


def test_example_8_extraterrestrial_radiation():
    # FAO-56 Example 8: 20°S on 3 September (day 246): Ra = 32.2 MJ m-2 day-1.
    assert fao.extraterrestrial_radiation_mj_m2(-20.0, 246) == pytest.approx(32.2, abs=0.05)


def test_example_10_and_15_solar_radiation():
    # Example 10: Rio de Janeiro (22°54'S) in May, 220 h of sun in 31 days -> Rs = 14.5 MJ m-2 day-1.
    assert fao.solar_from_sunshine_mj_m2(220 / 31, -(22 + 54 / 60), 135) == pytest.approx(14.5, abs=0.05)
    # Example 15: Lyon (45°43'N), 15 July, Tmax 26.6, Tmin 14.8, krs 0.16 -> Rs = 22.3.
    assert fao.solar_from_temperature_mj_m2(26.6, 14.8, 45.72, 196) == pytest.approx(22.3, abs=0.05)


def test_example_18_penman_monteith_brussels():
    # FAO-56 Example 18: Brussels 6 July, z = 100 m, Tmax 21.5, Tmin 12.3, RHmax 84, RHmin 63,
    # wind 10 km/h at 10 m, 9.25 h of sun: ea 1.409 kPa, Rs 22.07, Rn 13.28 MJ, ET0 = 3.9 mm/day.
    doy = 187
    ea = (fao.saturation_vapour_pressure_kpa(12.3) * 84 + fao.saturation_vapour_pressure_kpa(21.5) * 63) / 200
    rs = fao.solar_from_sunshine_mj_m2(9.25, BRUSSELS_LAT, doy)
    u2 = fao.wind_at_2m_ms(10 / 3.6, 10)
    assert ea == pytest.approx(1.409, abs=0.001)
    assert u2 == pytest.approx(2.078, abs=0.001)
    assert rs == pytest.approx(22.07, abs=0.01)
    assert fao.net_radiation_mj_m2(rs, 21.5, 12.3, ea, BRUSSELS_LAT, doy, 100) == pytest.approx(13.28, abs=0.01)
    assert fao.penman_monteith_mm(12.3, 21.5, rs, u2, ea, BRUSSELS_LAT, doy, 100) == pytest.approx(3.9, abs=0.05)


def test_hargreaves_samani_lyon_by_hand():
    # FAO-56 eq. 52 on Example 15's Lyon day: 0.0023 (20.7 + 17.8) √11.8 · 0.408 · 40.55 = 5.03 mm/day.
    expected = 0.0023 * (20.7 + 17.8) * math.sqrt(11.8) * 0.408 * fao.extraterrestrial_radiation_mj_m2(45.72, 196)
    assert expected == pytest.approx(5.03, abs=0.01)
    assert fao.hargreaves_samani_mm(14.8, 26.6, 45.72, 196) == pytest.approx(expected, abs=1e-9)


def test_season_agrees_with_refet_and_pyfao56(souss_weather, souss_site):
    from pyfao56.refet import ascedaily
    from refet import Daily

    weather, et0 = souss_weather
    LAT_DEG, ELEVATION_M = souss_site

    doy = weather.index.day_of_year.to_numpy()
    peer = Daily(tmin=weather["tmin_c"].to_numpy(), tmax=weather["tmax_c"].to_numpy(),
                 rs=weather["solar_mj_m2"].to_numpy(),
                 uz=weather["u2_ms"].to_numpy(), zw=2.0, elev=ELEVATION_M, lat=LAT_DEG, doy=doy,
                 ea=weather["ea_kpa"].to_numpy(), method="asce", rso_type="simple").eto()
    assert np.max(np.abs(et0.to_numpy() - peer)) < 0.01
    other = [ascedaily("S", ELEVATION_M, LAT_DEG, float(d), r.solar_mj_m2, r.tmax_c, r.tmin_c, r.ea_kpa, float("nan"),
                       float("nan"), float("nan"), r.u2_ms, 2.0) for d, r in zip(doy, weather.itertuples())]
    assert np.max(np.abs(et0.to_numpy() - np.array(other))) < 0.01
    assert 0.5 < et0.min() and et0.max() < 8.0


def test_example_17_monthly_penman_monteith_with_soil_heat_flux_bangkok():
    # FAO-56 Example 17: Bangkok (13°44'N, 2 m), April means: Tmax 34.8, Tmin 25.6, ea 2.85 kPa,
    # u2 2 m/s, 8.5 h of sun; Tmonth March 29.2, April 30.2 (May unknown): G = 0.14 (30.2 − 29.2)
    # = 0.14 MJ (eq. 44); Ra 38.06, N 12.31, Rs 22.65, Rn 14.33 MJ m-2 day-1; ET0 = 5.72 mm/day.
    lat, doy = 13 + 44 / 60, 105
    soil_heat = fao.monthly_soil_heat_flux_mj_m2(29.2, t_this_month_c=30.2)
    assert soil_heat == pytest.approx(0.14, abs=1e-9)
    assert fao.monthly_soil_heat_flux_mj_m2(29.2, t_next_month_c=31.2) == pytest.approx(0.14, abs=1e-9)  # eq. 43
    assert fao.extraterrestrial_radiation_mj_m2(lat, doy) == pytest.approx(38.06, abs=0.01)
    assert fao.daylight_hours(lat, doy) == pytest.approx(12.31, abs=0.01)
    rs = fao.solar_from_sunshine_mj_m2(8.5, lat, doy)
    assert rs == pytest.approx(22.65, abs=0.01)
    assert fao.net_radiation_mj_m2(rs, 34.8, 25.6, 2.85, lat, doy, 2) == pytest.approx(14.33, abs=0.01)
    et0 = fao.penman_monteith_mm(25.6, 34.8, rs, 2.0, 2.85, lat, doy, 2, soil_heat_mj_m2=soil_heat)
    assert et0 == pytest.approx(5.72, abs=0.01)
    # G matters: without it ET0 is 0.408 Δ G / (Δ + γ(1 + 0.34 u2)) higher, Δ 0.246 and γ 0.0674 kPa/°C
    expected = 0.408 * 0.246 * 0.14 / (0.246 + 0.0674 * (1 + 0.34 * 2.0))
    assert fao.penman_monteith_mm(25.6, 34.8, rs, 2.0, 2.85, lat, doy, 2) - et0 == pytest.approx(expected, abs=5e-4)
    with pytest.raises(ValueError, match="next month's mean temperature"):
        fao.monthly_soil_heat_flux_mj_m2(29.2)


def test_example_20_missing_humidity_radiation_and_wind_lyon():
    # FAO-56 Example 20: Lyon (45°43'N, 200 m), July means Tmax 26.6, Tmin 14.8 only: ea from
    # Tdew = Tmin (eq. 48) 1.68 kPa, Rs from the temperature range 22.3 MJ (eq. 50, kRs 0.16),
    # u2 = 2 m/s (world average), P = 98.96 kPa. Our Penman-Monteith on those estimates must match
    # refet and pyfao56 on the same inputs to 0.01 mm/day (4.56 mm/day).
    from pyfao56.refet import ascedaily
    from refet import Daily

    lat, doy, elevation = 45 + 43 / 60, 196, 200.0
    ea = fao.saturation_vapour_pressure_kpa(14.8)
    rs = fao.solar_from_temperature_mj_m2(26.6, 14.8, lat, doy)
    assert ea == pytest.approx(1.68, abs=0.005) and rs == pytest.approx(22.3, abs=0.05)
    assert fao.atmospheric_pressure_kpa(elevation) == pytest.approx(98.96, abs=0.01)
    ours = float(fao.penman_monteith_mm(14.8, 26.6, rs, 2.0, ea, lat, doy, elevation))
    peer = float(Daily(tmin=14.8, tmax=26.6, rs=rs, uz=2.0, zw=2.0, elev=elevation, lat=lat, doy=doy, ea=ea,
                       method="asce", rso_type="simple").eto()[0])
    other = ascedaily("S", elevation, lat, doy, rs, 26.6, 14.8, ea, float("nan"), float("nan"), float("nan"), 2.0, 2.0)
    assert abs(ours - peer) < 0.01 and abs(ours - other) < 0.01
    assert ours == pytest.approx(4.56, abs=0.01)
