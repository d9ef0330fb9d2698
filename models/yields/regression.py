"""Per-crop yield regression on index features, calibrated on harvest records, leave-one-out error.

Features per parcel-season: integrated NDVI (Σ daily NDVI, a proxy of season-long green
cover, e.g. Tucker et al. 1980) and stressed absorbed PAR (Σ fAPAR·PAR·Ks, MJ/m²). A crop with
at least MIN_RECORDS records gets an ordinary least-squares fit; its error is the leave-one-out
RMSE, and the p10-p90 interval is ± 1.2816 · RMSE (normal errors).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr

from models.yields.lue import absorbed_par, daily_ndvi

FEATURES = ("ndvi_integral", "apar_stressed_mj_m2")
MIN_RECORDS = 4


def yield_features(balance: xr.Dataset, observations: pd.DataFrame | None, weather: pd.DataFrame) -> pd.DataFrame:
    """One row per parcel: parcel, crop and FEATURES for the balance's season."""
    ndvi = daily_ndvi(balance, observations)
    _, stressed = absorbed_par(balance, observations, weather)
    return pd.DataFrame({"parcel": balance.parcel.values, "crop": balance["crop"].values,
                         "ndvi_integral": np.nansum(ndvi, axis=1), "apar_stressed_mj_m2": np.nansum(stressed, axis=1)})


@dataclass(frozen=True)
class CropRegression:
    """One crop's least-squares yield fit on FEATURES: record count and leave-one-out RMSE (t/ha)."""

    crop: str
    model: object
    n_records: int
    loo_rmse_t_ha: float

    def predict(self, features: pd.DataFrame) -> np.ndarray:
        """Predicted yield (t/ha) for each row of `features` (FEATURES columns)."""
        return self.model.predict(features[list(FEATURES)].to_numpy(float))


def calibrate(harvests: pd.DataFrame) -> dict[str, CropRegression]:
    """harvests: crop, yield_t_ha and FEATURES (from `yield_features` of past seasons)."""
    from sklearn.linear_model import LinearRegression
    from sklearn.model_selection import LeaveOneOut, cross_val_predict

    fitted = {}
    for crop, group in harvests.groupby("crop"):
        if len(group) < MIN_RECORDS:
            continue
        x, y = group[list(FEATURES)].to_numpy(float), group["yield_t_ha"].to_numpy(float)
        predicted = cross_val_predict(LinearRegression(), x, y, cv=LeaveOneOut())
        rmse = float(np.sqrt(np.mean((predicted - y) ** 2)))
        fitted[crop] = CropRegression(crop, LinearRegression().fit(x, y), len(group), rmse)
    return fitted
