"""Daily irrigation for each farm (partition: date × farm).

- `weather`: the station's daily record (Tmin/Tmax °C, RH %, wind m/s at 2 m, solar MJ/m²/day,
  rain mm) after unit checks, spike removal and flagged gap filling (FAO-56 fallbacks).
- `reference_et`: FAO-56 Penman–Monteith reference evapotranspiration ET0 (mm/day, Allen et al.
  1998 eq. 6), Hargreaves–Samani on days without radiation/humidity.
- `irrigation_plan`: the FAO-56 chapter 8 root-zone water balance from the season start to the
  day, with Kcb from the drone NDVI of every flight so far (FAO stage tables before and between
  flights), giving per parcel: irrigate today or not, gross depth (mm) and volume (m³) after the
  method's efficiency, next irrigation date, depletion vs TAW/RAW (mm), Ks (1 = no stress).
  Store: `<farm>.zarr/recommendations` (parcel, date), one day's region per partition.

How to read it: irrigate when depletion reaches RAW; Ks below 1 means the crop is already
transpiring less than it could (water stress).
"""

import datetime as dt

import dagster as dg
import pandas as pd

from assets._metadata import OWNERS, number, section, shown, table
from models.irrigation.et0 import reference_et_method, reference_et_mm
from models.irrigation.farm_plan import farm_plan
from models.irrigation.weather import read_weather
from pipelines.orchestration.partitions import farm_day, farm_days, farm_of_day
from pipelines.orchestration.resources import SaqiStorage
from pipelines.store import tables

ET0_MAX_MM = 15.0
PLAN_COLUMNS = ["parcel", "crop", "irrigate_today", "depth_mm", "volume_m3", "next_irrigation_date", "depletion_mm",
                "raw_mm", "taw_mm", "ks", "stress", "kcb", "kcb_source"]


def _day(context: dg.AssetExecutionContext) -> tuple[str, dt.date]:
    return farm_day(context.partition_key)


def _weather(storage: SaqiStorage, farm_id: str, day: dt.date) -> tuple[pd.DataFrame, object]:
    farm = storage.farm(farm_id)
    frame = read_weather(farm.path(farm.weather), farm.location.lat_deg)
    if pd.Timestamp(day) not in frame.index:
        raise dg.Failure(description=f"{farm.path(farm.weather)}: no weather record for {day} "
                                     f"(records {frame.index[0].date()}..{frame.index[-1].date()}); "
                                     "add the day to the station CSV")
    return frame.loc[: pd.Timestamp(day)], farm


@dg.asset(partitions_def=farm_days, group_name="irrigation", owners=OWNERS["irrigation"], kinds={"csv", "pandas"},
          code_version="1", description=section(__doc__, "weather"))
def weather(context: dg.AssetExecutionContext, storage: SaqiStorage) -> dg.MaterializeResult:
    farm_id, day = _day(context)
    frame, _ = _weather(storage, farm_id, day)
    row = frame.iloc[-1]
    return dg.MaterializeResult(metadata=shown({
        "tmin_c": number(row["tmin_c"]), "tmax_c": number(row["tmax_c"]), "rain_mm": number(row["rain_mm"]),
        "solar_mj_m2": number(row["solar_mj_m2"]), "u2_ms": number(row["u2_ms"]),
        "flags": str(row["flags"] or "none"), "season_days_flagged": int((frame["flags"].fillna("") != "").sum()),
    }))


@dg.asset(partitions_def=farm_days, group_name="irrigation", owners=OWNERS["irrigation"], kinds={"pandas"},
          code_version="1", deps=[weather], description=section(__doc__, "reference_et"),
          check_specs=[dg.AssetCheckSpec("et0_physical", asset="reference_et",
                                         description=f"Fails when the day's reference evapotranspiration ET0 "
                                                     f"falls outside 0–{ET0_MAX_MM:g} mm/day (a unit or sensor "
                                                     "error in the weather record).")])
def reference_et(context: dg.AssetExecutionContext, storage: SaqiStorage) -> dg.MaterializeResult:
    farm_id, day = _day(context)
    frame, farm = _weather(storage, farm_id, day)
    et0 = reference_et_mm(frame, farm.location.lat_deg, farm.location.elevation_m)
    today, method = float(et0.iloc[-1]), str(reference_et_method(frame).iloc[-1])
    last7 = et0.iloc[-7:]
    return dg.MaterializeResult(
        metadata=shown({"et0_mm": number(today), "method": method, "et0_7day_mean_mm": number(last7.mean()),
                  "et0_season_total_mm": number(et0.sum())}),
        check_results=[dg.AssetCheckResult(check_name="et0_physical", passed=bool(0 <= today <= ET0_MAX_MM),
                                           description=f"ET0 {today:.1f} mm/day on {day} ({method})",
                                           metadata={"et0_mm": number(today)})])


