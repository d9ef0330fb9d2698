"""Moments-only zonal statistics (sparse coverage runs) equal the dense path and exactextract."""
from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from affine import Affine
from rasterio.crs import CRS

from pipelines.core.grid import FarmGrid
from pipelines.imagery.parcels.layer import ParcelSet
from pipelines.imagery.parcels.zonal import parcel_statistics

GRID = FarmGrid(CRS.from_epsg(32629), Affine(0.25, 0.0, 464200.0, 0.0, -0.25, 3342850.0), 400, 300)
MOMENTS = ("count", "mean", "std")


@pytest.fixture(scope="module")
def layer() -> np.ndarray:
    rng = np.random.default_rng(8)
    yy, xx = np.mgrid[0:GRID.height, 0:GRID.width]
    ndvi = 0.55 + 0.3 * np.sin(xx / 13.0) * np.cos(yy / 19.0) + rng.normal(0, 0.05, GRID.shape)
    ndvi[40:60, 250:300] = np.nan  # a gap some parcels cover (dense fallback)
    return ndvi.astype(np.float32)


@pytest.fixture(scope="module")
def parcels() -> ParcelSet:
    rng = np.random.default_rng(12)
    west, south, east, north = GRID.bounds
    geoms = []
    for k in range(30):
        centre = rng.uniform([west, south], [east, north])
        angles = np.sort(rng.uniform(0, 2 * np.pi, 17))
        radii = rng.uniform(2.0, 18.0) * rng.uniform(0.4, 1.0, 17)
        polygon = shapely.Polygon(np.c_[centre[0] + radii * np.cos(angles), centre[1] + radii * np.sin(angles)])
        geoms.append(polygon.difference(shapely.Point(centre).buffer(0.3 * radii.min())) if k % 4 == 0 else polygon)
    frame = gpd.GeoDataFrame({"id": [f"M{k:02d}" for k in range(30)]}, geometry=geoms, crs="EPSG:32629")
    return ParcelSet("random-moments", frame, [])


def test_moments_only_equal_the_full_statistics(layer, parcels):
    full = parcel_statistics(layer[None], ["ndvi"], GRID, parcels)
    fast = parcel_statistics(layer[None], ["ndvi"], GRID, parcels, stats=MOMENTS)
    assert "ndvi_p50" not in fast.columns and list(fast["status"]) == list(full["status"])
    for column in ("n_pixels", "area_m2", "ndvi_mean", "ndvi_std"):
        np.testing.assert_allclose(fast[column], full[column], rtol=1e-6, atol=1e-7, err_msg=column)
    assert full["ndvi_mean"].notna().all()


def test_moments_only_agree_with_exactextract(layer, parcels, tmp_path):
    import rasterio
    from exactextract import exact_extract

    path = tmp_path / "ndvi.tif"
    with rasterio.open(path, "w", driver="GTiff", width=GRID.width, height=GRID.height, count=1, dtype="float32",
                       crs=GRID.crs, transform=GRID.transform, nodata=np.nan) as dst:
        dst.write(layer, 1)
    features = parcels.frame.rename(columns={"id": "parcel"})
    theirs = exact_extract(str(path), features, ["count", "mean", "stdev"], include_cols=["parcel"],
                           output="pandas").set_index("parcel")
    ours = parcel_statistics(layer[None], ["ndvi"], GRID, parcels, stats=MOMENTS).set_index("parcel_id")
    np.testing.assert_allclose(ours["n_pixels"], theirs.loc[ours.index, "count"], rtol=1e-4)
    np.testing.assert_allclose(ours["ndvi_mean"], theirs.loc[ours.index, "mean"], rtol=1e-4)
    np.testing.assert_allclose(ours["ndvi_std"], theirs.loc[ours.index, "stdev"], rtol=1e-3)


def test_unknown_statistic_is_refused(layer, parcels):
    with pytest.raises(ValueError, match="p75"):
        parcel_statistics(layer[None], ["ndvi"], GRID, parcels, stats=("mean", "p75"))
