"""Daily root-zone soil-water balance, FAO-56 dual crop coefficient (ch. 7-8), vectorised over parcels.

Equations (Allen et al. 1998): Kc_max eq. 72, fc eq. 76, few eq. 75, Kr eq. 74, Ke eq. 71,
E eq. 69, DPe eq. 79, De eqs. 77-78, TAW eq. 82, p Table 22 with the ETc adjustment (p. 162),
RAW eq. 83, Ks eq. 84 (× the salinity coefficient, eqs. 89-90), ETc,adj eq. 80, DP eq. 88,
Dr eqs. 85-86; root growth as in FAO-56 p. 279 (root depth follows the stage curve). The
conventions (Ks from the previous day's depletion, h from Kcb, fw reset to 1 by rain ≥ 3 mm,
irrigation losses from the method's efficiency) follow pyfao56 (Thorp et al. 2022, SoftwareX
19:101208) so both give the same numbers; here one loop over days updates every parcel at once.

Additions for practice (see docs/irrigation.md):
- localized irrigation stores water in the wetted soil only: TAW × `taw_fraction` (Pw), and its
  wetted soil lies mostly under the canopy (`shaded_wetting`: few = (1 − 2/3 fc) fw, FAO-56 p. 149);
- days flagged `single_kc` carry a single crop coefficient (Ke = 0, FAO-56 ch. 6);
- `et0_factor` scales ET0 (parcels under plastic) and `rain_factor` the rain reaching the soil;
- the balance may start before the crop (`crop_active` false): a bare-soil spin-up (Kcb = 0) that
  carries the root-zone depletion to sowing, where the evaporation layer starts again at TEW;
- parcels assumed irrigated as planned follow their method: a fixed interval replacing the
  depletion (drip, `interval_days` > 0), else the RAW rule with the set rotation and the largest
  gross depth one event can apply.
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
    crop_active: np.ndarray | None = None
    single_kc: np.ndarray | None = None
    taw_fraction: np.ndarray | None = None
    ks_salinity: np.ndarray | None = None
    et0_factor: np.ndarray | None = None
    rain_factor: np.ndarray | None = None
    interval_days: np.ndarray | None = None
    rotation_days: np.ndarray | None = None
    max_gross_mm: np.ndarray | None = None
    shaded_wetting: np.ndarray | None = None


OUTPUTS = ("kcb", "ke", "kc", "kc_max", "fc", "etc_mm", "eta_mm", "evaporation_mm", "taw_mm", "raw_mm", "p",
           "ks", "depletion_mm", "evaporated_depletion_mm", "rain_eff_mm", "irrigation_mm", "irrigation_net_mm",
           "deep_percolation_mm", "root_depth_m")


def _defaults(i: BalanceInputs) -> dict[str, np.ndarray]:
    n, d = i.kcb.shape
    ones = np.ones(n)
    return {"crop_active": i.active if i.crop_active is None else i.crop_active,
            "single_kc": np.zeros((n, d), dtype=bool) if i.single_kc is None else i.single_kc,
            "taw_fraction": ones if i.taw_fraction is None else i.taw_fraction,
            "ks_salinity": ones if i.ks_salinity is None else i.ks_salinity,
            "et0_factor": ones if i.et0_factor is None else i.et0_factor,
            "rain_factor": ones if i.rain_factor is None else i.rain_factor,
            "interval_days": np.zeros(n, dtype=int) if i.interval_days is None else i.interval_days.astype(int),
            "rotation_days": np.zeros(n, dtype=int) if i.rotation_days is None else i.rotation_days.astype(int),
            "max_gross_mm": np.full(n, np.inf) if i.max_gross_mm is None else i.max_gross_mm,
            "refill": np.zeros(n, dtype=bool) if i.assumed_refill is None else i.assumed_refill,
            "shaded": np.zeros(n, dtype=bool) if i.shaded_wetting is None else i.shaded_wetting}


def _planned_gross(x: dict, crop: np.ndarray, dr: np.ndarray, raw_yesterday: np.ndarray, crop_day: np.ndarray,
                   since_last: np.ndarray, efficiency: np.ndarray) -> np.ndarray:
    """Gross depth (mm) the plan applies at the start of the day to parcels assumed irrigated as planned."""
    interval = x["interval_days"]
    scheduled = (interval > 0) & (crop_day % np.maximum(interval, 1) == 0)
    at_raw = (interval <= 0) & (dr >= raw_yesterday) & (since_last >= x["rotation_days"])
    due = x["refill"] & crop & (dr > 0) & (scheduled | at_raw)
    return np.where(due, np.minimum(dr / efficiency, x["max_gross_mm"]), 0.0)


def water_balance(inputs: BalanceInputs) -> dict[str, np.ndarray]:
    """Run the daily balance; returns (P, D) arrays named in OUTPUTS, NaN outside the crop's days.

    A parcel's state starts on its first active day: Dr = f0·TAW, De = TEW, fw = 1; a parcel whose
    crop starts later (spin-up) keeps its depletion at sowing and restarts De = TEW, fw = 1 then.
    Parcels flagged in `assumed_refill` (no irrigation records) are assumed to follow the plan
    (see `_planned_gross`; the "irrigate at RAW" rule is FAO-56 ch. 8, as pyfao56's auto-irrigation).
    """
    i = inputs
    x = _defaults(i)
    n_parcels, n_days = i.kcb.shape
    out = {name: np.full((n_parcels, n_days), np.nan) for name in OUTPUTS}
    dr = np.zeros(n_parcels)
    de = i.tew_mm.astype(float).copy()
    fw = np.ones(n_parcels)
    started = np.zeros(n_parcels, dtype=bool)
    cropped = np.zeros(n_parcels, dtype=bool)
    crop_day = np.zeros(n_parcels, dtype=int)
    since_last = np.full(n_parcels, 10_000)
    raw_yesterday = np.full(n_parcels, np.inf)
    for d in range(n_days):
        act, crop = i.active[:, d], x["crop_active"][:, d] & i.active[:, d]
        et0, rain = i.et0_mm[d] * x["et0_factor"], i.rain_mm[d] * x["rain_factor"]
        kcb, h, zr = i.kcb[:, d], i.height_m[:, d], i.root_depth_m[:, d]
        taw = 1000.0 * (i.theta_fc - i.theta_wp) * zr * x["taw_fraction"]
        first = act & ~started
        dr = np.where(first, i.initial_depletion_fraction * taw, dr)
        sowing = crop & ~cropped
        de = np.where(first | sowing, i.tew_mm, de)
        fw = np.where(first | sowing, 1.0, fw)
        started |= act
        cropped |= crop
        crop_day = np.where(sowing, 0, crop_day + 1)
        single = x["single_kc"][:, d]
        u2 = min(max(i.u2_ms[d], 1.0), 6.0)
        rh_min = min(max(i.rh_min_pct[d], 20.0), 80.0)
        kc_max = np.maximum(1.2 + (0.04 * (u2 - 2) - 0.004 * (rh_min - 45)) * (h / 3) ** 0.3, kcb + 0.05)
        base = np.clip((kcb - i.kcb_ini) / (kc_max - i.kcb_ini), 0.0, None)
        fc = np.where(np.isnan(i.cover_fraction[:, d]), np.clip(base ** (1 + 0.5 * h), 0.0, 0.99), i.cover_fraction[:,
                                                                                                                    d])
        # on the sowing day the RAW of the day before is not known: the crop's base p (pre-sowing irrigation)
        raw_before = np.where(sowing, i.p_base * taw, raw_yesterday)
        planned = _planned_gross(x, crop, dr, raw_before, crop_day, since_last, i.efficiency)
        gross = np.where(planned > 0, planned, np.where(crop, i.irrigation_mm[:, d], 0.0))
        net = gross * i.efficiency
        irrigated = gross > 0
        since_last = np.where(irrigated, 0, since_last + 1)
        fw = np.where(irrigated, i.wetted_fraction, np.where(rain >= RAIN_WETTING_MM, 1.0, fw))
        # drip wets soil mostly under the canopy: few = (1 − 2/3 fc) fw (FAO-56 ch. 7, eq. 75 note, p. 149)
        few = np.clip(np.where(x["shaded"] & (fw < 1.0), (1 - 2.0 / 3.0 * fc) * fw, np.minimum(1 - fc, fw)), 0.01, 1.0)
        kr = np.clip((i.tew_mm - de) / (i.tew_mm - i.rew_mm), 0.0, 1.0)
        ke = np.where(single, 0.0, np.minimum(kr * (kc_max - kcb), few * kc_max))
        evaporation = ke * et0
        dpe = np.maximum(rain + net / fw - de, 0.0)
        de_new = np.clip(de - rain - net / fw + evaporation / few + dpe, 0.0, i.tew_mm)
        kc = ke + kcb
        etc = kc * et0
        p = np.clip(i.p_base + 0.04 * (5.0 - etc), 0.1, 0.8)
        raw = p * taw
        ks = np.clip((taw - dr) / (taw - raw), 0.0, 1.0) * x["ks_salinity"]
        eta = (ks * kcb + ke) * et0
        dp = np.maximum(rain + net - eta - dr, 0.0)
        dr_new = np.clip(dr - rain - net + eta + dp, 0.0, taw)
        dr, de = np.where(act, dr_new, dr), np.where(act, de_new, de)
        raw_yesterday = np.where(crop, raw, np.inf)
        values = {"kcb": kcb, "ke": ke, "kc": kc, "kc_max": kc_max, "fc": fc, "etc_mm": etc, "eta_mm": eta,
                  "evaporation_mm": evaporation, "taw_mm": taw, "raw_mm": raw, "p": p, "ks": ks,
                  "depletion_mm": dr, "evaporated_depletion_mm": de, "rain_eff_mm": rain,
                  "irrigation_mm": gross, "irrigation_net_mm": net, "deep_percolation_mm": dp, "root_depth_m": zr}
        for name, value in values.items():
            out[name][:, d] = np.where(crop, value, np.nan)
    return out
