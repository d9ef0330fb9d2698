"""Daily irrigation for each farm (partition: date × farm).

- `weather`: the station's daily record (Tmin/Tmax °C, RH %, wind m/s at 2 m, solar MJ/m²/day,
  rain mm) after unit checks, spike removal and flagged gap filling (FAO-56 fallbacks).
- `reference_et`: FAO-56 Penman–Monteith reference evapotranspiration ET0 (mm/day, Allen et al.
  1998 eq. 6), Hargreaves–Samani on days without radiation/humidity.
- `irrigation_plan`: the FAO-56 chapter 8 root-zone water balance from the season start to the
  day, with Kcb from the drone NDVI of every flight in the crop cycle (FAO stage tables before
  the first), scheduled by method: drip replaces the wetted soil's loss every 1-3 days, sprinkler
  and surface refill at RAW. Per parcel and sector: net and gross depth (mm), leaching share for
  saline water (FAO-29), volume (m³), litres per plant, run time (h) in pulses, the cut made by
  the farm's water allocation and why, next date and depth, depletion vs TAW/RAW (mm), Ks. The
  outlook uses `<landing>/<farm>/forecast.csv` when present. Store: `<farm>.zarr/recommendations`
  (parcel, date), one day's region per partition.

The three assets backfill a range of days in one run (`BackfillPolicy.single_run`: the daemon
groups a backfill's partitions per farm or per day): a farm's inputs are read once, the plan of
each day is the one a day-by-day run gives (the balance up to that day: one balance run over the
range, `season_range`), and the days' cells are written together, in one publication of the recommendations cube.

How to read it: drip sectors run the hours shown, in the pulses shown; Ks below 1 means the crop
already transpires less than it could (water or salt stress); a quota cut says where water was
taken and why (deficit-tolerant stage first, then the lowest-priority crop).
"""

import datetime as dt
import warnings

import dagster as dg
import pandas as pd

from assets._metadata import OWNERS, number, section, shown, table
from models.irrigation.et0 import reference_et_method, reference_et_mm
from models.irrigation.season import BalanceView
from models.irrigation.weather import read_weather
from pipelines.orchestration.partitions import farm_day, farm_days, farm_of_day
from pipelines.orchestration.resources import SaqiStorage
from pipelines.plans.farm_inputs import read_farm_plans
from pipelines.store import tables

ET0_MAX_MM = 15.0
PLAN_COLUMNS = ["parcel", "sector", "crop", "irrigation_method", "irrigate_today", "net_depth_mm", "depth_mm",
                "leaching_mm", "volume_m3", "litres_per_plant", "run_time_h", "pulses", "next_irrigation_date",
                "depletion_mm", "raw_mm", "taw_mm", "ks", "stress", "kcb", "kcb_source", "quota_cut_m3", "quota_reason"]


SINGLE_RUN = dg.BackfillPolicy.single_run()
# `backfill_policy` is beta in Dagster 1.13; tests/ops/test_ops_backfill_range.py guards its behaviour.
warnings.filterwarnings("ignore", message="Parameter `backfill_policy`", category=dg.BetaWarning)


def farm_day_ranges(partition_keys) -> dict[str, list[dt.date]]:
    """The run's (date × farm) partitions as farm -> sorted days (one key or a backfill's range)."""
    days: dict[str, list[dt.date]] = {}
    for key in partition_keys:
        farm, day = farm_day(farm_days.get_partition_key_from_str(str(key)))
        days.setdefault(farm, []).append(day)
    return {farm: sorted(found) for farm, found in sorted(days.items())}


def range_table(context: dg.AssetExecutionContext, visible: pd.DataFrame, caption: str) -> dict:
    """The day's plan table for a one-day run; for a backfilled range, a pointer to the cube instead:
    Dagster copies a ranged run's metadata into the event of every partition (27 300 copies for a
    cooperative's season), and the table would show only the range's last day."""
    if len(context.partition_keys) == 1:
        return table(visible, caption)
    return {"plans": "one table per day is shown on one-day runs; a backfilled range's plans are in the "
                     "farm store (recommendations cube, zone_plans/<date>)"}


def _listed(items: list[str], at_most: int = 10) -> str:
    return ", ".join(items[:at_most]) + (f" … ({len(items) - at_most} more)" if len(items) > at_most else "")


def _days(context: dg.AssetExecutionContext) -> dict[str, list[dt.date]]:
    return farm_day_ranges(context.partition_keys)


