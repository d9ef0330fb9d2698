"""Write the sample farm's season weather and irrigation records (committed data, deterministic).

`python scripts/make_weather.py` writes `configs/farms/chtouka/weather.csv` (daily, 2025-10-01 to
2026-06-30) and `irrigation_events.csv`. The climate is Agadir-Al Massira's (WMO 60252) normals
rounded: winter Tmin 7-9 °C / Tmax 20-22 °C, June Tmax 26-28 °C, coastal humidity, 2-4 m/s wind
at 2 m, about 225 mm of rain from November to March in a few events. Solar radiation is drawn as
a fraction of clear-sky radiation Rso = (0.75 + 2e-5 z) Ra (FAO-56 eq. 37) and kept within
[0.25, 0.75]·Ra, with Ra the extraterrestrial radiation of FAO-56 eq. 21 (computed by `refet`).
"""
from __future__ import annotations

import csv
import datetime as dt
import math
from pathlib import Path

import numpy as np
from refet.calcs import ra_daily

from pipelines.core.config import load_crop, load_farm

FARM = "chtouka"
SEED = 20251001
# Mid-month normals, Oct..Jun: Tmin, Tmax (°C), RHmin, RHmax (%), wind at 2 m (m/s), rain-day probability.
NORMALS = np.array([
    [15.0, 26.0, 52, 86, 2.6, 0.04],
    [11.5, 23.5, 55, 88, 2.4, 0.14],
    [8.5, 21.6, 56, 90, 2.3, 0.16],
    [7.8, 21.3, 57, 90, 2.4, 0.15],
    [9.0, 21.5, 56, 89, 2.7, 0.13],
    [11.0, 23.0, 55, 88, 3.1, 0.10],
    [12.5, 23.5, 56, 87, 3.4, 0.03],
    [14.5, 24.5, 58, 88, 3.5, 0.01],
    [16.5, 26.5, 60, 89, 3.3, 0.0],
])
MONTHLY_RAIN_MM = {10: 12.0, 11: 45.0, 12: 55.0, 1: 50.0, 2: 40.0, 3: 35.0, 4: 8.0, 5: 2.0, 6: 0.0}
"""Rain per month (mm): ~225 mm November-March as in Agadir's normals, almost none after April."""
IRRIGATION = {"surface": ((10, 15), (30.0, 50.0)), "sprinkler": ((7, 10), (20.0, 30.0))}
"""Interval between irrigations (days) and applied depth (mm) by method; drip is not recorded."""


def _months(days: list[dt.date]) -> np.ndarray:
    """Fractional month index (0 = mid-October) of each day, for interpolating the normals."""
    start = dt.date(2025, 10, 15)
    return np.array([(d - start).days / 30.44 for d in days])


def weather(farm_lat_deg: float, elevation_m: float, start: dt.date, end: dt.date) -> list[dict]:
    rng = np.random.default_rng(SEED)
    days = [start + dt.timedelta(n) for n in range((end - start).days + 1)]
    month = _months(days)
    normal = np.stack([np.interp(month, np.arange(len(NORMALS)), NORMALS[:, k]) for k in range(NORMALS.shape[1])])
    rain_day = rng.random(len(days)) < normal[5]
    months = np.array([d.month for d in days])
    for number, total in MONTHLY_RAIN_MM.items():
        in_month = np.flatnonzero(months == number)
        if total and in_month.size and not rain_day[in_month].any():
            rain_day[rng.choice(in_month, 2, replace=False)] = True
        if not total:
            rain_day[in_month] = False
    rain = np.where(rain_day, rng.gamma(0.8, 12.0, len(days)), 0.0)
    for number, total in MONTHLY_RAIN_MM.items():
        in_month = months == number
        if rain[in_month].sum() > 0:
            rain[in_month] *= total / rain[in_month].sum()
    anomaly = np.convolve(rng.standard_normal(len(days)), np.ones(4) / 2, mode="same")
    tmin = normal[0] + 1.2 * anomaly + 1.0 * rain_day
    tmax = np.maximum(normal[1] + 1.8 * anomaly - 2.5 * rain_day + rng.normal(0, 0.8, len(days)), tmin + 4.0)
    rh_max = np.clip(normal[3] + rng.normal(0, 3, len(days)) + 5 * rain_day, 60, 100)
    rh_min = np.clip(normal[2] + rng.normal(0, 6, len(days)) + 20 * rain_day, 20, rh_max - 10)
    wind = np.clip(normal[4] * rng.lognormal(0, 0.25, len(days)), 0.8, 8.0)
    doy = np.array([d.timetuple().tm_yday for d in days])
    ra = ra_daily(math.radians(farm_lat_deg), doy, method="asce")
    clear_sky = (0.75 + 2e-5 * elevation_m) * ra
    sunshine = np.where(rain_day, rng.uniform(0.35, 0.6, len(days)), rng.uniform(0.72, 0.97, len(days)))
    solar = np.clip(clear_sky * sunshine, 0.25 * ra, 0.75 * ra)
    return [{"date": d.isoformat(), "tmin_c": round(float(tmin[i]), 1), "tmax_c": round(float(tmax[i]), 1),
             "rh_min_pct": round(float(rh_min[i])), "rh_max_pct": round(float(rh_max[i])),
             "wind_ms": round(float(wind[i]), 1), "wind_height_m": 2.0,
             "solar_mj_m2": math.floor(float(solar[i]) * 100) / 100, "rain_mm": round(float(rain[i]), 1)}
            for i, d in enumerate(days)]


def irrigation_events(parcels: list[dict], rain_mm: dict[str, float], end: dt.date) -> list[dict]:
    """Recorded irrigations of surface and sprinkler parcels from sowing to two weeks before maturity.

    An irrigation falling within three days after 10 mm or more of rain is postponed by a week.
    """
    rng = np.random.default_rng(SEED + 1)
    events = []
    for parcel in parcels:
        method = parcel["irrigation_method"]
        if method not in IRRIGATION:
            continue
        (low_days, high_days), (low_mm, high_mm) = IRRIGATION[method]
        crop = load_crop(parcel["crop"])
        sowing = dt.date.fromisoformat(parcel["sowing_date"])
        last = min(sowing + dt.timedelta(sum(crop.stage_days) - 14), end)
        day = sowing
        while day <= last:
            recent = sum(rain_mm.get((day - dt.timedelta(k)).isoformat(), 0.0) for k in range(4))
            if recent >= 10.0:
                day += dt.timedelta(7)
                continue
            events.append({"date": day.isoformat(), "parcel": parcel["id"],
                           "depth_mm": round(float(rng.uniform(low_mm, high_mm)))})
            day += dt.timedelta(int(rng.integers(low_days, high_days + 1)))
    return sorted(events, key=lambda e: (e["date"], e["parcel"]))


def _write(path: Path, rows: list[dict]) -> None:
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def main() -> None:
    import json

    farm = load_farm(FARM)
    days = weather(farm.location.lat_deg, farm.location.elevation_m, farm.season.start, farm.season.end)
    _write(farm.path(farm.weather), days)
    features = json.loads(farm.path(farm.parcels).read_text(encoding="utf-8"))["features"]
    rain = {row["date"]: row["rain_mm"] for row in days}
    _write(farm.path(farm.irrigation_events),
           irrigation_events([f["properties"] for f in features], rain, farm.season.end))


if __name__ == "__main__":
    main()
