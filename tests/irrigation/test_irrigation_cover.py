"""Trees' effective cover seen by the noon sun, and parcels under plastic.

- Allen & Pereira 2009 eq. 11: fc_eff = fc / sin(η), at most 1, η the sun's elevation at solar
  noon. At Agadir (30.4° N) η = 90 − 30.4 + 23.44 = 83.0° at the June solstice (sin 0.993) and
  90 − 30.4 − 23.44 = 36.2° at the December solstice (sin 0.590): an olive row of 30 % nadir cover
  shades 30.2 % in June and 50.8 % in December.
- Under cover (`under_cover: true`): ET0 × the configured factor (0.7, Fernández et al. 2010,
  Irrig. Sci. 28:497-509), no rain, and the note says drone NDVI through plastic is not used.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from models.irrigation.kcb import effective_cover, noon_solar_elevation_sin
from models.irrigation.system import parcel_system
from pipelines.core.config import load_crop, load_irrigation_methods, load_irrigation_settings

AGADIR_LAT = 30.4


def test_noon_sun_at_agadir_on_the_solstices():
    june, december = noon_solar_elevation_sin(AGADIR_LAT, [172, 355])
    assert np.degrees(np.arcsin(june)) == pytest.approx(83.0, abs=0.2)
    assert np.degrees(np.arcsin(december)) == pytest.approx(36.2, abs=0.2)


def test_effective_cover_by_hand():
    june, december = noon_solar_elevation_sin(AGADIR_LAT, [172, 355])
    assert effective_cover(0.30, june) == pytest.approx(0.30 / 0.9926, abs=0.002)
    assert effective_cover(0.30, december) == pytest.approx(0.30 / 0.5906, abs=0.003)
    assert effective_cover(0.8, 0.5) == 1.0 and effective_cover(0.3, 1.0) == pytest.approx(0.3)


def test_parcel_under_plastic_gets_the_configured_et0_factor_and_no_rain():
    settings = load_irrigation_settings()
    method = load_irrigation_methods()["drip"]
    row = pd.Series({"parcel": "P09", "under_cover": True, "ecw_ds_m": 0.0})
    covered = parcel_system(row, load_crop("tomato"), "sandy_loam", method, settings)
    assert covered.et0_factor == settings.under_cover_et0_factor == 0.7 and covered.rain_factor == 0.0
    assert covered.under_cover and any("drone NDVI through plastic not used" in n for n in covered.notes)
    open_field = parcel_system(row.drop("under_cover"), load_crop("tomato"), "sandy_loam", method, settings)
    assert open_field.et0_factor == 1.0 and open_field.rain_factor == 1.0 and not open_field.under_cover
