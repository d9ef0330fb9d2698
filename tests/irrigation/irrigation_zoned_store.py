"""A chtouka store with three flights of synthetic NDVI and the management zones of the last one.

Every parcel's NDVI rises over the season; inside each parcel the east half is 0.1 above the
parcel value and the west half 0.1 below (a vigour step natural breaks find exactly), except P01,
which is uniform and so gets a single zone. Outside the parcels the NDVI is bare soil (0.15).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr
from rasterio.features import rasterize

from pipelines.core.config import load_farm
from pipelines.core.grid import FarmGrid
from pipelines.imagery.parcels.layer import load_parcels
from pipelines.imagery.parcels.zonal import parcel_statistics
from pipelines.imagery.zones.delineation import management_zones
from pipelines.store import cube
from pipelines.store.tables import PARCELS

FLIGHT_NDVI = {"20260115": 0.45, "20260220": 0.65, "20260320": 0.70}
STEP = 0.1
UNIFORM = "P01"
SOIL_NDVI = 0.15


def synthetic_ndvi(grid: FarmGrid, parcels, level: float) -> np.ndarray:
    ids = rasterize([(g, k + 1) for k, g in enumerate(parcels.frame.geometry)], out_shape=grid.shape,
                    transform=grid.transform, dtype="int32")
    ndvi = np.full(grid.shape, SOIL_NDVI, np.float32)
    x = np.broadcast_to(grid.x_coords()[None, :], grid.shape)
    for k, (pid, geom) in enumerate(zip(parcels.frame["id"], parcels.frame.geometry)):
        inside = ids == k + 1
        step = 0.0 if pid == UNIFORM else np.where(x > geom.centroid.x, STEP, -STEP)
        ndvi = np.where(inside, np.float32(level) + step, ndvi).astype(np.float32)
    return ndvi


def write_zoned_store(data_root, zones: bool = True, parcel_cube: bool = True) -> None:
    """Flights (indices), the zones of the last flight, and the parcels cube with `ndvi_parcel_mean`."""
    farm = load_farm("chtouka")
    grid = FarmGrid.of_farm(farm)
    parcels = load_parcels(farm, grid)
    store = cube.farm_store(data_root, farm.id)
    layers = []
    for day, level in FLIGHT_NDVI.items():
        flight = f"chtouka-{day}"
        ndvi = synthetic_ndvi(grid, parcels, level)
        cube.write_product(store, cube.flight_group(flight, "indices"),
                           cube.raster(ndvi[None], grid, "indices", "index", ["ndvi"]))
        field = parcel_statistics(ndvi[None], ["ndvi_parcel"], grid, parcels, stats=("count", "mean"))
        layers.append(xr.DataArray(field[["ndvi_parcel_mean"]].to_numpy()[:, None, :],
                                   dims=("parcel", "time", "variable"),
                                   coords={"parcel": np.array(field["parcel_id"], dtype=object),
                                           "time": [pd.Timestamp(day)],
                                           "variable": np.array(["ndvi_parcel_mean"], dtype=object)},
                                   name="parcel_stats"))
    if zones:
        zoning = management_zones(ndvi, grid, parcels, n_zones=2, min_area_m2=200.0, method="natural_breaks")
        cube.write_product(store, cube.flight_group(flight, "zones"), cube.raster(zoning.ranks, grid, "zones"))
    if parcel_cube:
        cube.write_product(store, PARCELS, xr.concat(layers, dim="time"))
