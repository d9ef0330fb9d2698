"""Basal crop coefficient Kcb per parcel and day: FAO-56 stage tables anchored by drone observations.

- FAO-56 stage curve (ch. 6-7, Fig. 34, eq. 66): Kcb_ini over the initial stage, linear to Kcb_mid
  over development, Kcb_mid, then linear to Kcb_end; days counted from sowing.
- Observed Kcb on a flight date: field and row crops from NDVI with the crop's linear relation
  (`ndvi_kcb` in configs/crops, e.g. Duchemin et al. 2006; Kamble et al. 2013); tree crops from
  ground cover with the density coefficient of Allen & Pereira 2009 (Irrig. Sci. 28:17-34,
  eqs. 7-10), the approach of the FAO-56 revision for tree crops (Rallo et al. 2021; Pereira et
  al. 2021).
- Between and after flights the FAO curve keeps its shape and is shifted by the observed offset
  (observed − table), linearly interpolated between flights, zero at sowing, held after the last
  flight. Before the first flight the FAO table stands alone.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from models.irrigation import et0 as fao
from pipelines.core.config import Crop, TreeCover

KCB_MAX = 1.4


def stage_fraction(crop: Crop, days: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(development fraction 0-1, late-season fraction 0-1) for days since sowing (FAO-56 eq. 66)."""
    ini, dev, mid, late = crop.stage_days
    development = np.clip((days - ini) / max(dev, 1), 0, 1)
    senescence = np.clip((days - ini - dev - mid) / max(late, 1), 0, 1)
    return development, senescence


def table_kcb(crop: Crop, days: np.ndarray) -> np.ndarray:
    """FAO-56 stage-curve Kcb for days since sowing (NaN before sowing)."""
    days = np.asarray(days, dtype=float)
    development, senescence = stage_fraction(crop, days)
    kcb = crop.kcb_ini + (crop.kcb_mid - crop.kcb_ini) * development + (crop.kcb_end - crop.kcb_mid) * senescence
    return np.where(days >= 0, kcb, np.nan)


def ndvi_kcb(crop: Crop, ndvi) -> np.ndarray:
    """Kcb from NDVI with the crop's published linear relation (clipped to 0-1.4)."""
    return np.clip(crop.ndvi_kcb.slope * np.asarray(ndvi, dtype=float) + crop.ndvi_kcb.intercept, 0, KCB_MAX)


def cover_from_ndvi(tree: TreeCover, ndvi) -> np.ndarray:
    """Ground cover fraction by linear NDVI scaling between bare soil and closed canopy."""
    return np.clip((np.asarray(ndvi, dtype=float) - tree.ndvi_soil) / (tree.ndvi_full - tree.ndvi_soil), 0, 1)


def tree_kcb(crop: Crop, cover_fraction, u2_ms: float, rh_min_pct: float, tmean_c: float) -> np.ndarray:
    """Kcb of a tree crop from its ground cover (Allen & Pereira 2009, eqs. 7-10).

    Kd = min(1, ML·fc, fc^(1/(1+h))) (eq. 8); Kcb_full = Fr·(min(1 + 0.1h, 1.2) + [0.04(u2 − 2)
    − 0.004(RHmin − 45)](h/3)^0.3) (eq. 9), Fr from the leaf resistance rl (eq. 10);
    Kcb = Kc_min + Kd·(Kcb_full − Kc_min) (eq. 7). u2 in m/s, RHmin in %, h in m.
    """
    tree = crop.tree_cover
    h = crop.height_max_m
    fc = np.clip(np.asarray(cover_fraction, dtype=float), 0, 1)
    kd = np.minimum(np.minimum(1.0, tree.ml * fc), fc ** (1 / (1 + h)))
    delta = 4098 * fao.saturation_vapour_pressure_kpa(tmean_c) / (tmean_c + 237.3) ** 2
    gamma = 0.665e-3 * fao.atmospheric_pressure_kpa(0.0)
    fr = (delta + gamma * (1 + 0.34 * u2_ms)) / (delta + gamma * (1 + 0.34 * u2_ms * tree.leaf_resistance_s_m / 100))
    u2, rh_min = np.clip(u2_ms, 1, 6), np.clip(rh_min_pct, 20, 80)
    full = fr * (min(1 + 0.1 * h, 1.2) + (0.04 * (u2 - 2) - 0.004 * (rh_min - 45)) * (h / 3) ** 0.3)
    return tree.kc_min + kd * (full - tree.kc_min)


