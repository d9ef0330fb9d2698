"""Basal crop coefficient Kcb per parcel and day: FAO-56 stage tables anchored by drone observations.

- FAO-56 stage curve (ch. 6-7, Fig. 34, eq. 66): Kcb_ini over the initial stage, linear to Kcb_mid
  over development, Kcb_mid, then linear to Kcb_end; days counted from sowing.
- Observed coefficient on a flight date inside the crop cycle (sowing to the end of the late
  season; flights outside it are not used):
  - field and row crops from NDVI with the crop's published linear relation (`ndvi_kcb`). A
    relation fitted on the *basal* coefficient (Duchemin et al. 2006 for wheat) shifts the Kcb
    curve; a relation fitted on the *single* coefficient Kc (Kamble et al. 2013: MODIS NDVI
    against flux-tower Kc, soil evaporation included) shifts the FAO-56 single-Kc curve (Table
    12, `kc_single` in configs/crops) and those days run the single-coefficient method (FAO-56
    ch. 6: ETc = Kc ET0, no separate Ke), so evaporation is not counted twice;
  - tree crops from ground cover with the density coefficient of Allen & Pereira 2009 (Irrig. Sci.
    28:17-34, eqs. 7-10), the cover being the effective cover seen by the sun at noon,
    fc_eff = fc / sin(η) ≤ 1 (their eq. 11), η the solar elevation at solar noon (FAO-56 eq. 24).
- Days before the first flight of the cycle: the FAO table alone (`fao_table`). From the first to
  the last flight the table is shifted by the observed offset (observed − table), linearly
  interpolated between flights (`ndvi`). After the last flight the offset fades linearly to zero
  over EXTRAPOLATION_DAYS (`ndvi_extrapolated`), then the table stands alone again (`fao_table`).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from models.irrigation import et0 as fao
from pipelines.core.config import Crop, TreeCover

KCB_MAX = 1.4
EXTRAPOLATION_DAYS = 30


def stage_fraction(crop: Crop, days: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(development fraction 0-1, late-season fraction 0-1) for days since sowing (FAO-56 eq. 66)."""
    ini, dev, mid, late = crop.stage_days
    development = np.clip((days - ini) / max(dev, 1), 0, 1)
    senescence = np.clip((days - ini - dev - mid) / max(late, 1), 0, 1)
    return development, senescence


def _stage_curve(crop: Crop, days, ini: float, mid: float, end: float) -> np.ndarray:
    days = np.asarray(days, dtype=float)
    development, senescence = stage_fraction(crop, days)
    value = ini + (mid - ini) * development + (end - mid) * senescence
    return np.where(days >= 0, value, np.nan)


def table_kcb(crop: Crop, days: np.ndarray) -> np.ndarray:
    """FAO-56 stage-curve Kcb for days since sowing (NaN before sowing)."""
    return _stage_curve(crop, days, crop.kcb_ini, crop.kcb_mid, crop.kcb_end)


def table_kc_single(crop: Crop, days: np.ndarray) -> np.ndarray:
    """FAO-56 Table 12 single Kc stage curve for days since sowing (NaN before sowing)."""
    ini, mid, end = crop.kc_single if crop.kc_single else (crop.kcb_ini, crop.kcb_mid, crop.kcb_end)
    return _stage_curve(crop, days, ini, mid, end)


def ndvi_kcb(crop: Crop, ndvi) -> np.ndarray:
    """Coefficient from NDVI with the crop's published linear relation (clipped to 0-1.4); basal
    or single as the relation's `coefficient` says."""
    return np.clip(crop.ndvi_kcb.slope * np.asarray(ndvi, dtype=float) + crop.ndvi_kcb.intercept, 0, KCB_MAX)


def cover_from_ndvi(tree: TreeCover, ndvi) -> np.ndarray:
    """Ground cover fraction by linear NDVI scaling between bare soil and closed canopy."""
    return np.clip((np.asarray(ndvi, dtype=float) - tree.ndvi_soil) / (tree.ndvi_full - tree.ndvi_soil), 0, 1)


