"""Irrigation plan per management zone (partition: date × farm).

- `zone_irrigation_plan`: the same FAO-56 root-zone balance as the parcel plan, run for every
  management zone of the latest zoned flight (zone NDVI on every flight, the parent parcel's
  crop, soil, sowing and method, the zone's own area): irrigate today or not, gross depth (mm),
  volume (m³), next date, depletion and Ks per zone, plus the spread in mm between a parcel's
  most and least vigorous zones. Store: `<farm>.zarr/zone_plans/<date>` (zone, variable). When
  no zones exist yet it falls back to the parcel plan and says so.

How to read it: a spread of more than ~10 mm means one irrigation set-point does not fit the
whole parcel; split the drip sectors or the sprinkler runs by zone.
"""

import dagster as dg

from assets._metadata import OWNERS, card, number, shown
from assets.irrigation import SINGLE_RUN, farm_day_ranges, range_table
from pipelines.orchestration.partitions import all_flights, farm_days
from pipelines.orchestration.resources import SaqiStorage
from pipelines.plans.farm_inputs import read_farm_plans
from pipelines.store import cube, tables
from pipelines.store.products import zone_plan_group

SHOWN = ["zone_id", "crop", "area_m2", "irrigate_today", "depth_mm", "volume_m3", "next_irrigation_date", "ks",
         "depletion_spread_mm"]
@dg.asset(partitions_def=farm_days, group_name="irrigation", owners=OWNERS["irrigation"], kinds={"zarr", "numpy"},
          code_version="1", description=card(__doc__),
          deps=["reference_et", dg.AssetDep("management_zones", partition_mapping=all_flights),
                dg.AssetDep("vegetation_indices", partition_mapping=all_flights)],
          check_specs=[dg.AssetCheckSpec("zone_depths_non_negative", asset="zone_irrigation_plan",
                                         description="Fails when a zone is given a negative irrigation depth (mm) "
                                                     "or volume (m³).")],
          backfill_policy=SINGLE_RUN)
def zone_irrigation_plan(context: dg.AssetExecutionContext, storage: SaqiStorage) -> dg.MaterializeResult:
    ok = True
    for farm_id, days in farm_day_ranges(context.partition_keys).items():
        farm = storage.farm(farm_id)
        written = {}
        for day, plan, _, note in read_farm_plans(farm, days, storage.stores_root, storage.landing_dir,
                                                  zones=True, views=True):
            written[zone_plan_group(day)] = tables.zone_plan_product(day, plan, note)
            ok = ok and bool((plan[["depth_mm", "volume_m3"]].fillna(0) >= 0).all().all())
        cube.write_products(storage.store(farm_id), written)  # one catalogue rebuild for the range's days
    visible = plan[SHOWN].copy()
    visible["next_irrigation_date"] = visible["next_irrigation_date"].astype(str)
    return dg.MaterializeResult(
        metadata=shown({"note": note, "zones": len(plan), "total_volume_m3": number(plan["volume_m3"].sum()),
                        "max_spread_mm": number(plan["depletion_spread_mm"].abs().max()),
                        **range_table(context, visible, "plan per zone")}),
        check_results=[dg.AssetCheckResult(check_name="zone_depths_non_negative", passed=ok)])
