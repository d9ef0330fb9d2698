"""Daily root-zone soil-water balance, FAO-56 dual crop coefficient (ch. 7-8), vectorised over parcels.

Equations (Allen et al. 1998): Kc_max eq. 72, fc eq. 76, few eq. 75, Kr eq. 74, Ke eq. 71,
E eq. 69, DPe eq. 79, De eqs. 77-78, TAW eq. 82, p Table 22 with the ETc adjustment (p. 162),
RAW eq. 83, Ks eq. 84, ETc,adj eq. 80, DP eq. 88, Dr eqs. 85-86; root growth as in FAO-56 p. 279
(root depth follows the stage curve). The conventions (Ks from the previous day's depletion, h
from Kcb, fw reset to 1 by rain ≥ 3 mm, irrigation losses from the method's efficiency) follow
pyfao56 (Thorp et al. 2022, SoftwareX 19:101208) so both give the same numbers; here one loop over
days updates every parcel at once.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

RAIN_WETTING_MM = 3.0


@dataclass
class BalanceInputs:
    """Arrays for P parcels × D days (mm, m, fractions); 1-D weather arrays have D entries."""

    et0_mm: np.ndarray
    rain_mm: np.ndarray
    u2_ms: np.ndarray
    rh_min_pct: np.ndarray
    kcb: np.ndarray
    kcb_ini: np.ndarray
    height_m: np.ndarray
    root_depth_m: np.ndarray
    cover_fraction: np.ndarray
    theta_fc: np.ndarray
    theta_wp: np.ndarray
    rew_mm: np.ndarray
    tew_mm: np.ndarray
    p_base: np.ndarray
    irrigation_mm: np.ndarray
    efficiency: np.ndarray
    wetted_fraction: np.ndarray
    initial_depletion_fraction: np.ndarray
    active: np.ndarray
    assumed_refill: np.ndarray | None = None


OUTPUTS = ("kcb", "ke", "kc", "kc_max", "fc", "etc_mm", "eta_mm", "evaporation_mm", "taw_mm", "raw_mm", "p",
           "ks", "depletion_mm", "evaporated_depletion_mm", "rain_eff_mm", "irrigation_mm", "irrigation_net_mm",
           "deep_percolation_mm", "root_depth_m")


def water_balance(inputs: BalanceInputs) -> dict[str, np.ndarray]:
    """Run the daily balance; returns (P, D) arrays named in OUTPUTS, NaN on inactive days.

    A parcel's state starts on its first active day (sowing): Dr = f0·TAW, De = TEW, fw = 1.
    Parcels flagged in `assumed_refill` (no irrigation records) are assumed to follow the plan:
    on a day that starts with Dr ≥ RAW they receive Dr / efficiency, a refill to field capacity
    (the "irrigate at RAW" rule of FAO-56 ch. 8, as pyfao56's auto-irrigation does).
    """
    i = inputs
    n_parcels, n_days = i.kcb.shape
    out = {name: np.full((n_parcels, n_days), np.nan) for name in OUTPUTS}
    dr = np.zeros(n_parcels)
    de = i.tew_mm.astype(float).copy()
    fw = np.ones(n_parcels)
    started = np.zeros(n_parcels, dtype=bool)
    refill = np.zeros(n_parcels, dtype=bool) if i.assumed_refill is None else i.assumed_refill
    raw_yesterday = np.full(n_parcels, np.inf)
    for d in range(n_days):
        act = i.active[:, d]
        et0, rain = i.et0_mm[d], i.rain_mm[d]
        kcb, h, zr = i.kcb[:, d], i.height_m[:, d], i.root_depth_m[:, d]
        taw = 1000.0 * (i.theta_fc - i.theta_wp) * zr
        first = act & ~started
        dr = np.where(first, i.initial_depletion_fraction * taw, dr)
        de = np.where(first, i.tew_mm, de)
        fw = np.where(first, 1.0, fw)
        started |= act
        u2 = min(max(i.u2_ms[d], 1.0), 6.0)
        rh_min = min(max(i.rh_min_pct[d], 20.0), 80.0)
        kc_max = np.maximum(1.2 + (0.04 * (u2 - 2) - 0.004 * (rh_min - 45)) * (h / 3) ** 0.3, kcb + 0.05)
        base = np.clip((kcb - i.kcb_ini) / (kc_max - i.kcb_ini), 0.0, None)
        fc = np.where(np.isnan(i.cover_fraction[:, d]), np.clip(base ** (1 + 0.5 * h), 0.0, 0.99),
                      i.cover_fraction[:, d])
        gross = np.where(refill & act & (dr >= raw_yesterday) & (dr > 0), dr / i.efficiency, i.irrigation_mm[:, d])
        net = gross * i.efficiency
        irrigated = gross > 0
        fw = np.where(irrigated, i.wetted_fraction, np.where(rain >= RAIN_WETTING_MM, 1.0, fw))
        few = np.clip(np.minimum(1 - fc, fw), 0.01, 1.0)
        kr = np.clip((i.tew_mm - de) / (i.tew_mm - i.rew_mm), 0.0, 1.0)
        ke = np.minimum(kr * (kc_max - kcb), few * kc_max)
        evaporation = ke * et0
        dpe = np.maximum(rain + net / fw - de, 0.0)
        de_new = np.clip(de - rain - net / fw + evaporation / few + dpe, 0.0, i.tew_mm)
        kc = ke + kcb
        etc = kc * et0
        p = np.clip(i.p_base + 0.04 * (5.0 - etc), 0.1, 0.8)
        raw = p * taw
        ks = np.clip((taw - dr) / (taw - raw), 0.0, 1.0)
        eta = (ks * kcb + ke) * et0
        dp = np.maximum(rain + net - eta - dr, 0.0)
        dr_new = np.clip(dr - rain - net + eta + dp, 0.0, taw)
        dr, de = np.where(act, dr_new, dr), np.where(act, de_new, de)
        raw_yesterday = np.where(act, raw, np.inf)
        values = {"kcb": kcb, "ke": ke, "kc": kc, "kc_max": kc_max, "fc": fc, "etc_mm": etc, "eta_mm": eta,
                  "evaporation_mm": evaporation, "taw_mm": taw, "raw_mm": raw, "p": p, "ks": ks,
                  "depletion_mm": dr, "evaporated_depletion_mm": de, "rain_eff_mm": np.full(n_parcels, rain),
                  "irrigation_mm": gross, "irrigation_net_mm": net, "deep_percolation_mm": dp, "root_depth_m": zr}
        for name, value in values.items():
            out[name][:, d] = np.where(act, value, np.nan)
    return out
