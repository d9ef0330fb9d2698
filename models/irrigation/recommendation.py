"""Today's irrigation plan per parcel from the season balance (FAO-56 ch. 8, 'Irrigation scheduling').

Irrigate when the root-zone depletion at the end of the day reaches the readily available
water (Dr ≥ RAW, FAO-56 eq. 83-84); the net depth refills the root zone to field capacity
(net = Dr), the gross depth divides by the method's application efficiency, and the volume is
gross depth × parcel area (1 mm on 1 m² = 1 L). The next irrigation date projects the depletion
forward with today's Kc and the forecast ET0 and rain (or, without a forecast, the mean ET0 of
the last 7 days and no rain) until Dr reaches RAW.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from pipelines.core.errors import InputDataError

OUTLOOK_DAYS = 7
HORIZON_DAYS = 60


def _projection(depletion: np.ndarray, kc: np.ndarray, et0: np.ndarray, rain: np.ndarray) -> np.ndarray:
    """Projected end-of-day depletion (P, days) without irrigation: Dr += Kc·ET0 − rain, floored at 0."""
    drain = np.outer(kc, et0) - rain[None, :]
    path = np.empty_like(drain)
    level = depletion.copy()
    for d in range(drain.shape[1]):
        level = np.maximum(level + drain[:, d], 0.0)
        path[:, d] = level
    return path


def recommend(balance: xr.Dataset, date, forecast: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per parcel: irrigate_today, depth_mm (gross), volume_m3, next_irrigation_date, outlook.

    balance: `season_balance` output covering `date`. forecast: daily table indexed by date with
    `et0_mm` and `rain_mm` for the days after `date` (from `read_weather` + `reference_et_mm`).
    """
    day = pd.Timestamp(date)
    if day not in balance.indexes["date"]:
        raise InputDataError("balance",
                             f"the balance has no day {day.date()} (it covers {balance.date.values[0]!s:.10} to "
                                        f"{balance.date.values[-1]!s:.10})",
                             "extend the weather and the balance to the plan date")
    today = balance.sel(date=day)
    dr, raw, taw = today["depletion_mm"].values, today["raw_mm"].values, today["taw_mm"].values
    sown = ~np.isnan(dr)
    dr0, raw0 = np.nan_to_num(dr), np.nan_to_num(raw)
    irrigate = sown & (dr0 >= raw0)
    net = np.where(irrigate, dr0, 0.0)
    gross = net / balance["efficiency"].values
    ks_end = np.clip((taw - dr) / (taw - raw), 0, 1)
    future = pd.date_range(day + pd.Timedelta(days=1), periods=HORIZON_DAYS, freq="D")
    recent_et0 = float(balance["et0_mm"].sel(date=slice(day - pd.Timedelta(days=6), day)).mean())
    et0 = np.full(HORIZON_DAYS, recent_et0)
    rain = np.zeros(HORIZON_DAYS)
    outlook_source = "recent_et0_no_rain"
    if forecast is not None and len(forecast):
        known = forecast.reindex(future)
        n = int(known["et0_mm"].notna().cumprod().sum())
        et0[:n], rain[:n] = known["et0_mm"].values[:n], known["rain_mm"].fillna(0).values[:n]
        outlook_source = f"forecast ({n} days)" if n >= OUTLOOK_DAYS else f"forecast ({n} days) + recent ET0"
    kc = np.nan_to_num(today["kc"].values)
    path = _projection(np.where(irrigate, 0.0, dr0), kc, et0, rain)
    reached = path >= raw0[:, None]
    first = np.where(reached.any(axis=1), reached.argmax(axis=1), -1)
    next_date = [day if irrigate[k] else (future[first[k]] if first[k] >= 0 and sown[k] else pd.NaT)
                 for k in range(len(dr))]
    week = slice(0, OUTLOOK_DAYS)
    notes = [("not sown yet" if not sown[k] else "") + ("; " if not sown[k] and f else "") + f
             for k, f in enumerate(balance["parcel_flags"].values)]
    return pd.DataFrame({
        "parcel": balance.parcel.values, "crop": balance["crop"].values,
        "irrigation_method": balance["irrigation_method"].values,
        "irrigate_today": irrigate, "depth_mm": np.round(gross, 1), "net_depth_mm": np.round(net, 1),
        "volume_m3": np.round(gross / 1000 * balance["area_m2"].values, 1), "next_irrigation_date": next_date,
        "depletion_mm": np.round(dr, 1), "raw_mm": np.round(raw, 1), "taw_mm": np.round(taw, 1),
        "ks": np.round(ks_end, 3), "stress": sown & (ks_end < 1), "kcb": np.round(today["kcb"].values, 3),
        "kcb_source": today["kcb_source"].values, "etc_mm": np.round(today["etc_mm"].values, 2),
        "outlook_etc_mm": np.round(kc * et0[week].sum(), 1),
        "outlook_rain_mm": np.round(np.full(len(dr), rain[week].sum()), 1),
        "outlook_depletion_mm": np.round(np.where(sown, path[:, OUTLOOK_DAYS - 1], np.nan), 1),
        "outlook_source": outlook_source, "notes": notes})
