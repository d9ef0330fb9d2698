"""Weed competition in the yield estimate: the relative leaf area model (Kropff & Spitters 1991).

Numbers by hand: YL = q Lw / (1 + (q/m - 1) Lw). With q = 1, m = 1 the loss is the weeds' share
(20 % weeds, 20 % loss); q = 3: 0.6 / 1.4 = 0.4286; q = 3, m = 0.5: 0.6 / 2.0 = 0.30. The loss
tends to m as Lw -> 1 and its slope at Lw = 0 is q (Cousens 1985's I, in leaf-area terms).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from models.yields.estimate import estimate_yield
from models.yields.weeds import fit_damage_coefficient, weed_yield_loss
from pipelines.core.agronomy import WeedCompetition
from pipelines.core.config import load_crop
from tests.yields.test_yields_estimate import _balance


def _q(q: float, m: float = 1.0) -> WeedCompetition:
    return WeedCompetition(damage_coefficient=q, max_loss_fraction=m, source="test")


def test_loss_matches_the_hand_computation():
    assert weed_yield_loss(0.2, _q(1.0)) == pytest.approx(0.20)
    assert weed_yield_loss(0.2, _q(3.0)) == pytest.approx(0.6 / 1.4)
    assert weed_yield_loss(0.2, _q(3.0, 0.5)) == pytest.approx(0.30)
    assert weed_yield_loss([0.0, 1.0], _q(3.0, 0.5)).tolist() == pytest.approx([0.0, 0.5])
    slope = (weed_yield_loss(1e-6, _q(4.0)) - weed_yield_loss(0.0, _q(4.0))) / 1e-6
    assert slope == pytest.approx(4.0, rel=1e-4)
    assert np.isnan(weed_yield_loss(np.nan, _q(2.0)))


def test_fit_recovers_the_odds_ratio_of_one_strip_pair():
    # weedy strip: 25 % weed cover, 40 % less yield than the weed-free strip beside it
    assert fit_damage_coefficient([0.25], [0.40]) == pytest.approx((0.4 / 0.6) / (0.25 / 0.75), rel=1e-4)
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        fit_damage_coefficient([0.0, 1.0], [0.0, 1.0])


def test_every_annual_crop_has_sourced_parameters_and_trees_none():
    for crop in ("durum_wheat", "barley", "potato", "tomato"):
        competition = load_crop(crop).weed_competition
        assert competition is not None and "Kropff" in competition.source
    assert load_crop("olive").weed_competition is None and load_crop("citrus").weed_competition is None


def test_weedy_wheat_loses_its_weed_share_and_the_olive_nothing():
    ds, observations, weather = _balance(ks=1.0)
    clean = estimate_yield(ds, observations, weather).set_index("parcel")
    weedy_obs = observations.assign(weed_pressure=[0.05, 0.25, 0.30, 0.30])   # latest flight counts
    weedy = estimate_yield(ds, weedy_obs, weather).set_index("parcel")
    wheat, olive = weedy.loc["P0"], weedy.loc["P1"]
    assert wheat.weed_cover_fraction == pytest.approx(0.25) and wheat.weed_yield_loss_fraction == pytest.approx(0.25)
    for column in ("yield_t_ha", "yield_p10_t_ha", "yield_p90_t_ha", "yield_qx_ha"):
        assert wheat[column] == pytest.approx(0.75 * clean.loc["P0", column])
    assert olive.yield_t_ha == pytest.approx(clean.loc["P1", "yield_t_ha"])
    assert olive.weed_cover_fraction == pytest.approx(0.30) and np.isnan(olive.weed_yield_loss_fraction)
    assert np.isnan(clean.loc["P0", "weed_yield_loss_fraction"])


def test_no_weed_column_leaves_the_estimate_as_it_was():
    ds, observations, weather = _balance(ks=1.0)
    table = estimate_yield(ds, observations.drop(columns=[]), weather)
    assert table["weed_cover_fraction"].isna().all() and isinstance(table, pd.DataFrame)