@dataclass(frozen=True)
class KcbSeries:
    """Daily Kcb of one parcel with the observed ground cover (NaN where unobserved) and the source."""

    kcb: np.ndarray
    cover_fraction: np.ndarray
    source: np.ndarray


def _anchored(base: np.ndarray, day_index: np.ndarray, sow_index: int, obs_index: np.ndarray,
              obs_values: np.ndarray) -> np.ndarray:
    """Interpolate obs_values (on obs_index) over day_index: zero-anchored at sowing, held after."""
    xs = np.concatenate([[sow_index], obs_index]) if sow_index < obs_index[0] else obs_index
    ys = np.concatenate([[0.0], obs_values]) if sow_index < obs_index[0] else obs_values
    offset = np.interp(day_index, xs, ys)
    return base + offset


def parcel_kcb(crop: Crop, dates: pd.DatetimeIndex, sowing: pd.Timestamp, observations: pd.DataFrame | None,
               climate: dict[str, float]) -> KcbSeries:
    """Daily Kcb for one parcel over `dates` (see module docstring).

    Annual crops end with the FAO-56 late-season stage (Table 11 lengths from sowing): after it
    the parcel is harvested, Kcb is NaN and the balance no longer runs for it.

    observations: rows with 'date' and 'ndvi_mean' (and optionally 'crop_cover_fraction');
    climate: season means of 'u2_ms', 'rh_min_pct', 'tmean_c' (tree crops only).
    """
    day_index = (dates - dates[0]).days.to_numpy().astype(float)
    days_since_sowing = (dates - sowing).days.to_numpy()
    base = table_kcb(crop, days_since_sowing)
    source = np.where(days_since_sowing >= 0, "fao_table", "not_sown").astype(object)
    cycle_days = sum(crop.stage_days) if crop.kind != "tree" else np.inf
    harvested = days_since_sowing > cycle_days
    source[harvested] = "harvested"
    base = np.where(harvested, np.nan, base)
    cover = np.full(len(dates), np.nan)
    if observations is None or observations.empty:
        return KcbSeries(base, cover, source)
    obs = observations[(observations["date"] >= max(sowing, dates[0])) & (observations["date"] <= dates[-1])]
    obs = obs.dropna(subset=["ndvi_mean"]).sort_values("date")
    if obs.empty:
        return KcbSeries(base, cover, source)
    obs_index = (pd.DatetimeIndex(obs["date"]) - dates[0]).days.to_numpy().astype(float)
    sow_index = float((sowing - dates[0]).days)
    has_cover = "crop_cover_fraction" in obs and obs["crop_cover_fraction"].notna().all()
    if crop.tree_cover is not None:
        observed_cover = obs["crop_cover_fraction"].to_numpy() if has_cover else cover_from_ndvi(crop.tree_cover,
                                                                                                 obs["ndvi_mean"])
        observed = tree_kcb(crop, observed_cover, climate["u2_ms"], climate["rh_min_pct"], climate["tmean_c"])
        label = "ground_cover"
    else:
        observed_cover = obs["crop_cover_fraction"].to_numpy() if has_cover else None
        observed, label = ndvi_kcb(crop, obs["ndvi_mean"]), "ndvi"
    table_at_obs = np.interp(obs_index, day_index, base)
    kcb = np.clip(_anchored(base, day_index, sow_index, obs_index, observed - table_at_obs), 0, KCB_MAX)
    after_first = day_index >= obs_index[0]
    if observed_cover is not None:
        cover = np.where(after_first, np.interp(day_index, obs_index, observed_cover), np.nan)
    source = np.where(after_first, label, source).astype(object)
    source[harvested] = "harvested"
    return KcbSeries(np.where((days_since_sowing >= 0) & ~harvested, kcb, np.nan), cover, source)
