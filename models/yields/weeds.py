"""Yield loss by weed competition from the weeds' relative cover seen by the drone.

The relative leaf area model of Kropff & Spitters (1991, Weed Research 31:97-105), with the
maximum-loss parameter m tested by Lotz et al. (1996, Weed Research 36:93-101):

    YL = q * Lw / (1 + (q / m - 1) * Lw)

YL: fraction of the weed-free yield lost; Lw = LAw / (LAc + LAw), the weeds' share of the
leaf area; q: relative damage coefficient (initial slope: dYL/dLw = q at Lw = 0); m: maximum
loss (YL -> m as Lw -> 1; m = 1 is the one-parameter model). The model is Cousens's (1985, Ann.
Appl. Biol. 107:239-252) rectangular hyperbola YL = I d / (1 + I d / A) rewritten for leaf area,
so it holds across weed densities and emergence dates (Kropff & Spitters 1991).

Lw is estimated by the parcel's weed pressure: weed pixels / (crop + weed) pixels of the class
map, i.e. relative ground cover, which tracks relative leaf area while canopies do not overlap
(early season, the model's domain).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from pipelines.core.agronomy import WeedCompetition


def weed_yield_loss(relative_cover, competition: WeedCompetition) -> np.ndarray:
    """Fraction (0-m) of the weed-free yield lost at the weeds' relative cover (0-1, NaN kept)."""
    lw = np.clip(np.asarray(relative_cover, dtype=float), 0.0, 1.0)
    q, m = competition.damage_coefficient, competition.max_loss_fraction
    return q * lw / (1.0 + (q / m - 1.0) * lw)


def latest_weed_cover(observations: pd.DataFrame | None) -> pd.Series:
    """Per parcel: the weed pressure (0-1) of its latest flight that measured one (empty if none)."""
    if observations is None or "weed_pressure" not in observations or not len(observations):
        return pd.Series(dtype=float)
    seen = observations.dropna(subset=["weed_pressure"]).sort_values("date")
    return seen.groupby("parcel")["weed_pressure"].last()


def fit_damage_coefficient(relative_cover, yield_loss, max_loss_fraction: float = 1.0) -> float:
    """Least-squares q from paired strips: the weeds' relative cover (0-1) and the measured loss
    (1 - weedy yield / weed-free yield), m fixed. One point with m = 1 gives q in closed form: the
    odds ratio [YL / (1 - YL)] / [Lw / (1 - Lw)]."""
    from scipy.optimize import least_squares

    lw, loss = np.asarray(relative_cover, dtype=float), np.asarray(yield_loss, dtype=float)
    keep = np.isfinite(lw) & np.isfinite(loss) & (lw > 0) & (lw < 1)
    if not keep.any():
        raise ValueError("no strip with a relative weed cover strictly between 0 and 1")
    lw, loss = lw[keep], loss[keep]

    def residual(q: np.ndarray) -> np.ndarray:
        return q[0] * lw / (1.0 + (q[0] / max_loss_fraction - 1.0) * lw) - loss

    return float(least_squares(residual, x0=[1.0], bounds=([1e-6], [50.0])).x[0])