def noon_solar_elevation_sin(lat_deg: float, doy) -> np.ndarray:
    """sin(η) of the sun at solar noon: sin φ sin δ + cos φ cos δ, δ from FAO-56 eq. 24."""
    lat = np.radians(lat_deg)
    decl = 0.409 * np.sin(2 * np.pi / 365 * np.asarray(doy, dtype=float) - 1.39)
    return np.sin(lat) * np.sin(decl) + np.cos(lat) * np.cos(decl)


def effective_cover(cover_fraction, sin_noon_elevation) -> np.ndarray:
    """Allen & Pereira 2009 eq. 11: fc_eff = fc / sin(η), at most 1."""
    fc = np.clip(np.asarray(cover_fraction, dtype=float), 0, 1)
    return np.clip(fc / np.maximum(np.asarray(sin_noon_elevation, dtype=float), 0.05), 0, 1)


def tree_kcb(crop: Crop, cover_fraction, u2_ms: float, rh_min_pct: float, tmean_c: float,
             sin_noon_elevation=1.0) -> np.ndarray:
    """Kcb of a tree crop from its ground cover (Allen & Pereira 2009, eqs. 7-11).

    Kd = min(1, ML·fc_eff, fc_eff^(1/(1+h))) (eq. 8, fc_eff eq. 11; sin_noon_elevation = 1 takes the
    nadir cover as is); Kcb_full = Fr·(min(1 + 0.1h, 1.2) + [0.04(u2 − 2) − 0.004(RHmin − 45)](h/3)^0.3)
    (eq. 9), Fr from the leaf resistance rl (eq. 10); Kcb = Kc_min + Kd·(Kcb_full − Kc_min) (eq. 7).
    u2 in m/s, RHmin in %, h in m.
    """
    tree = crop.tree_cover
    h = crop.height_max_m
    fc = effective_cover(cover_fraction, sin_noon_elevation)
    kd = np.minimum(np.minimum(1.0, tree.ml * fc), fc ** (1 / (1 + h)))
    delta = 4098 * fao.saturation_vapour_pressure_kpa(tmean_c) / (tmean_c + 237.3) ** 2
    gamma = 0.665e-3 * fao.atmospheric_pressure_kpa(0.0)
    fr = (delta + gamma * (1 + 0.34 * u2_ms)) / (delta + gamma * (1 + 0.34 * u2_ms * tree.leaf_resistance_s_m / 100))
    u2, rh_min = np.clip(u2_ms, 1, 6), np.clip(rh_min_pct, 20, 80)
    full = fr * (min(1 + 0.1 * h, 1.2) + (0.04 * (u2 - 2) - 0.004 * (rh_min - 45)) * (h / 3) ** 0.3)
    return tree.kc_min + kd * (full - tree.kc_min)


@dataclass(frozen=True)
class KcbSeries:
    """Daily coefficient of one parcel, the observed ground cover (NaN where unobserved), the source
    label per day and whether the day's value is a single Kc (single-coefficient method)."""

    kcb: np.ndarray
    cover_fraction: np.ndarray
    source: np.ndarray
    single: np.ndarray


