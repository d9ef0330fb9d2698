"""Light-use-efficiency yield (Monteith 1977): biomass = Σ RUE · fAPAR · PAR · Ks, yield = HI · biomass.

- fAPAR from NDVI: fAPAR = 1.1638·NDVI − 0.1426 (Myneni & Williams 1994, Remote Sens. Environ.
  49:200-211), clipped to 0-0.95; NDVI daily: flights interpolated linearly, outside the flights
  the balance's Kcb inverted through the crop's NDVI-Kcb relation.
- PAR = 0.48 · Rs (MJ m-2 day-1; Szeicz 1974, J. Appl. Ecol. 11:617-636).
- RUE (g dry matter per MJ PAR) and harvest index per crop from configs/crops (with sources);
  water stress from the balance's Ks (FAO-56 eq. 84), which scales transpiration and so growth.
- Dry yield (t/ha) = HI · biomass (g/m²) / 100; fresh yield = dry / (1 − moisture fraction).
  1 t/ha = 10 qx/ha. p10-p90: independent log-normal errors of RUE (CV 15 %), HI (CV 10 %), fAPAR
  (CV 8 %) and of the projected part (below), their log-variances ln(1 + CV²) added; the estimate is
  the median, p10/p90 = estimate · exp(∓1.2816 σ). Closed form, so the band is a strictly monotone
  function of the projected share (a Monte Carlo band jitters by its sampling noise).
- Before harvest (annual crops, when the site is given): APAR is projected from the day after the
  balance to the end of the FAO-56 late season with the season's climatology — radiation = the
  clear-sky Rso of each day (FAO-56 eq. 37) × the mean Rs/Rso of the record so far, fAPAR from the
  FAO-56 stage curve inverted through the crop's NDVI relation, Ks = 1 (the plan followed). The
  projected part carries an extra uncertainty (CV `PROJECTION_CV`, an assumption to be replaced by
  the spread of past seasons), so the p10-p90 band narrows as the season advances and the
  projected share falls.
- Trees (olive, citrus): the harvest is made by the dry matter of the fruit-growth window, fruit set
  to harvest (`fruit_growth` in configs/crops, with its source), so APAR counts only the window's
  days; the harvest index is the fruit share of the window's dry matter. The window is the one whose
  harvest is next on the estimate date. Its days not in the record (after the estimate date, or
  before the balance began) are projected with the same climatological radiation and the canopy's
  fAPAR held at its mean NDVI of the last HOLD_DAYS days (an evergreen canopy changes little within
  a season; Ks = 1). Before fruit set the whole window is projected: the widest band.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from pipelines.core.config import load_crop

PAR_FRACTION = 0.48
RUE_CV, HI_CV, FAPAR_CV = 0.15, 0.10, 0.08
PROJECTION_CV = 0.25
Z90 = 1.2816
HOLD_DAYS = 30


def fapar_from_ndvi(ndvi) -> np.ndarray:
    """fAPAR (0-0.95) from NDVI: 1.1638·NDVI − 0.1426 (Myneni & Williams 1994), clipped."""
    return np.clip(1.1638 * np.asarray(ndvi, dtype=float) - 0.1426, 0.0, 0.95)


def daily_ndvi(balance: xr.Dataset, observations: pd.DataFrame | None) -> np.ndarray:
    """(parcel, date) NDVI: flights interpolated, else inverted from the balance's Kcb."""
    dates = pd.DatetimeIndex(balance.date.values)
    out = np.full((balance.sizes["parcel"], len(dates)), np.nan)
    by_parcel = dict(tuple(observations.groupby("parcel"))) if observations is not None and len(observations) else {}
    for k, (parcel, crop_id) in enumerate(zip(balance.parcel.values, balance["crop"].values)):
        relation = load_crop(crop_id).ndvi_kcb
        kcb = balance["kcb"].values[k]
        ndvi = np.clip((kcb - relation.intercept) / relation.slope, 0.0, 1.0)
        obs = by_parcel.get(parcel)
        if obs is not None:
            obs = obs.dropna(subset=["ndvi_mean"]).sort_values("date")
            obs = obs[(obs["date"] >= dates[0]) & (obs["date"] <= dates[-1])]
        if obs is not None and len(obs):
            x = (pd.DatetimeIndex(obs["date"]) - dates[0]).days.to_numpy()
            day = np.arange(len(dates))
            inside = (day >= x[0]) & (day <= x[-1])
            ndvi = np.where(inside, np.interp(day, x, obs["ndvi_mean"].to_numpy(float)), ndvi)
        out[k] = np.where(np.isnan(kcb), np.nan, ndvi)
    return out