def _weather(storage: SaqiStorage, farm_id: str, day: dt.date) -> tuple[pd.DataFrame, object]:
    farm = storage.farm(farm_id)
    frame = read_weather(farm.path(farm.weather), farm.location.lat_deg)
    if pd.Timestamp(day) not in frame.index:
        raise dg.Failure(description=f"{farm.path(farm.weather)}: no weather record for {day} "
                                     f"(records {frame.index[0].date()}..{frame.index[-1].date()}); "
                                     "add the day to the station CSV")
    return frame.loc[: pd.Timestamp(day)], farm


@dg.asset(partitions_def=farm_days, group_name="irrigation", owners=OWNERS["irrigation"], kinds={"csv", "pandas"},
          code_version="1", description=section(__doc__, "weather"), backfill_policy=SINGLE_RUN)
def weather(context: dg.AssetExecutionContext, storage: SaqiStorage) -> dg.MaterializeResult:
    for farm_id, days in _days(context).items():
        for day in days[:1] + days[-1:]:
            frame, farm = _weather(storage, farm_id, day)
        gaps = [d for d in days if pd.Timestamp(d) not in frame.index]
        if gaps:
            raise dg.Failure(description=f"{farm.path(farm.weather)}: no weather record for {len(gaps)} days "
                                         f"from {gaps[0]}; add the days to the station CSV")
    row = frame.iloc[-1]
    return dg.MaterializeResult(metadata=shown({
        "partitions": len(context.partition_keys), "last_day": str(day),
        "tmin_c": number(row["tmin_c"]), "tmax_c": number(row["tmax_c"]), "rain_mm": number(row["rain_mm"]),
        "solar_mj_m2": number(row["solar_mj_m2"]), "u2_ms": number(row["u2_ms"]),
        "flags": str(row["flags"] or "none"), "season_days_flagged": int((frame["flags"].fillna("") != "").sum()),
    }))


@dg.asset(partitions_def=farm_days, group_name="irrigation", owners=OWNERS["irrigation"], kinds={"pandas"},
          code_version="1", deps=[weather], description=section(__doc__, "reference_et"), backfill_policy=SINGLE_RUN,
          check_specs=[dg.AssetCheckSpec("et0_physical", asset="reference_et",
                                         description=f"Fails when the day's reference evapotranspiration ET0 "
                                                     f"falls outside 0–{ET0_MAX_MM:g} mm/day (a unit or sensor "
                                                     "error in the weather record).")])
def reference_et(context: dg.AssetExecutionContext, storage: SaqiStorage) -> dg.MaterializeResult:
    outside = []
    for farm_id, days in _days(context).items():
        frame, farm = _weather(storage, farm_id, days[-1])
        et0 = reference_et_mm(frame, farm.location.lat_deg, farm.location.elevation_m)
        outside += [f"{farm_id} {d}: {et0[pd.Timestamp(d)]:.1f} mm" for d in days
                    if not 0 <= et0[pd.Timestamp(d)] <= ET0_MAX_MM]
    day = days[-1]
    today, method = float(et0.iloc[-1]), str(reference_et_method(frame).iloc[-1])
    last7 = et0.iloc[-7:]
    description = (f"ET0 {today:.1f} mm/day on {day} ({method})" if len(context.partition_keys) == 1 else
                   f"ET0 outside 0–{ET0_MAX_MM:g} mm/day on {len(outside)} of {len(context.partition_keys)} days"
                   + (f": {_listed(outside)}" if outside else ""))
    return dg.MaterializeResult(
        metadata=shown({"et0_mm": number(today), "method": method, "et0_7day_mean_mm": number(last7.mean()),
                        "et0_season_total_mm": number(et0.sum()), "partitions": len(context.partition_keys)}),
        check_results=[dg.AssetCheckResult(check_name="et0_physical", passed=not outside,
                                           description=description, metadata={"et0_mm": number(today)})])


PLAN_CHECKS = [
    dg.AssetCheckSpec("depletion_within_taw", asset="irrigation_plan",
                      description="Fails when a parcel's root-zone depletion leaves 0–TAW (total available water, "
                                  "FAO-56 eq. 82): the soil or crop parameters of that parcel are wrong."),
    dg.AssetCheckSpec("depths_non_negative", asset="irrigation_plan",
                      description="Fails when a parcel is given a negative irrigation depth (mm) or volume (m³)."),
    dg.AssetCheckSpec("parcels_under_stress", asset="irrigation_plan",
                      description="Warns when parcels are already water-stressed (Ks < 1): irrigation is late there."),
]


