"""Yield estimate per parcel for the season (t/ha at market moisture; cereals also in qx/ha).

Light-use efficiency: daily fAPAR from the flights' NDVI (interpolated between flights), PAR
from measured radiation, radiation-use efficiency and harvest index per crop (configs/crops,
with sources), reduced by the water balance's stress coefficient Ks (Monteith 1977; Sinclair &
Muchow 1999). With harvest records for a crop, a per-crop regression on index features replaces
it and reports its leave-one-out error. Annual crops lose the weeds' share of the LUE yield by the
relative leaf area model (Kropff & Spitters 1991, the weed pressure of the latest flight;
`models/yields/weeds.py`). p10–p90 give the interval. Store: the
`yield_t_ha`, `yield_p10_t_ha`, `yield_p90_t_ha` variables of `<farm>.zarr/recommendations` at
the estimate date. One per farm and season.

How to read it: durum wheat in the irrigated Souss yields 4–7 t/ha (40–70 qx/ha); a wide
p10–p90 interval means few flights or a crop far from harvest.
"""

import dagster as dg
import pandas as pd

from assets._metadata import OWNERS, card, number, shown, table
from models.irrigation.farm_plan import farm_season
from models.yields.estimate import estimate_yield
from pipelines.core.config import load_crop
from pipelines.orchestration.partitions import farms
from pipelines.orchestration.resources import SaqiStorage
from pipelines.plans.farm_inputs import farm_inputs
from pipelines.store import tables

SHOWN = ["parcel", "crop", "model", "yield_t_ha", "yield_p10_t_ha", "yield_p90_t_ha", "yield_qx_ha",
         "weed_cover_fraction", "weed_yield_loss_fraction"]


@dg.asset(partitions_def=farms, group_name="yield", owners=OWNERS["yield"], kinds={"zarr", "pandas"}, code_version="1",
          deps=["parcel_timeseries"],
          description=card(__doc__),
          check_specs=[dg.AssetCheckSpec("yield_plausible", asset="yield_estimate",
                                         description="Fails when a parcel's yield estimate is missing, negative "
                                                     "or outside its own p10–p90 interval (t/ha)."),
                       dg.AssetCheckSpec("yield_within_regional_range", asset="yield_estimate",
                                         description="Warns when an estimate falls outside the crop's usual irrigated "
                                                     "yield range (configs/crops, FAO-66).")])
def yield_estimate(context: dg.AssetExecutionContext, storage: SaqiStorage) -> dg.MaterializeResult:
    farm = storage.farm(context.partition_key)
    inputs = farm_inputs(farm, storage.stores_root, storage.landing_dir)
    balance = farm_season(farm, inputs)
    as_of = pd.Timestamp(balance["date"].values[-1]).date()
    harvests = pd.read_csv(farm.path(farm.harvests)) if farm.harvests else None
    estimate = estimate_yield(balance, inputs.observations, inputs.weather, harvests,
                              site=(farm.location.lat_deg, farm.location.elevation_m))
    rows = estimate.set_index("parcel")[["yield_t_ha", "yield_p10_t_ha", "yield_p90_t_ha"]].astype("float64")
    tables.write_day(storage.store(farm.id), rows, as_of, (farm.season.start, farm.season.end),
                     tables.recommendation_variables(farm.season.start))
    ordered = ((rows["yield_p10_t_ha"] <= rows["yield_t_ha"] + 1e-9)
               & (rows["yield_t_ha"] <= rows["yield_p90_t_ha"] + 1e-9)
               & (rows["yield_p10_t_ha"] >= 0))
    implausible = [str(p) for p in rows.index[~ordered]]
    unusual = [f"{row.parcel} ({row.crop} {row.yield_t_ha:.1f} t/ha)" for row in estimate.itertuples()
               if (band := load_crop(row.crop).yield_range_t_ha) and not band[0] <= row.yield_t_ha <= band[1]]
    return dg.MaterializeResult(
        metadata=shown({"estimate_date": as_of.isoformat(), "observations": inputs.observation_note,
                  **{f"yield_t_ha_{row.parcel}": number(row.yield_t_ha) for row in estimate.itertuples()},
                  **table(estimate[[c for c in SHOWN if c in estimate]], "expected yield per parcel")}),
        check_results=[dg.AssetCheckResult(
            check_name="yield_plausible", passed=not implausible,
            description=(f"yield missing, negative or outside p10–p90 on {len(implausible)} parcels: "
                         f"{', '.join(implausible)}"
                         if implausible else f"yields {rows['yield_t_ha'].min():.1f}–"
                                             f"{rows['yield_t_ha'].max():.1f} t/ha "
                                             f"on {len(rows)} parcels, each inside its p10–p90 interval")),
            dg.AssetCheckResult(
                check_name="yield_within_regional_range", passed=not unusual, severity=dg.AssetCheckSeverity.WARN,
                description=(f"{len(unusual)} parcels outside the crop's usual irrigated range: {', '.join(unusual)}; "
                             "check the crop's RUE and harvest index, or the flights' NDVI") if unusual
                else "every estimate within its crop's usual irrigated range")])
