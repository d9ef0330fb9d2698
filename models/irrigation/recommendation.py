"""Today's irrigation plan per parcel from the season balance, by irrigation method.

- Localized (drip, micro): high-frequency replacement (FAO-56 ch. 8 'Localized irrigation'; Keller &
  Bliesner 1990 ch. 17): on the days of the parcel's interval (1-3 days, counted from the crop's
  first day) the net depth replaces what the wetted soil lost since the last event, i.e. the
  depletion at the end of the previous day (ETc minus effective rain, floored at field capacity).
- Sprinkler and surface: irrigate when the root-zone depletion at the end of the day reaches the
  readily available water (Dr ≥ RAW, FAO-56 eqs. 83-84) and refill to field capacity (net = Dr),
  at most the largest gross depth one event applies.
- Gross = net / f with f = Ea · DU, or (1 − LR) · DU when the leaching requirement exceeds the
  application losses (`salinity.gross_factor`); the leaching share is LR × gross. Volume (m³) =
  gross (mm) × area (m²) / 1000; litres per plant = gross × plant area (1 mm on 1 m² = 1 L); run
  time = gross / application rate, split into pulses (`localized.run_time`).
- Next date: the next day of the interval (localized) or the day the projected depletion reaches
  RAW, projecting with today's Kc and the forecast ET0 and effective rain (0 below 0.2·ET0, as the
  balance counts measured rain; FAO-56 ch. 7 p. 151) or, without a forecast, the mean ET0 of the
  last 7 days and no rain; `next_depth_mm` is the gross depth projected for it.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from models.irrigation.localized import run_time
from models.irrigation.season import RAIN_MIN_FRACTION_ET0, BalanceView
from pipelines.core.errors import InputDataError

OUTLOOK_DAYS = 7
HORIZON_DAYS = 60


def _projection(depletion: np.ndarray, kc: np.ndarray, et0: np.ndarray, rain: np.ndarray) -> np.ndarray:
    """Projected end-of-day depletion (P, days) without irrigation: Dr += Kc·ET0 − rain, floored at 0.
    rain: (days,) or (P, days) mm."""
    drain = np.outer(kc, et0) - (rain if rain.ndim == 2 else rain[None, :])
    path = np.empty_like(drain)
    level = depletion.copy()
    for d in range(drain.shape[1]):
        level = np.maximum(level + drain[:, d], 0.0)
        path[:, d] = level
    return path


def _outlook(balance: BalanceView, day: pd.Timestamp, forecast: pd.DataFrame | None) -> tuple[np.ndarray, np.ndarray,
                                                                                              str]:
    future = pd.date_range(day + pd.Timedelta(days=1), periods=HORIZON_DAYS, freq="D")
    dates = balance.dates  # the mean of the last 7 days (label slice day-6..day), NaN skipped as xarray's mean
    week = slice(dates.searchsorted(day - pd.Timedelta(days=6)), dates.searchsorted(day, side="right"))
    recent_et0 = float(np.nanmean(balance["et0_mm"][week]))
    et0, rain = np.full(HORIZON_DAYS, recent_et0), np.zeros(HORIZON_DAYS)
    source = "recent_et0_no_rain"
    if forecast is not None and len(forecast):
        known = forecast.reindex(future)
        n = int(known["et0_mm"].notna().cumprod().sum())
        et0[:n], rain[:n] = known["et0_mm"].values[:n], known["rain_mm"].fillna(0).values[:n]
        source = f"forecast ({n} days)" if n >= OUTLOOK_DAYS else f"forecast ({n} days) + recent ET0"
    # forecast rain counts as the balance counts measured rain: 0 below 0.2·ET0 (FAO-56 ch. 7, p. 151)
    rain = np.where(rain >= RAIN_MIN_FRACTION_ET0 * et0, rain, 0.0)
    return et0, rain, source


def _status(balance: BalanceView, position: int) -> np.ndarray:
    source = balance["kcb_source"][:, position].astype(str)
    return np.where(source == "not_sown", "not sown yet", np.where(source == "harvested", "harvested", ""))


def recommend(balance: xr.Dataset | BalanceView, date, forecast: pd.DataFrame | None = None) -> pd.DataFrame:
    """`recommend_columns` as a DataFrame (one row per parcel)."""
    return pd.DataFrame(recommend_columns(balance, date, forecast))


def recommend_columns(balance: xr.Dataset | BalanceView, date, forecast: pd.DataFrame | None = None) -> dict:
    """One row per parcel: irrigate_today, net/gross depth (mm), leaching share, volume (m³), litres
    per plant, run time (h) in pulses, interval, next date and depth, and the balance's state.

    balance: `season_balance` output covering `date` (or a `BalanceView` of it). forecast: daily
    table indexed by date with `et0_mm` and `rain_mm` for the days after `date` (from `read_weather`
    + `reference_et_mm`).
    """
    day = pd.Timestamp(date)
    balance = balance if isinstance(balance, BalanceView) else BalanceView.of(balance)
    dates = balance.dates
    if day not in dates:
        raise InputDataError("balance",
                             f"the balance has no day {day.date()} (it covers {dates.values[0]!s:.10} to "
                                        f"{dates.values[-1]!s:.10})",
                                        "extend the weather and the balance to the plan date")
    position = int(dates.get_loc(day))
    today = {name: balance[name][:, position] for name in ("depletion_mm", "raw_mm", "taw_mm", "kc", "kcb",
                                                           "kcb_source", "etc_mm")}
    dr, raw, taw = today["depletion_mm"], today["raw_mm"], today["taw_mm"]
    status = _status(balance, position)
    in_crop = ~np.isnan(dr)
    dr0, raw0 = np.nan_to_num(dr), np.nan_to_num(raw)
    yesterday = balance["depletion_mm"][:, position - 1] if position > 0 else np.full(len(dr), np.nan)
    interval = balance["interval_days"].astype(int)
    localized = interval > 0
    kcb_days = balance["kcb"][:, : position + 1]
    crop_day = np.where(in_crop, np.isfinite(kcb_days).sum(axis=1) - 1, -1)
    scheduled = localized & in_crop & (crop_day % np.maximum(interval, 1) == 0)
    start_depletion = np.nan_to_num(np.where(np.isnan(yesterday), dr, yesterday))
    efficiency, lr = balance["efficiency"], balance["leaching_requirement"].astype(float)
    max_gross = balance["max_gross_mm"].astype(float)
    at_raw = ~localized & in_crop & (dr0 >= raw0) & (dr0 > 0)
    irrigate = (scheduled & (start_depletion > 0)) | at_raw
    net = np.where(scheduled, start_depletion, np.where(at_raw, dr0, 0.0))
    gross = np.where(irrigate, np.minimum(net / efficiency, max_gross), 0.0)
    net = gross * efficiency
    ks_end = np.clip((taw - dr) / (taw - raw), 0, 1)
    et0, rain, outlook_source = _outlook(balance, day, forecast)
    kc = np.nan_to_num(today["kc"])
    factor = balance["et0_factor"].astype(float)
    after = np.where(at_raw, np.maximum(dr0 - net, 0.0), dr0)
    path = _projection(after, kc * factor, et0, np.outer(factor == 1.0, rain))
    reached = path >= raw0[:, None]
    first = np.where(reached.any(axis=1), reached.argmax(axis=1), -1)
    rotation = balance["rotation_days"].astype(int)
    until_next = np.where(crop_day >= 0, interval - crop_day % np.maximum(interval, 1), 0)
    raw_next = np.where(first >= 0, np.maximum(first + 1, np.where(irrigate, rotation, 0)), -1)
    next_offset = np.where(localized, until_next, raw_next)
    future = pd.date_range(day, periods=HORIZON_DAYS + 1, freq="D")
    valid = in_crop & (next_offset > 0) & (next_offset <= HORIZON_DAYS)
    next_date = [future[int(o)] if ok else pd.NaT for o, ok in zip(next_offset, valid)]
    rows = np.arange(len(dr))
    before_next = np.clip(next_offset - np.where(localized, 2, 1), -1, HORIZON_DAYS - 1)
    next_net = np.where(before_next >= 0, path[rows, np.maximum(before_next, 0)], dr0)
    next_gross = np.where(valid, np.minimum(next_net / efficiency, max_gross), np.nan)
    rate = balance["application_rate_mm_h"].astype(float)
    plant_area = balance["plant_area_m2"].astype(float)
    hours, pulses, per_pulse = run_time(gross, rate, balance["max_pulse_h"].astype(float))
    area = balance["area_m2"]
    week = slice(0, OUTLOOK_DAYS)
    notes = ["; ".join(filter(None, [s, f])) for s, f in zip(status, balance["parcel_flags"])]
    return {
        "parcel": balance["parcel"], "sector": balance["sector"], "crop": balance["crop"],
        "irrigation_method": balance["irrigation_method"], "area_m2": np.round(area, 1),
        "irrigate_today": irrigate, "net_depth_mm": np.round(net, 1), "depth_mm": np.round(gross, 1),
        "leaching_fraction": np.round(lr, 3), "leaching_mm": np.round(gross * lr, 1),
        "volume_m3": np.round(gross / 1000 * area, 1),
        "litres_per_plant": np.round(gross * plant_area, 1),
        "run_time_h": np.round(hours, 2), "pulses": pulses, "pulse_h": np.round(per_pulse, 2),
        "interval_days": np.where(localized, interval, raw_next),
        "next_irrigation_date": next_date, "next_depth_mm": np.round(next_gross, 1),
        "next_litres_per_plant": np.round(next_gross * plant_area, 1),
        "next_run_time_h": np.round(np.where(rate > 0, next_gross / rate, np.nan), 2),
        "depletion_mm": np.round(dr, 1), "raw_mm": np.round(raw, 1), "taw_mm": np.round(taw, 1),
        "ks": np.round(ks_end * balance["ks_salinity"].astype(float), 3), "stress": in_crop & (ks_end < 1),
        "ks_salinity": np.round(balance["ks_salinity"].astype(float), 3),
        "ecw_ds_m": balance["ecw_ds_m"], "kcb": np.round(today["kcb"], 3),
        "kcb_source": today["kcb_source"], "etc_mm": np.round(today["etc_mm"], 2),
        "outlook_etc_mm": np.round(kc * factor * et0[week].sum(), 1),
        "outlook_rain_mm": np.round(np.full(len(dr), rain[week].sum()), 1),
        "outlook_depletion_mm": np.round(np.where(in_crop, path[:, OUTLOOK_DAYS - 1], np.nan), 1),
        "outlook_source": outlook_source, "status": status, "notes": notes}


def sector_plan(plan: pd.DataFrame) -> pd.DataFrame:
    """Per irrigation sector (one valve): parcels, area (m²), area-weighted net and gross depth (mm),
    volume (m³), the longest run time (h) and its pulses, the earliest next date."""
    frame = plan.assign(_w=plan["area_m2"].astype(float))
    rows = []
    for sector, group in frame.groupby("sector", sort=True):
        area = group["_w"].sum()
        rows.append({"sector": sector, "parcels": ",".join(group["parcel"]), "area_m2": round(area, 1),
                     "irrigate_today": bool(group["irrigate_today"].any()),
                     "net_depth_mm": round(float((group["net_depth_mm"] * group["_w"]).sum() / area), 1),
                     "depth_mm": round(float((group["depth_mm"] * group["_w"]).sum() / area), 1),
                     "volume_m3": round(float(group["volume_m3"].sum()), 1),
                     "run_time_h": group["run_time_h"].max(), "pulses": int(group["pulses"].max()),
                     "next_irrigation_date": pd.to_datetime(group["next_irrigation_date"]).min()})
    return pd.DataFrame(rows)