def _et0_mm(balance: BalanceView, day: dt.date) -> float:
    """The day's ET0 (mm) of a plan's balance (the `BalanceView` of the range run: `views=True`)."""
    return float(balance["et0_mm"][balance.dates.get_loc(pd.Timestamp(day))])


@dg.asset(partitions_def=farm_days, group_name="irrigation", owners=OWNERS["irrigation"], kinds={"zarr", "numpy"},
          code_version="1", deps=[reference_et, dg.AssetDep("parcel_timeseries", partition_mapping=farm_of_day)],
          description=section(__doc__, "irrigation_plan"), check_specs=PLAN_CHECKS, backfill_policy=SINGLE_RUN)
def irrigation_plan(context: dg.AssetExecutionContext, storage: SaqiStorage) -> dg.MaterializeResult:
    plans = []
    for farm_id, days in _days(context).items():
        farm = storage.farm(farm_id)
        written = {}
        for day, plan, balance, note in read_farm_plans(farm, days, storage.stores_root, storage.landing_dir,
                                                        views=True):
            rows = tables.recommendation_rows(plan, farm.season.start)
            rows["et0_mm"] = _et0_mm(balance, day)
            written[day] = rows
            single = len(context.partition_keys) == 1
            plans.append(plan.assign(parcel=plan["parcel"] if single else f"{farm_id} {day} " + plan["parcel"]))
        tables.write_days(storage.store(farm_id), written, (farm.season.start, farm.season.end),
                          tables.recommendation_variables(farm.season.start))
    plan = pd.concat(plans, ignore_index=True) if len(plans) > 1 else plans[0]
    idle = plan.loc[plan["depletion_mm"].isna(), "parcel"].tolist()
    inside = plan["depletion_mm"].isna() | ((plan["depletion_mm"] >= -1e-9)
                                            & (plan["depletion_mm"] <= plan["taw_mm"] + 1e-9))
    outside = plan.loc[~inside, "parcel"].tolist()
    negative = plan.loc[(plan[["depth_mm", "volume_m3"]].fillna(0) < 0).any(axis=1), "parcel"].tolist()
    stressed = plan.loc[plan["stress"].fillna(False).astype(bool), "parcel"].tolist()
    visible = plans[-1][[c for c in PLAN_COLUMNS if c in plans[-1]]].copy()
    visible["next_irrigation_date"] = visible["next_irrigation_date"].astype(str)
    return dg.MaterializeResult(
        metadata=shown({"kcb_source": note, "partitions": len(context.partition_keys),
                        "quota_cut_m3": number(plan["quota_cut_m3"].sum()),
                        "parcels_to_irrigate_today": int(plans[-1]["irrigate_today"].sum()),
                  "total_volume_m3": number(plan["volume_m3"].sum()),
                  "mean_depth_mm": number(plan.loc[plan["irrigate_today"],
                                                   "depth_mm"].mean() if plan["irrigate_today"].any() else 0.0),
                  "et0_mm": number(rows["et0_mm"].iloc[0]),
                  **range_table(context, visible, "today's plan per parcel")}),
        check_results=[
            dg.AssetCheckResult(check_name="depletion_within_taw", passed=not outside,
                                description=(f"root-zone depletion outside 0–TAW on {len(outside)} parcels: "
                                             f"{_listed(outside)}"
                                             if outside else f"root-zone depletion within 0–TAW on all "
                                                             f"{len(plan) - len(idle)} parcels in season"
                                             + (f" (no water balance, out of season: {_listed(idle)})"
                                                if idle else ""))),
            dg.AssetCheckResult(check_name="depths_non_negative", passed=not negative,
                                description=(f"negative irrigation depth or volume on {len(negative)} parcels: "
                                             f"{_listed(negative)}"
                                             if negative else "no negative irrigation depth or volume")),
            dg.AssetCheckResult(check_name="parcels_under_stress", passed=not stressed,
                                severity=dg.AssetCheckSeverity.WARN,
                                description=(f"{len(stressed)} parcels under water stress (Ks < 1): "
                                             f"{_listed(stressed)}"
                                             if stressed else "no parcel under water stress")),
        ])