def _offset(day_index: np.ndarray, obs_index: np.ndarray, obs_offset: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(offset per day, label per day): 0 before the first flight, interpolated between flights,
    fading to 0 over EXTRAPOLATION_DAYS after the last one."""
    offset = np.interp(day_index, obs_index, obs_offset)
    after = day_index - obs_index[-1]
    fade = np.clip(1.0 - after / EXTRAPOLATION_DAYS, 0.0, 1.0)
    offset = np.where(day_index < obs_index[0], 0.0, np.where(after > 0, obs_offset[-1] * fade, offset))
    label = np.where(day_index < obs_index[0], "fao_table",
                     np.where(after <= 0, "ndvi", np.where(after < EXTRAPOLATION_DAYS, "ndvi_extrapolated",
                                                           "fao_table")))
    return offset, label.astype(object)


def parcel_kcb(crop: Crop, dates: pd.DatetimeIndex, sowing: pd.Timestamp, observations: pd.DataFrame | None,
               climate: dict[str, float]) -> KcbSeries:
    """Daily coefficient for one parcel over `dates` (see module docstring).

    Annual crops end with the FAO-56 late-season stage (Table 11 lengths from sowing): after it
    the parcel is harvested, the value is NaN and the balance no longer runs for it.

    observations: rows with 'date' and 'ndvi_mean' (and optionally 'crop_cover_fraction');
    climate: season means of 'u2_ms', 'rh_min_pct', 'tmean_c' and the latitude 'lat_deg' (tree crops).
    """
    day_index = (dates - dates[0]).days.to_numpy().astype(float)
    days_since_sowing = (dates - sowing).days.to_numpy()
    cycle_days = sum(crop.stage_days) if crop.kind != "tree" else np.inf
    harvested = days_since_sowing > cycle_days
    in_cycle = (days_since_sowing >= 0) & ~harvested
    source = np.where(days_since_sowing >= 0, "fao_table", "not_sown").astype(object)
    source[harvested] = "harvested"
    single_relation = crop.tree_cover is None and crop.ndvi_kcb.coefficient == "single"
    basal = np.where(in_cycle, table_kcb(crop, days_since_sowing), np.nan)
    cover = np.full(len(dates), np.nan)
    no_single = np.zeros(len(dates), dtype=bool)
    if observations is None or observations.empty:
        return KcbSeries(basal, cover, source, no_single)
    end = sowing + pd.Timedelta(days=cycle_days) if np.isfinite(cycle_days) else dates[-1]
    obs = observations[(observations["date"] >= max(sowing, dates[0])) & (observations["date"] <= min(end, dates[-1]))]
    obs = obs.dropna(subset=["ndvi_mean"]).sort_values("date")
    if obs.empty:
        return KcbSeries(basal, cover, source, no_single)
    obs_dates = pd.DatetimeIndex(obs["date"])
    obs_index = (obs_dates - dates[0]).days.to_numpy().astype(float)
    obs_days = (obs_dates - sowing).days.to_numpy()
    has_cover = "crop_cover_fraction" in obs and obs["crop_cover_fraction"].notna().all()
    if crop.tree_cover is not None:
        observed_cover = obs["crop_cover_fraction"].to_numpy() if has_cover else cover_from_ndvi(crop.tree_cover,
                                                                                                 obs["ndvi_mean"])
        sin_noon = noon_solar_elevation_sin(climate.get("lat_deg", 90.0), obs_dates.day_of_year.to_numpy()) \
            if "lat_deg" in climate else 1.0
        observed = tree_kcb(crop, observed_cover, climate["u2_ms"], climate["rh_min_pct"], climate["tmean_c"], sin_noon)
        table, table_at_obs = basal, table_kcb(crop, obs_days)
    else:
        observed_cover = obs["crop_cover_fraction"].to_numpy() if has_cover else None
        observed = ndvi_kcb(crop, obs["ndvi_mean"])
        curve = table_kc_single if single_relation else table_kcb
        table, table_at_obs = np.where(in_cycle, curve(crop, days_since_sowing), np.nan), curve(crop, obs_days)
    offset, label = _offset(day_index, obs_index, observed - table_at_obs)
    observed_days = in_cycle & (label != "fao_table")
    value = np.where(observed_days, np.clip(table + offset, 0, KCB_MAX), basal)
    if observed_cover is not None:
        cover = np.where(in_cycle & (day_index >= obs_index[0]) & (day_index <= obs_index[-1]),
                         np.interp(day_index, obs_index, observed_cover), np.nan)
    source = np.where(observed_days, label, source).astype(object)
    single = observed_days & single_relation
    return KcbSeries(np.where(in_cycle, value, np.nan), cover, source, single)