def absorbed_par(balance: xr.Dataset, observations: pd.DataFrame | None, weather: pd.DataFrame) -> tuple[np.ndarray,
                                                                                                         np.ndarray]:
    """(APAR, stressed APAR) per parcel and day, MJ m-2 day-1."""
    solar = weather["solar_mj_m2"].reindex(pd.DatetimeIndex(balance.date.values)).to_numpy(float)
    apar = fapar_from_ndvi(daily_ndvi(balance, observations)) * PAR_FRACTION * solar[None, :]
    return apar, apar * balance["ks"].values


def climatological_solar_mj_m2(days: pd.DatetimeIndex, last: pd.Timestamp, weather: pd.DataFrame,
                               lat_deg: float, elevation_m: float) -> np.ndarray:
    """Rs of `days` from the season's climatology, MJ m-2 day-1: the clear-sky Rso of each day (FAO-56
    eq. 37) × the mean Rs/Rso of the record up to `last` (held to [0.3, 1.0], ASCE-EWRI 2005)."""
    from models.irrigation import et0 as fao

    record = weather.loc[:last, "solar_mj_m2"].dropna()
    ratio = float(np.clip((record / fao.clear_sky_radiation_mj_m2(lat_deg, record.index.day_of_year.to_numpy(),
                                                                    elevation_m)).mean(), 0.3, 1.0))
    return ratio * fao.clear_sky_radiation_mj_m2(lat_deg, days.day_of_year.to_numpy(), elevation_m)


def fruit_growth_window(growth, on: pd.Timestamp) -> tuple[pd.Timestamp, pd.Timestamp]:
    """(fruit set, harvest), inclusive, of the fruit-growth window whose harvest is next on the day `on`
    (`growth`: configs/crops `fruit_growth`, MM-DD; an end before the start falls in the following year)."""
    crosses = growth.end < growth.start
    for year in (on.year - 1, on.year, on.year + 1):
        start, end = pd.Timestamp(f"{year}-{growth.start}"), pd.Timestamp(f"{year + crosses}-{growth.end}")
        if end >= on:
            return start, end
    raise AssertionError("unreachable: next year's window always ends after `on`")


def tree_window_apar_mj_m2(crop, dates: pd.DatetimeIndex, stressed: np.ndarray, ndvi: np.ndarray,
                           weather: pd.DataFrame, site: tuple[float, float] | None) -> tuple[float, float,
                                                                                            pd.Timestamp]:
    """(recorded stressed APAR in the window, projected APAR of its unrecorded days, harvest date), MJ/m².

    `stressed` and `ndvi` are the parcel's daily rows over `dates`; without `site` nothing is projected.
    """
    start, harvest = fruit_growth_window(crop.fruit_growth, dates[-1])
    inside = (dates >= start) & (dates <= harvest)
    recorded = float(np.nansum(np.where(inside, stressed, 0.0)))
    if site is None:
        return recorded, 0.0, harvest
    window = pd.date_range(start, harvest)
    unrecorded = window[(window < dates[0]) | (window > dates[-1])]
    if not len(unrecorded):
        return recorded, 0.0, harvest
    held = float(np.nanmean(ndvi[-HOLD_DAYS:]))
    solar = climatological_solar_mj_m2(unrecorded, dates[-1], weather, *site)
    return recorded, float(np.sum(fapar_from_ndvi(held) * PAR_FRACTION * solar)), harvest


