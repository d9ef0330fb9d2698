"""`saqi irrigation et0 WEATHER.csv --lat DEG --elev M` and
`saqi irrigation plan --farm FARM --date YYYY-MM-DD [--zones]`."""
from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
from pathlib import Path


def _et0(args: argparse.Namespace) -> int:
    from models.irrigation.et0 import reference_et_mm
    from models.irrigation.weather import read_weather

    weather = read_weather(args.weather, args.lat)
    et0 = reference_et_mm(weather, args.lat, args.elev).round(2)
    et0.index = et0.index.strftime("%Y-%m-%d")
    et0.to_csv(sys.stdout, header=True, index_label="date")
    return 0


def _plan(args: argparse.Namespace) -> int:
    import pandas as pd

    from models.irrigation.farm_plan import farm_plan
    from pipelines.core.config import load_farm

    forecast = args.forecast or load_farm(args.farm).path("forecast.csv")
    columns = ["parcel", "crop", "irrigation_method", "irrigate_today", "depth_mm", "volume_m3", "next_irrigation_date",
               "depletion_mm", "raw_mm", "taw_mm", "ks", "stress", "kcb", "kcb_source", "outlook_etc_mm",
               "outlook_rain_mm", "outlook_source", "notes"]
    if args.zones:
        from models.irrigation.zone_plan import zone_plan

        plan, _, note = zone_plan(args.farm, args.date, args.data_root, forecast)
        columns[1:1] = ["zone", "area_m2"]
        columns.insert(columns.index("kcb_source") + 1, "depletion_spread_mm")
    else:
        plan, _, note = farm_plan(args.farm, args.date, args.data_root, forecast)
    print(f"# {args.farm} irrigation plan{' per management zone' if args.zones else ''} for {args.date}: {note}")
    with pd.option_context("display.width", 250, "display.max_columns", None, "display.max_colwidth", 60):
        print(plan[columns].to_string(index=False))
    return 0


def register(subparsers) -> None:
    irrigation = subparsers.add_parser("irrigation", help="FAO-56 reference ET and the daily irrigation plan")
    actions = irrigation.add_subparsers(dest="action", required=True)
    et0 = actions.add_parser("et0", help="print date,et0_mm (FAO-56 Penman-Monteith, Hargreaves fallback) as CSV")
    et0.add_argument("weather", type=Path,
                     help="daily station CSV (date, tmin_c, tmax_c, ... see models/irrigation/weather.py)")
    et0.add_argument("--lat", type=float, required=True, help="station latitude in degrees (north positive)")
    et0.add_argument("--elev", type=float, required=True, help="station elevation in m")
    et0.set_defaults(handler=_et0)
    plan = actions.add_parser("plan", help="print today's irrigation plan of every parcel of a farm")
    plan.add_argument("--farm", required=True, help="farm id in configs/farms")
    plan.add_argument("--date", type=dt.date.fromisoformat, required=True, help="plan date YYYY-MM-DD")
    plan.add_argument("--data-root", type=Path, default=Path(os.environ.get("SAQI_DATA_ROOT", "data")),
                      help="folder holding <farm>.zarr (default: $SAQI_DATA_ROOT or ./data)")
    plan.add_argument("--forecast", type=Path,
                      help="daily forecast CSV, same columns as the weather (default: <farm>/forecast.csv if present)")
    plan.add_argument("--zones", action="store_true",
                      help="one row per management zone of the latest zoned flight "
                           "(falls back to parcels without zones)")
    plan.set_defaults(handler=_plan)
