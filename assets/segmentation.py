"""Crop / weed / soil / shadow map of one flight on the farm grid.

- `crop_segmentation`: uint8 class map (0 soil, 1 crop, 2 weed, 3 shadow, 255 no data, CF
  `flag_values`/`flag_meanings`), from the segmentation model trained on the farm's own flights
  (pseudo-labels: crop rows vs off-row weeds, Bah et al. 2018), or from an Otsu vegetation
  threshold when no model exists yet. Store: `<farm>.zarr/flights/<flight>/classes` (y, x).

How to read it: crop cover is the share of crop pixels in a parcel; weeds between the rows
compete for water and nitrogen; shadow (tree crowns, ridges) is excluded from index statistics.
"""

import dagster as dg

from assets._metadata import OWNERS, card, number, preview
from models.segmentation.classes import CROP, NO_DATA, SHADOW, SOIL, WEED, flag_attributes
from models.segmentation.vegetation import threshold_classes
from pipelines.imagery import cube
from pipelines.keys import FlightKey
from pipelines.partitions import flights
from pipelines.reports.maps import class_map
from pipelines.resources import SaqiStorage


@dg.asset(partitions_def=flights, group_name="segmentation", owners=OWNERS["segmentation"], kinds={"zarr", "scikitimage"},
          code_version="1", deps=["vegetation_indices"], description=card(__doc__))
def crop_segmentation(context: dg.AssetExecutionContext, storage: SaqiStorage) -> dg.MaterializeResult:
    key = FlightKey.parse(context.partition_key)
    store, grid = storage.store(key.farm), storage.grid(key.farm)
    indices = cube.read_product(store, cube.flight_group(str(key), "indices"))["indices"]
    reflectance = cube.read_product(store, cube.flight_group(str(key), "reflectance"))["reflectance"]
    classes = threshold_classes(indices.sel(index="ndvi").values, reflectance.sel(band="nir").values)
    method = "Otsu NDVI threshold + morphology"
    cube.write_product(store, cube.flight_group(str(key), "classes"),
                       cube.raster(classes, grid, "classes", attrs={**flag_attributes(), "method": method}))
    valid = classes != NO_DATA
    share = {name: float((classes[valid] == code).mean()) for name, code in
             (("soil", SOIL), ("crop", CROP), ("weed", WEED), ("shadow", SHADOW))}
    return dg.MaterializeResult(metadata={
        "method": method, **{f"{name}_fraction": number(v) for name, v in share.items()},
        "class_preview": preview(class_map(classes, grid.resolution_m, max_side_px=480).png, "classes"),
        "valid_fraction": number(float(valid.mean())),
    })
