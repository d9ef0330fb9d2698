"""Per-parcel statistics.

- `parcel_stats`: for each parcel of the farm and one flight, coverage-weighted statistics of
  every vegetation index over crop pixels (count, mean, std, p10, p50, p90), the field-average
  NDVI and valid pixel count over all the parcel's pixels (`ndvi_parcel_mean`, which drives the
  water balance, and `parcel_n_pixels`), crop
  cover fraction (crop pixels / parcel pixels) and weed pressure (weed / vegetation). Exact coverage at parcel
  borders; overlapping parcels each get their full area. Store:
  `<farm>.zarr/flights/<flight>/parcel_stats` (parcel, variable). One per flight.
- `parcel_timeseries`: the season's cube of the per-flight parcel statistics, (parcel, time,
  variable), rebuilt from every flight of the farm. Store: `<farm>.zarr/parcels`. One per farm.

An RGB camera flight has no NDVI: its vigour index is ExG (chromatic coordinates), so the
field average is `exg_parcel_mean` and the NDVI-based water balance and yield fall back to FAO-56
tables for that flight (metadata `vigour_index` says which).

How to read it: a wheat parcel at full canopy has mean NDVI 0.75–0.9 over its crop pixels; weed
pressure above 0.2 means one plant in five is a weed.
"""

import dagster as dg
import numpy as np
import pandas as pd

from assets._metadata import OWNERS, number, preview, section, shown, table, thumbnail
from models.agronomy.vigour import low_vigour
from pipelines.core.errors import InputDataError
from pipelines.core.keys import FlightKey
from pipelines.imagery.indices.rgb import vigour_index
from pipelines.imagery.parcels.flight_table import flight_parcel_table
from pipelines.imagery.parcels.layer import load_parcels
from pipelines.imagery.preview import preview_step
from pipelines.orchestration.partitions import all_flights, farms, flights
from pipelines.orchestration.resources import SaqiStorage
from pipelines.reports.maps import ndvi_map, parcel_vigour_raster
from pipelines.store import cube, tables

SHOWN = ["parcel", "status", "n_pixels", "ndvi_mean", "ndvi_parcel_mean", "ndvi_p10", "ndvi_p90", "ndre_mean",
         "crop_cover_fraction", "weed_pressure"]

STATS_CHECKS = [
    dg.AssetCheckSpec("parcels_have_valid_pixels", asset="parcel_stats",
                      description="Fails when a parcel has no valid pixel in the flight (outside the mosaic, clouds, "
                                  "bad geometry)."),
    dg.AssetCheckSpec("vigour_at_full_canopy", asset="parcel_stats",
                      description="Warns when parcels at mid-season (FAO-56 stage) show crop NDVI below 0.5."),
]


@dg.asset(partitions_def=flights, group_name="parcels", owners=OWNERS["parcels"], kinds={"zarr", "pandas"},
          code_version="1", deps=["vegetation_indices", "crop_segmentation"], check_specs=STATS_CHECKS,
          description=section(__doc__, "parcel_stats"))
def parcel_stats(context: dg.AssetExecutionContext, storage: SaqiStorage) -> dg.MaterializeResult:
    key = FlightKey.parse(context.partition_key)
    farm, grid, store = storage.farm(key.farm), storage.grid(key.farm), storage.store(key.farm)
    parcels = load_parcels(farm, grid)
    try:
        flight_table = flight_parcel_table(store, key, grid, parcels)
    except InputDataError as error:
        raise dg.Failure(description=str(error), allow_retries=False) from error
    stats, vigour = flight_table.frame, flight_table.vigour
    cube.write_product(store, cube.flight_group(key, "parcel_stats"),
                       tables.stats_product(stats, str(key), key.date))
    empty = stats.loc[~(stats["n_pixels"] > 0), "parcel"].tolist()
    step = preview_step(grid.shape, 480)
    filled, pixel_m = parcel_vigour_raster(stats, parcels.frame, grid, vigour, step), grid.resolution_m * step
    columns = list(dict.fromkeys(SHOWN + [f"{vigour}_mean", f"{vigour}_parcel_mean"]))
    weak = low_vigour(stats, parcels.frame, key.date) if vigour == "ndvi" else []
    vigour_note = ("no weak parcel at full canopy" if vigour == "ndvi"
                   else f"no NDVI ({vigour.upper()} flight): the NDVI full-canopy check does not apply")
    return dg.MaterializeResult(
        metadata=shown({"vigour_index": vigour, f"{vigour}_mean": number(np.nanmean(stats[f"{vigour}_mean"])),
                  "crop_cover_fraction": number(np.nanmean(stats["crop_cover_fraction"])),
                  "weed_pressure": number(np.nanmean(stats["weed_pressure"])),
                  "parcel_problems": "; ".join(map(str, parcels.problems)) or "none",
                  "parcel_ndvi_thumbnail": thumbnail(
                      lambda px: ndvi_map(filled, pixel_m, max_side_px=px, decorated=False, index=vigour).png,
                      f"mean crop {vigour.upper()} per parcel"),
                  "parcel_ndvi_preview": preview(ndvi_map(filled, pixel_m, max_side_px=480, index=vigour).png,
                                                 f"mean crop {vigour.upper()} per parcel"),
                  **table(stats[[c for c in columns if c in stats]], f"flight {key}: one row per parcel")}),
        check_results=[
            dg.AssetCheckResult(check_name="parcels_have_valid_pixels", passed=not empty,
                                metadata={"parcels_without_pixels": len(empty)},
                                description=f"{len(empty)} parcels without valid pixels: {', '.join(empty)}" if empty
                                else "every parcel has valid pixels"),
            dg.AssetCheckResult(check_name="vigour_at_full_canopy", passed=not weak,
                                severity=dg.AssetCheckSeverity.WARN,
                                metadata={"weak_parcels": sum(len(w.parcels) for w in weak)},
                                description="; ".join(map(str, weak)) or vigour_note),
        ])


@dg.asset(partitions_def=farms, group_name="parcels", owners=OWNERS["parcels"], kinds={"zarr", "xarray"},
          code_version="1", deps=[dg.AssetDep(parcel_stats, partition_mapping=all_flights)],
          description=section(__doc__, "parcel_timeseries"))
def parcel_timeseries(context: dg.AssetExecutionContext, storage: SaqiStorage) -> dg.MaterializeResult:
    store = storage.store(context.partition_key)
    season = tables.assemble_parcel_cube(store)
    cube.write_product(store, tables.PARCELS, season)
    vigour = vigour_index([str(v).removesuffix("_mean") for v in season["variable"].values]) or "ndvi"
    ndvi = season.sel(variable=f"{vigour}_mean").to_pandas()
    ndvi.columns = [pd.Timestamp(t).date().isoformat() for t in ndvi.columns]
    return dg.MaterializeResult(metadata=shown({
        "flights": int(season.sizes["time"]), "parcels": int(season.sizes["parcel"]), "vigour_index": vigour,
        f"{vigour}_mean_latest_flight": number(np.nanmean(ndvi.iloc[:, -1].to_numpy(dtype="float64"))),
        **table(ndvi.reset_index().rename(columns={"index": "parcel"}), f"mean {vigour.upper()} per parcel and flight",
                dates=f"mean crop {vigour.upper()} (unitless) of the flight"),
    }))
