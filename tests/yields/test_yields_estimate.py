"""LUE yield against a hand computation; regression with leave-one-out error; the model is named per row."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from models.yields.estimate import estimate_yield
from models.yields.lue import fapar_from_ndvi
from models.yields.regression import FEATURES, calibrate


def _balance(ks: float, crops=("durum_wheat", "olive")) -> tuple[xr.Dataset, pd.DataFrame, pd.DataFrame]:
    dates = pd.date_range("2026-03-01", periods=100)
    n = len(crops)
    ds = xr.Dataset({"kcb": (("parcel", "date"), np.full((n, 100), 1.0)),
                     "ks": (("parcel", "date"), np.full((n, 100), ks)),
                     "crop": (("parcel",), np.array(crops, dtype=object))},
                    coords={"parcel": np.array([f"P{i}" for i in range(n)], dtype=object), "date": dates})
    observations = pd.DataFrame({"parcel": np.repeat(ds.parcel.values, 2), "date": [dates[0], dates[-1]] * n,
                                 "ndvi_mean": 0.7})
    weather = pd.DataFrame({"solar_mj_m2": 20.0}, index=dates)
    return ds, observations, weather


def test_lue_matches_hand_computation():
    ds, observations, weather = _balance(ks=1.0)
    table = estimate_yield(ds, observations, weather).set_index("parcel")
    # wheat: fAPAR(0.7) = 0.6721; APAR = 0.6721 × 0.48 × 20 × 100 days = 645.2 MJ/m²; RUE 2.8 g/MJ -> 1806.6 g/m²;
    # HI 0.40 -> 7.23 t/ha dry grain; 12 % moisture -> 8.21 t/ha = 82.1 qx/ha.
    assert fapar_from_ndvi(0.7) == pytest.approx(0.67206)
    expected = 0.40 * 2.8 * 0.67206 * 0.48 * 20 * 100 / 100 / 0.88
    wheat = table.loc["P0"]
    assert wheat.yield_t_ha == pytest.approx(expected, rel=1e-6) and expected == pytest.approx(8.21, abs=0.01)
    assert wheat.yield_qx_ha == pytest.approx(10 * expected)
    assert wheat.yield_p10_t_ha < wheat.yield_t_ha < wheat.yield_p90_t_ha
    assert 0.6 < wheat.yield_p10_t_ha / wheat.yield_t_ha < 0.9 and wheat.model == "lue"
    stressed = estimate_yield(*_balance(ks=0.5)).set_index("parcel")
    assert stressed.loc["P0", "yield_t_ha"] == pytest.approx(expected / 2, rel=1e-6)


def test_regression_with_harvest_records():
    rng = np.random.default_rng(3)
    n = 12
    harvests = pd.DataFrame({"crop": "durum_wheat", "ndvi_integral": rng.uniform(40, 90, n),
                             "apar_stressed_mj_m2": rng.uniform(300, 700, n)})
    harvests["yield_t_ha"] = 0.05 * harvests.ndvi_integral + 0.004 * harvests.apar_stressed_mj_m2 + rng.normal(0, 0.3,
                                                                                                               n)
    model = calibrate(harvests)["durum_wheat"]
    assert model.n_records == n and 0.15 < model.loo_rmse_t_ha < 0.6
    assert calibrate(harvests.iloc[:3]) == {}, "three records are too few to calibrate"
    ds, observations, weather = _balance(ks=1.0)
    table = estimate_yield(ds, observations, weather, harvests).set_index("parcel")
    wheat, olive = table.loc["P0"], table.loc["P1"]
    assert wheat.model.startswith("regression (n=12") and olive.model == "lue"
    # features of this season: Σ NDVI = 70, stressed APAR = 645.2 MJ/m²
    assert wheat.yield_t_ha == pytest.approx(float(model.model.predict([[70.0, 645.2]])[0]), abs=0.01)
    assert wheat.yield_p90_t_ha - wheat.yield_t_ha == pytest.approx(1.2816 * model.loo_rmse_t_ha)
    assert list(FEATURES) == ["ndvi_integral", "apar_stressed_mj_m2"]