PLAN_CHECKS = [
    dg.AssetCheckSpec("depletion_within_taw", asset="irrigation_plan",
                      description="Fails when a parcel's root-zone depletion leaves 0–TAW (total available water, "
                                  "FAO-56 eq. 82): the soil or crop parameters of that parcel are wrong."),
    dg.AssetCheckSpec("depths_non_negative", asset="irrigation_plan",
                      description="Fails when a parcel is given a negative irrigation depth (mm) or volume (m³)."),
    dg.AssetCheckSpec("parcels_under_stress", asset="irrigation_plan",
                      description="Warns when parcels are already water-stressed (Ks < 1): irrigation is late there."),
]


def _cube_rows(plan: pd.DataFrame, season_start: dt.date) -> pd.DataFrame:
    rows = plan.set_index("parcel")
    numeric = pd.DataFrame(index=rows.index)
    for column in ("depth_mm", "net_depth_mm", "volume_m3", "depletion_mm", "taw_mm", "raw_mm", "ks", "kcb", "etc_mm"):
        numeric[column] = rows[column].astype("float64")
    numeric["irrigate_today"] = rows["irrigate_today"].astype("float64")
    numeric["stress"] = rows["stress"].astype("float64")
    next_date = pd.to_datetime(rows["next_irrigation_date"])
    numeric["next_irrigation_date"] = (next_date - pd.Timestamp(season_start)).dt.days.astype("float64")
    return numeric


@dg.asset(partitions_def=farm_days, group_name="irrigation", owners=OWNERS["irrigation"], kinds={"zarr", "numpy"},
          code_version="1", deps=[reference_et, dg.AssetDep("parcel_timeseries", partition_mapping=farm_of_day)],
          description=section(__doc__, "irrigation_plan"), check_specs=PLAN_CHECKS)
def irrigation_plan(context: dg.AssetExecutionContext, storage: SaqiStorage) -> dg.MaterializeResult:
    farm_id, day = _day(context)
    farm = storage.farm(farm_id)
    plan, balance, note = farm_plan(farm_id, day, storage.stores_root)
    rows = _cube_rows(plan, farm.season.start)
    rows["et0_mm"] = float(balance["et0_mm"].sel(date=pd.Timestamp(day)).values.ravel()[0])
    tables.write_day(storage.store(farm_id), rows, day, (farm.season.start, farm.season.end),
                     tables.recommendation_variables(farm.season.start))
    idle = plan.loc[plan["depletion_mm"].isna(), "parcel"].tolist()
    inside = plan["depletion_mm"].isna() | ((plan["depletion_mm"] >= -1e-9)
                                            & (plan["depletion_mm"] <= plan["taw_mm"] + 1e-9))
    outside = plan.loc[~inside, "parcel"].tolist()
    negative = plan.loc[(plan[["depth_mm", "volume_m3"]].fillna(0) < 0).any(axis=1), "parcel"].tolist()
    stressed = plan.loc[plan["stress"].fillna(False).astype(bool), "parcel"].tolist()
    visible = plan[[c for c in PLAN_COLUMNS if c in plan]].copy()
    visible["next_irrigation_date"] = visible["next_irrigation_date"].astype(str)
    return dg.MaterializeResult(
        metadata=shown({"kcb_source": note, "parcels_to_irrigate_today": int(plan["irrigate_today"].sum()),
                  "total_volume_m3": number(plan["volume_m3"].sum()),
                  "mean_depth_mm": number(plan.loc[plan["irrigate_today"],
                                                   "depth_mm"].mean() if plan["irrigate_today"].any() else 0.0),
                  "et0_mm": number(rows["et0_mm"].iloc[0]), **table(visible, "today's plan per parcel")}),
        check_results=[
            dg.AssetCheckResult(check_name="depletion_within_taw", passed=not outside,
                                description=(f"root-zone depletion outside 0–TAW on {len(outside)} parcels: "
                                             f"{', '.join(outside)}"
                                             if outside else f"root-zone depletion within 0–TAW on all "
                                                             f"{len(plan) - len(idle)} parcels in season"
                                             + (f" (no water balance, out of season: {', '.join(idle)})"
                                                if idle else ""))),
            dg.AssetCheckResult(check_name="depths_non_negative", passed=not negative,
                                description=(f"negative irrigation depth or volume on {len(negative)} parcels: "
                                             f"{', '.join(negative)}"
                                             if negative else "no negative irrigation depth or volume")),
            dg.AssetCheckResult(check_name="parcels_under_stress", passed=not stressed,
                                severity=dg.AssetCheckSeverity.WARN,
                                description=(f"{len(stressed)} parcels under water stress (Ks < 1): "
                                             f"{', '.join(stressed)}"
                                             if stressed else "no parcel under water stress")),
        ])

