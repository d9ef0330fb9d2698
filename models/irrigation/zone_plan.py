"""The water balance and today's irrigation plan per management zone (FAO-56 ch. 7-8 per zone).

Each zone of the latest zoned flight on or before the plan date (`zone_outlines`) is balanced as
its own field: the parent parcel's crop, soil, sowing date and irrigation method, the zone's area,
and the zone's field-average NDVI on every flight of the season driving its Kcb (`kcb.parcel_kcb`).
Recorded irrigations of a parcel apply to each of its zones with the same gross depth (one valve,
one depth); a parcel without records is assumed irrigated as planned zone by zone (each zone
refilled when it reaches its own RAW, as a variable-rate system would), flagged. The plan rows are
`recommendation.recommend` per zone, with the parcel-level spread: depletion of the most vigorous
zone minus that of the weakest (mm; positive = the vigorous zone is drier).

Without any zones product up to the plan date the plan falls back to the per-parcel plan
(`farm_plan.farm_plan`), one row per parcel as zone 0, and the note says so
(`parcel_plan_as_zones`). The zones and their NDVI are read by `pipelines.plans.farm_inputs`.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr

from models.irrigation.farm_plan import FarmInputs, farm_plan
from models.irrigation.season import BalanceView
from pipelines.core.config import Farm

NO_ZONES = "no management zones in the store up to the plan date (the management_zones asset writes them per flight)"
PLAN_COLUMNS = ["parcel", "zone", "zone_id", "sector", "crop", "irrigation_method", "area_m2", "irrigate_today",
                "net_depth_mm", "depth_mm", "leaching_mm", "volume_m3", "litres_per_plant", "run_time_h", "pulses",
                "pulse_h", "next_irrigation_date", "depletion_mm", "raw_mm", "taw_mm", "ks", "stress", "kcb",
                "kcb_source", "etc_mm", "depletion_spread_mm", "quota_cut_m3", "quota_cut_mm", "quota_reason",
                "outlook_etc_mm",
                "outlook_rain_mm", "outlook_source", "notes"]


@dataclass
class ZoneInputs:
    """The farm's inputs with zones in place of parcels: `zones` has season_balance's parcel
    columns (parcel = zone id, area_m2 = zone area) plus parent, zone (rank) and note."""

    farm: FarmInputs
    flight: str
    zones: pd.DataFrame
    observations: pd.DataFrame
    irrigation_events: pd.DataFrame | None
    observation_note: str
    end: dt.date


def zone_table(parcels: pd.DataFrame, outlines: pd.DataFrame) -> pd.DataFrame:
    """Zone rows for `season_balance`: the parent parcel's attributes, the zone's id and area (m²)."""
    attributes = parcels.drop(columns="area_m2").rename(columns={"parcel": "parent"})
    zones = outlines[["zone_id", "parcel", "zone", "area_m2", "note"]].rename(columns={"parcel": "parent"})
    table = zones.merge(attributes, on="parent", how="inner").rename(columns={"zone_id": "parcel"})
    if "sector" not in table or table["sector"].isna().all():
        table["sector"] = table["parent"]
    return table


def zone_events(events: pd.DataFrame | None, zones: pd.DataFrame) -> pd.DataFrame | None:
    """Each recorded parcel irrigation (date, parcel, gross depth_mm) repeated for every zone of the parcel."""
    if events is None:
        return None
    expanded = events.rename(columns={"parcel": "parent"}).merge(zones[["parent", "parcel"]], on="parent")
    return expanded[["date", "parcel", "depth_mm"]].sort_values(["date", "parcel"], ignore_index=True)


def zone_season(farm: Farm, inputs: ZoneInputs) -> xr.Dataset:
    """The zone balance (dims parcel = zone id, date) from the season start to `inputs.end`."""
    from models.irrigation.farm_plan import farm_season

    return farm_season(farm, inputs.farm, inputs.end, inputs.zones, inputs.observations, inputs.irrigation_events)


def zone_rows(recommendation: pd.DataFrame, zones: pd.DataFrame) -> pd.DataFrame:
    """Plan rows per zone with parcel, zone, zone_id, area_m2 and the parcel's depletion spread (mm)."""
    plan = recommendation.rename(columns={"parcel": "zone_id"})
    by_zone = zones.set_index("parcel")
    plan["parcel"] = plan["zone_id"].map(by_zone["parent"])
    plan["zone"] = plan["zone_id"].map(by_zone["zone"]).astype(int)
    plan["area_m2"] = plan["zone_id"].map(by_zone["area_m2"]).round(1)
    extra = plan["zone_id"].map(by_zone["note"]).fillna("")
    plan["notes"] = [("; ".join(filter(None, [e, n]))) for e, n in zip(extra, plan["notes"])]
    ranked = plan.sort_values(["parcel", "zone"])
    ends = ranked.groupby("parcel")["depletion_mm"]
    plan["depletion_spread_mm"] = plan["parcel"].map(ends.last() - ends.first()).round(1)
    return plan[PLAN_COLUMNS].sort_values(["parcel", "zone"], ignore_index=True)


