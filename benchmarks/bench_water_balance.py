"""A season's FAO-56 water balance for 1 000 parcels: vectorised NumPy vs looping pyfao56.

Weather is the sample farm's (configs/farms/chtouka/weather.csv, 273 days). Parcels are the
farm's non-citrus parcels repeated with shifted sowing dates (pyfao56 cannot run citrus' stage
curve without an observed cover: Kcb below Kcb_ini, see models/irrigation/reference.py), each
with two recorded irrigations. pyfao56 runs on a sample of parcels in the same process; its
time per parcel is multiplied by the parcel count (stated in the case), and both results are
compared on that sample (max abs ΔDr in mm). The full run is measured with the Kcb preparation
included (season_balance) and the balance loop alone (water_balance).
"""
from __future__ import annotations

import time

import numpy as np
import pandas as pd

from models.irrigation.balance import water_balance
from models.irrigation.et0 import reference_et_mm
from models.irrigation.farm_plan import parcel_table
from models.irrigation.reference import pyfao56_parcel
from models.irrigation.season import prepare_balance
from models.irrigation.weather import read_weather
from pipelines.core.config import load_farm

TARGET = 100.0


def _inputs(n_parcels: int):
    farm = load_farm("chtouka")
    weather = read_weather(farm.path(farm.weather), farm.location.lat_deg)
    et0 = reference_et_mm(weather, farm.location.lat_deg, farm.location.elevation_m)
    base = parcel_table(farm)
    base = base[base["crop"] != "citrus"].reset_index(drop=True)
    rows = base.iloc[np.arange(n_parcels) % len(base)].reset_index(drop=True)
    shift = pd.to_timedelta(np.arange(n_parcels) // len(base) % 20, unit="D")
    rows["sowing_date"] = (pd.to_datetime(rows["sowing_date"]) + shift).clip(upper=pd.Timestamp("2026-02-01"))
    rows["sowing_date"] = rows["sowing_date"].where(rows["crop"] != "olive", farm.season.start)
    rows["parcel"] = [f"B{i:04d}" for i in range(n_parcels)]
    events = pd.DataFrame({"date": np.repeat(pd.to_datetime(["2026-03-01", "2026-04-10"]), n_parcels),
                           "parcel": np.tile(rows["parcel"], 2), "depth_mm": 35.0})
    return farm, rows, weather, et0, events


def _best_of(repeats: int, fn):
    best, result = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def run(quick: bool = False) -> list[dict]:
    n_parcels, n_sample = (40, 2) if quick else (1000, 12)
    farm, parcels, weather, et0, events = _inputs(n_parcels)
    season = (farm.season.start, farm.season.end)
    prep = lambda: prepare_balance(parcels, weather, et0, *season, None, events)  # noqa: E731
    full_s, prepared = _best_of(1 if quick else 3, prep)
    loop_s, result = _best_of(1 if quick else 3, lambda: water_balance(prepared.inputs))
    full_s += loop_s
    sample = np.linspace(0, n_parcels - 1, n_sample).astype(int)
    start = time.perf_counter()
    worst = 0.0
    for k in sample:
        peer = pyfao56_parcel(prepared, int(k))
        first = len(prepared.dates) - len(peer)
        worst = max(worst, float(np.max(np.abs(result["depletion_mm"][k, first:] - peer["Dr"].to_numpy(float)))))
    pyfao56_s = (time.perf_counter() - start) / n_sample * n_parcels
    rows = []
    for case, figure in (("season_balance (Kcb prep + balance)", full_s), ("water_balance loop only", loop_s)):
        ratio = pyfao56_s / figure
        rows.append({"benchmark": "water_balance",
                     "case": f"{n_parcels} parcels × {len(prepared.dates)} days, {case}; "
                             f"max abs ΔDr vs pyfao56 {worst:.4f} mm",
                     "figure": figure, "unit": "s",
                     "baseline": f"pyfao56.Model, {n_sample} parcels timed × {n_parcels / n_sample:.1f}",
                     "baseline_figure": pyfao56_s, "ratio": ratio, "target": f"≥ {TARGET:.0f}× and abs ΔDr < 0.1 mm",
                     "met": bool(ratio >= TARGET and worst < 0.1)})
    return rows
