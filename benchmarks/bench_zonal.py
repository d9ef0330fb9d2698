"""Per-parcel exact-coverage statistics: 200 parcels on a 10 000² float32 raster vs exactextract.

Both sides get the raster in memory (exactextract through its NumPyRasterSource) and compute
coverage-weighted count, mean and standard deviation (case 1, the project with
stats=("count", "mean", "std")), then also p10/p50/p90 (case 2, all statistics).
rasterstats is not installed: not measured.
"""
from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely
from affine import Affine
from rasterio.crs import CRS

from benchmarks import median_seconds
from pipelines.core.grid import FarmGrid
from pipelines.imagery.parcels.layer import ParcelSet
from pipelines.imagery.parcels.zonal import STATS, parcel_statistics


def _parcels(grid: FarmGrid, count: int, rng: np.random.Generator) -> ParcelSet:
    west, south, east, north = grid.bounds
    cols = int(np.ceil(np.sqrt(count * 2)))
    rows = int(np.ceil(count / cols))
    cell_w, cell_h = (east - west) / cols, (north - south) / rows
    geoms = []
    for k in range(count):
        cx = west + (k % cols + 0.5) * cell_w
        cy = north - (k // cols + 0.5) * cell_h
        angles = np.sort(rng.uniform(0, 2 * np.pi, 24))
        radii = 0.55 * min(cell_w, cell_h) * rng.uniform(0.7, 1.0, 24)
        geoms.append(shapely.Polygon(np.c_[cx + radii * np.cos(angles), cy + radii * np.sin(angles)]))
    frame = gpd.GeoDataFrame({"id": [f"P{k:03d}" for k in range(count)]}, geometry=geoms, crs=grid.crs.to_wkt())
    return ParcelSet("benchmark", frame, [])


def _timed(fn, repeats: int) -> float:
    return median_seconds(fn, repeats)


def run(quick: bool = False) -> list[dict]:
    from exactextract import exact_extract
    from exactextract.raster import NumPyRasterSource

    n, count, repeats = (1000, 20, 1) if quick else (10_000, 200, 3)
    grid = FarmGrid(CRS.from_epsg(32629), Affine(0.25, 0.0, 400000.0, 0.0, -0.25, 3400000.0), n, n)
    rng = np.random.default_rng(5)
    layer = rng.uniform(0.1, 0.9, (n, n)).astype(np.float32)
    parcels = _parcels(grid, count, rng)
    west, south, east, north = grid.bounds
    source = NumPyRasterSource(layer, west, south, east, north, srs_wkt=grid.crs.to_wkt(), name="ndvi")
    features = parcels.frame.rename(columns={"id": "parcel"})
    rows = []
    for case, ops, stats in (("count, mean, std", ["count", "mean", "stdev"], ("count", "mean", "std")),
                             ("count, mean, std, p10/p50/p90",
                              ["count", "mean", "stdev", "quantile(q=0.1)", "quantile(q=0.5)", "quantile(q=0.9)"],
                              STATS)):
        theirs = _timed(lambda: exact_extract(source, features, ops, include_cols=["parcel"], output="pandas"), repeats)
        ours = _timed(lambda: parcel_statistics(layer[None], ["ndvi"], grid, parcels, stats=stats), repeats)
        rows.append({"benchmark": "zonal", "case": f"{count} parcels on {n}² ({case})", "figure": ours, "unit": "s",
                     "baseline": "exactextract", "baseline_figure": theirs, "ratio": theirs / ours,
                     "target": ">= 3x faster", "met": theirs / ours >= 3.0})
    rows.append({"benchmark": "zonal", "case": "rasterstats", "figure": "not measured", "unit": "", "baseline": "",
                 "baseline_figure": "", "ratio": "", "target": "", "met": "rasterstats not installed"})
    return rows
