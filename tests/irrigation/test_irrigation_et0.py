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
    peer = Daily(tmin=weather["tmin_c"].to_numpy(), tmax=weather["tmax_c"].to_numpy(), rs=weather["solar_mj_m2"].to_numpy(),
                 uz=weather["u2_ms"].to_numpy(), zw=2.0, elev=ELEVATION_M, lat=LAT_DEG, doy=doy,
                 ea=weather["ea_kpa"].to_numpy(), method="asce", rso_type="simple").eto()
    assert np.max(np.abs(et0.to_numpy() - peer)) < 0.01
    other = [ascedaily("S", ELEVATION_M, LAT_DEG, float(d), r.solar_mj_m2, r.tmax_c, r.tmin_c, r.ea_kpa, float("nan"),
                       float("nan"), float("nan"), r.u2_ms, 2.0) for d, r in zip(doy, weather.itertuples())]
    assert np.max(np.abs(et0.to_numpy() - np.array(other))) < 0.01
    assert 0.5 < et0.min() and et0.max() < 8.0
