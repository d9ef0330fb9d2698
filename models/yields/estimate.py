"""The yield table: LUE for every parcel, regression where the crop has harvest records; model named per row."""
from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from models.yields.lue import Z90, lue_yield
from models.yields.regression import calibrate, yield_features
from models.yields.weeds import latest_weed_cover, weed_yield_loss
from pipelines.core.config import load_crop

QX_PER_T = 10.0


def estimate_yield(balance: xr.Dataset, observations: pd.DataFrame | None, weather: pd.DataFrame,
                   harvests: pd.DataFrame | None = None, site: tuple[float, float] | None = None) -> pd.DataFrame:
    """parcel, crop, model, yield_t_ha, yield_p10_t_ha, yield_p90_t_ha, yield_qx_ha (+ p10/p90), loo_rmse_t_ha,
    weed_cover_fraction, weed_yield_loss_fraction.

    The LUE estimate counts every green pixel's light, weeds' included; for crops with
    `weed_competition` it is reduced by the weeds' share of the parcel's latest flight
    (`weeds.weed_yield_loss`). A harvest regression already carries the fields' usual weeds and
    is not reduced.
    """
    table = _with_weeds(lue_yield(balance, observations, weather, site=site), observations)
    table["loo_rmse_t_ha"] = np.nan
    if harvests is not None and len(harvests):
        models = calibrate(harvests)
        features = yield_features(balance, observations, weather)
        for crop, regression in models.items():
            rows = table["crop"].eq(crop).to_numpy()
            if not rows.any():
                continue
            predicted = np.clip(regression.predict(features[rows]), 0, None)
            table.loc[rows, "yield_t_ha"] = predicted
            table.loc[rows, "yield_p10_t_ha"] = np.clip(predicted - Z90 * regression.loo_rmse_t_ha, 0, None)
            table.loc[rows, "yield_p90_t_ha"] = predicted + Z90 * regression.loo_rmse_t_ha
            table.loc[rows, "loo_rmse_t_ha"] = regression.loo_rmse_t_ha
            table.loc[rows, "model"] = f"regression (n={regression.n_records}, leave-one-out)"
            table.loc[rows, "weed_yield_loss_fraction"] = np.nan
    for column in ("yield", "yield_p10", "yield_p90"):
        table[column.replace("yield", "yield_qx_ha") if column == "yield" else f"{column}_qx_ha"] = (
            table[f"{column}_t_ha"] * QX_PER_T)
    return table


def _with_weeds(table: pd.DataFrame, observations: pd.DataFrame | None) -> pd.DataFrame:
    cover = latest_weed_cover(observations)
    table["weed_cover_fraction"] = table["parcel"].astype(str).map(cover).astype(float)
    table["weed_yield_loss_fraction"] = np.nan
    for k, row in table.iterrows():
        competition = load_crop(row["crop"]).weed_competition
        if competition is None or not np.isfinite(row["weed_cover_fraction"]):
            continue
        loss = float(weed_yield_loss(row["weed_cover_fraction"], competition))
        table.loc[k, "weed_yield_loss_fraction"] = loss
        for column in ("yield_t_ha", "yield_p10_t_ha", "yield_p90_t_ha"):
            table.loc[k, column] = row[column] * (1.0 - loss)
    return table