def zone_plan(farm: Farm, inputs: ZoneInputs, date) -> tuple[pd.DataFrame, xr.Dataset, str]:
    """(today's plan per zone after the allocation, the zone balance up to `date`, a note)."""
    plan, balance, note = farm_plan(farm, inputs.farm, date, inputs.zones, inputs.observations,
                                    inputs.irrigation_events)
    return zone_rows(plan, inputs.zones), balance, "; ".join([inputs.observation_note, *note.split("; ")[1:]])


def parcel_plan_as_zones(farm: Farm, inputs: FarmInputs, date) -> tuple[pd.DataFrame, xr.Dataset, str]:
    """The per-parcel plan as zone 0 of each parcel (no zones product up to `date`)."""
    return as_zones(*farm_plan(farm, inputs, date))


def as_zones(plan: pd.DataFrame, balance: xr.Dataset | BalanceView, note: str) -> tuple[pd.DataFrame, xr.Dataset, str]:
    """A per-parcel (plan, balance, note) as zone 0 of each parcel: `zone_rows` with one zone per
    parcel (its own id and area, no zone note, a spread of 0 mm where the parcel has a depletion),
    built in one frame without its per-zone lookups."""
    view = balance if isinstance(balance, BalanceView) else BalanceView.of(balance)
    parcels = pd.Index(view["parcel"])
    at = parcels.get_indexer(plan["parcel"]) if parcels.is_unique else np.array([-1])
    if (at < 0).any():  # not one balance parcel per plan row: the general path
        areas = pd.Series(view["area_m2"], index=parcels)
        zones = pd.DataFrame({"parcel": areas.index, "parent": areas.index, "zone": 0, "area_m2": areas.to_numpy(),
                              "note": ""})
        return zone_rows(plan, zones), balance, f"{NO_ZONES}: per-parcel plan; {note}"
    depletion = plan["depletion_mm"].to_numpy(float)
    own = {"zone_id": plan["parcel"].array, "parcel": plan["parcel"].to_numpy(), "zone": np.zeros(len(plan), dtype=int),
           "area_m2": np.round(view["area_m2"][at], 1), "notes": [n if n else "" for n in plan["notes"]],
           "depletion_spread_mm": np.where(np.isnan(depletion), np.nan, 0.0)}
    rows = pd.DataFrame({column: own[column] if column in own else plan[column].array for column in PLAN_COLUMNS})
    order = np.argsort(rows["parcel"].to_numpy(), kind="stable")  # zone_rows' sort by (parcel, zone 0)
    if (order != np.arange(len(order))).any():
        rows = rows.take(order).reset_index(drop=True)
    return rows, balance, f"{NO_ZONES}: per-parcel plan; {note}"
