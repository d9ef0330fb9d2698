"""`saqi irrigation et0 WEATHER.csv --lat DEG --elev M` and
`saqi irrigation plan --farm FARM --date YYYY-MM-DD [--zones] [-o PLAN.csv]`."""
from __future__ import annotations

import argparse
import datetime as dt
import math
import os
import sys
from pathlib import Path

from pipelines.cli import farm_argument


def bounded_float(low: float, high: float, what: str):
    """An argparse type: a finite number in low..high, else a usage error (exit 2) naming the value."""
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number ({what})") from None
        if not math.isfinite(value) or not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{text} is outside {low:g}..{high:g} ({what})")
        return value
    return parse


def _et0(args: argparse.Namespace) -> int:
    from models.irrigation.et0 import reference_et_mm
    from models.irrigation.weather import read_weather
    from pipelines.cli import warn

    weather = read_weather(args.weather, args.lat)
    for text in weather.attrs.get("warnings", []):
        warn(text)
    et0 = reference_et_mm(weather, args.lat, args.elev).round(2)
    et0.index = et0.index.strftime("%Y-%m-%d")
    et0.to_csv(sys.stdout, header=True, index_label="date")
    return 0


PLAN_COLUMNS = ["parcel", "sector", "crop", "irrigation_method", "irrigate_today", "net_depth_mm", "depth_mm",
                "leaching_mm", "volume_m3", "litres_per_plant", "run_time_h", "pulses", "pulse_h", "interval_days",
                "next_irrigation_date", "next_depth_mm", "depletion_mm", "raw_mm", "taw_mm", "ks", "stress", "kcb",
                "kcb_source", "quota_cut_m3", "quota_reason", "outlook_etc_mm", "outlook_rain_mm", "outlook_source",
                "notes"]
ZONE_COLUMNS = ["parcel", "zone", "area_m2", "zone_id", "sector", "crop", "irrigate_today", "net_depth_mm", "depth_mm",
                "leaching_mm", "volume_m3", "litres_per_plant", "run_time_h", "pulses", "next_irrigation_date",
                "depletion_mm",
                "raw_mm", "taw_mm", "ks", "stress", "kcb", "kcb_source", "depletion_spread_mm", "quota_cut_m3",
                "quota_reason", "outlook_source", "notes"]


def _plan(args: argparse.Namespace) -> int:
    import pandas as pd

    from models.irrigation.recommendation import sector_plan
    from pipelines.plans.farm_inputs import read_farm_plan

    plan, _, note = read_farm_plan(args.farm, args.date, args.data_root, args.landing_dir, args.forecast,
                                   zones=args.zones)
    columns = ZONE_COLUMNS if args.zones else PLAN_COLUMNS
    print(f"# {args.farm} irrigation plan{' per management zone' if args.zones else ''} for {args.date}: {note}")
    with pd.option_context("display.width", 250, "display.max_columns", None, "display.max_colwidth", 60):
        print(plan[columns].to_string(index=False))
        if not args.zones:
            print("# per irrigation sector")
            print(sector_plan(plan).to_string(index=False))
    if args.output:
        ordered = columns + [c for c in plan.columns if c not in columns]
        plan[ordered].to_csv(args.output, index=False, date_format="%Y-%m-%d")
        print(f"# plan written to {args.output}")
    return 0


def register(subparsers) -> None:
    irrigation = subparsers.add_parser("irrigation", help="FAO-56 reference ET and the daily irrigation plan")
    actions = irrigation.add_subparsers(dest="action", required=True)
    et0 = actions.add_parser("et0", help="print date,et0_mm (FAO-56 Penman-Monteith, Hargreaves fallback) as CSV")
    et0.add_argument("weather", type=Path,
                     help="daily station CSV (date, tmin_c, tmax_c, ... see models/irrigation/weather.py)")
    et0.add_argument("--lat", type=bounded_float(-90, 90, "latitude in degrees"), required=True,
                     help="station latitude in degrees (north positive)")
    et0.add_argument("--elev", type=bounded_float(-500, 6000, "elevation in m"), required=True,
                     help="station elevation in m")
    et0.set_defaults(handler=_et0)
    plan = actions.add_parser("plan", help="print today's irrigation plan of every parcel of a farm")
    plan.add_argument("--farm", required=True, type=farm_argument, help="farm id in configs/farms")
    plan.add_argument("--date", type=dt.date.fromisoformat, required=True, help="plan date YYYY-MM-DD")
    plan.add_argument("--data-root", type=Path, default=Path(os.environ.get("SAQI_DATA_ROOT", "data")),
                      help="folder holding <farm>.zarr (default: $SAQI_DATA_ROOT or ./data)")
    plan.add_argument("--forecast", type=Path,
                      help="daily forecast CSV, same columns as the weather (default: <landing>/<farm>/forecast.csv, "
                           "else configs/farms/<farm>/forecast.csv, if present)")
    plan.add_argument("--landing-dir", type=Path,
                      default=Path(os.environ.get("SAQI_LANDING_DIR", Path(os.environ.get("SAQI_DATA_ROOT",
                                                                                          "data")) / "landing")),
                      help="landing area holding <farm>/forecast.csv "
                           "(default: $SAQI_LANDING_DIR or <data root>/landing)")
    plan.add_argument("-o", "--output", type=Path,
                      help="also write the plan as CSV (printed columns first, then the rest)")
    plan.add_argument("--zones", action="store_true",
                      help="one row per management zone of the latest zoned flight "
                           "(falls back to parcels without zones)")
    plan.set_defaults(handler=_plan)
