"""Irrigation-water salinity: crop tolerance, leaching requirement, salinity stress coefficient.

- Yield response to root-zone salinity (Maas & Hoffman 1977; FAO-29 Table 4, FAO-56 Table 23):
  Yr = 100 − b (ECe − ECe_threshold) % for ECe above the threshold (ECe, ECw in dS/m).
- Root-zone salinity from the water: ECe ≈ 1.5 ECw for the 15–20 % leaching fraction of usual
  practice (FAO-29 §2.4; FAO-56 ch. 8 p. 176), unless a measured ECe is given.
- Leaching requirement (Ayers & Westcot 1985, FAO-29): LR = ECw / (5 ECe_threshold − ECw) (eq. 7)
  for surface and sprinkler irrigation; LR = ECw / (2 max ECe) (eq. 8) for high-frequency drip
  and micro-irrigation, max ECe = ECe at which yield is zero (threshold + 100 / b).
- Salinity stress (FAO-56 eq. 89): Ks = 1 − b / (Ky · 100) (ECe − ECe_threshold), 0 ≤ Ks ≤ 1, with
  Ky the crop's yield-response factor (FAO-33); combined with water stress as in eq. 90 (product).
"""
from __future__ import annotations

import numpy as np

ECE_PER_ECW = 1.5
HIGH_FREQUENCY_KINDS = ("localized",)
LR_HIGH = 0.3


def relative_yield_pct(ece_ds_m, threshold_ds_m: float, slope_pct_per_ds_m: float):
    """Maas-Hoffman relative yield (%) at root-zone ECe (dS/m), 0-100."""
    ece = np.asarray(ece_ds_m, dtype=float)
    return np.clip(100.0 - slope_pct_per_ds_m * np.maximum(ece - threshold_ds_m, 0.0), 0.0, 100.0)


def max_ece_ds_m(threshold_ds_m: float, slope_pct_per_ds_m: float) -> float:
    """ECe (dS/m) at which the yield reaches zero: threshold + 100 / b (FAO-29 Table 4, 'max')."""
    return threshold_ds_m + 100.0 / slope_pct_per_ds_m


def leaching_requirement(ecw_ds_m, threshold_ds_m: float, slope_pct_per_ds_m: float, method_kind: str):
    """Fraction of the applied water that must drain below the root zone (FAO-29 eqs. 7-8), 0-0.9.

    ecw_ds_m: irrigation water EC (dS/m); method_kind 'localized' uses the high-frequency form.
    """
    ecw = np.asarray(ecw_ds_m, dtype=float)
    if method_kind in HIGH_FREQUENCY_KINDS:
        lr = ecw / (2.0 * max_ece_ds_m(threshold_ds_m, slope_pct_per_ds_m))
    else:
        lr = ecw / np.maximum(5.0 * threshold_ds_m - ecw, 1e-9)
    return np.clip(lr, 0.0, 0.9)


def salinity_ks(ece_ds_m, threshold_ds_m: float, slope_pct_per_ds_m: float, ky: float):
    """FAO-56 eq. 89: transpiration reduction by salinity, 1 at or below the threshold, ≥ 0."""
    ece = np.asarray(ece_ds_m, dtype=float)
    return np.clip(1.0 - slope_pct_per_ds_m / (ky * 100.0) * np.maximum(ece - threshold_ds_m, 0.0), 0.0, 1.0)


def gross_factor(application_efficiency: float, distribution_uniformity: float, lr) -> np.ndarray:
    """Net-to-gross factor f (gross = net / f) with leaching (Keller & Bliesner 1990, ch. 17/ FAO-29).

    Without salinity f = Ea · DU. The losses of an application (1 − Ea: deep percolation below the
    roots) leach salts too, so extra water is only needed when LR exceeds them: then
    f = (1 − LR) · DU.
    """
    lr = np.asarray(lr, dtype=float)
    return np.where(lr > 1.0 - application_efficiency, (1.0 - lr) * distribution_uniformity,
                    application_efficiency * distribution_uniformity)