def projected_apar_mj_m2(crop, sowing: pd.Timestamp, last: pd.Timestamp, weather: pd.DataFrame,
                         lat_deg: float, elevation_m: float) -> tuple[float, pd.Timestamp | None]:
    """(APAR from the day after `last` to the end of the late season, MJ/m²; that harvest date), see module doc."""
    from models.irrigation.kcb import table_kc_single, table_kcb

    if crop.kind == "tree":
        return 0.0, None
    harvest = sowing + pd.Timedelta(days=sum(crop.stage_days))
    days = pd.date_range(last + pd.Timedelta(days=1), harvest)
    if not len(days):
        return 0.0, harvest
    solar = climatological_solar_mj_m2(days, last, weather, lat_deg, elevation_m)
    relation = crop.ndvi_kcb
    curve = table_kc_single if relation.coefficient == "single" else table_kcb
    ndvi = np.clip((curve(crop, (days - sowing).days.to_numpy()) - relation.intercept) / relation.slope, 0.0, 1.0)
    return float(np.sum(fapar_from_ndvi(ndvi) * PAR_FRACTION * solar)), harvest


def band_factors(projected_share: float) -> tuple[float, float]:
    """(p10, p90) as fractions of the estimate for a projected share of APAR (0-1), see the module docstring."""
    cvs = np.array([RUE_CV, HI_CV, FAPAR_CV, projected_share * PROJECTION_CV])
    sigma = float(np.sqrt(np.sum(np.log1p(cvs ** 2))))
    return float(np.exp(-Z90 * sigma)), float(np.exp(Z90 * sigma))


def lue_yield(balance: xr.Dataset, observations: pd.DataFrame | None, weather: pd.DataFrame,
              site: tuple[float, float] | None = None) -> pd.DataFrame:
    """Per parcel: biomass_t_ha, yield_t_ha (fresh, marketable) with p10/p90, model 'lue'; with `site`
    (latitude °, elevation m) the crop is projected to harvest (apar_projected_mj_m2, harvest_date); trees
    count their fruit-growth window only (see the module docstring)."""
    _, stressed = absorbed_par(balance, observations, weather)
    ndvi = daily_ndvi(balance, observations)
    rows = []
    dates = pd.DatetimeIndex(balance.date.values)
    last = dates[-1]
    for k, (parcel, crop_id) in enumerate(zip(balance.parcel.values, balance["crop"].values)):
        crop = load_crop(crop_id)
        apar_mj_m2 = float(np.nansum(stressed[k]))
        projected, harvest = 0.0, None
        if crop.kind == "tree":
            apar_mj_m2, projected, harvest = tree_window_apar_mj_m2(crop, dates, stressed[k], ndvi[k], weather, site)
        elif site is not None and "sowing_date" in balance:
            sowing = pd.Timestamp(balance["sowing_date"].values[k])
            projected, harvest = projected_apar_mj_m2(crop, sowing, last, weather, *site)
        share = projected / (apar_mj_m2 + projected) if apar_mj_m2 + projected > 0 else 0.0
        biomass_g_m2 = crop.rue_g_mj * (apar_mj_m2 + projected)
        fresh = 1.0 / (1.0 - crop.yield_moisture_fraction)
        central = crop.harvest_index * biomass_g_m2 / 100 * fresh
        low, high = band_factors(share)
        rows.append({"parcel": parcel, "crop": crop_id, "model": "lue", "biomass_t_ha": biomass_g_m2 / 100,
                     "apar_mj_m2": apar_mj_m2, "apar_projected_mj_m2": projected, "projected_share": share,
                     "harvest_date": harvest, "yield_t_ha": central,
                     "yield_p10_t_ha": low * central, "yield_p90_t_ha": high * central})
    return pd.DataFrame(rows)
