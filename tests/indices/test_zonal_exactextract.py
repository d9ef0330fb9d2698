"""Exact-coverage zonal statistics agree with exactextract (the peer oracle) on random polygons."""
from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import rasterio
import shapely
from affine import Affine
from rasterio.crs import CRS

from pipelines.core.grid import FarmGrid
from pipelines.imagery.parcels.layer import ParcelSet
from pipelines.imagery.parcels.zonal import parcel_statistics, partition_at, weighted_quantiles

GRID = FarmGrid(CRS.from_epsg(32629), Affine(0.25, 0.0, 464200.0, 0.0, -0.25, 3342850.0), 480, 360)


def _star(rng: np.random.Generator, centre: np.ndarray, radius_m: float, n: int = 14) -> shapely.Polygon:
    angles = np.sort(rng.uniform(0, 2 * np.pi, n))
    radii = radius_m * rng.uniform(0.45, 1.0, n)
    return shapely.Polygon(np.c_[centre[0] + radii * np.cos(angles), centre[1] + radii * np.sin(angles)])


def _parcels(geoms: list) -> ParcelSet:
    frame = gpd.GeoDataFrame({"id": [f"R{i:02d}" for i in range(len(geoms))]}, geometry=geoms, crs="EPSG:32629")
    return ParcelSet(GRID_PATH, frame, [])


GRID_PATH = "random-polygons"


@pytest.fixture(scope="module")
def ndvi_layer() -> np.ndarray:
    rng = np.random.default_rng(42)
    yy, xx = np.mgrid[0:GRID.height, 0:GRID.width]
    layer = (0.5 + 0.3 * np.sin(xx / 17.0) * np.cos(yy / 23.0) + rng.normal(0, 0.05, GRID.shape)).astype(np.float32)
    layer[100:130, 200:260] = np.nan  # a cloud-shadow gap inside some polygons
    return layer


def _exactextract(layer: np.ndarray, parcels: ParcelSet, tmp_path) -> dict:
    from exactextract import exact_extract

    path = tmp_path / "layer.tif"
    with rasterio.open(path, "w", driver="GTiff", width=GRID.width, height=GRID.height, count=1, dtype="float32",
                       crs=GRID.crs, transform=GRID.transform, nodata=np.nan) as dst:
        dst.write(layer, 1)
    features = parcels.frame.rename(columns={"id": "parcel"})  # exactextract treats "id" as the feature id
    frame = exact_extract(str(path), features, ["count", "mean"], include_cols=["parcel"], output="pandas")
    return frame.set_index("parcel")


def test_count_and_mean_agree_with_exactextract_on_random_polygons(ndvi_layer, tmp_path):
    rng = np.random.default_rng(7)
    west, south, east, north = GRID.bounds
    geoms = [_star(rng, rng.uniform([west + 5, south + 5], [east - 5, north - 5]), rng.uniform(1.5, 25.0))
             for _ in range(25)]
    geoms.append(shapely.box(west - 3, north - 8, west + 6, north + 2))  # partly off the grid
    parcels = _parcels(geoms)
    ours = parcel_statistics(ndvi_layer[None], ["ndvi"], GRID, parcels).set_index("parcel_id")
    theirs = _exactextract(ndvi_layer, parcels, tmp_path)
    np.testing.assert_allclose(ours["n_pixels"], theirs.loc[ours.index, "count"], rtol=0.005)
    np.testing.assert_allclose(ours["ndvi_mean"], theirs.loc[ours.index, "mean"], rtol=0.005)
    # exact coverage is much tighter than the 0.5 % contract: both compute the same areas
    np.testing.assert_allclose(ours["n_pixels"], theirs.loc[ours.index, "count"], rtol=1e-4)


def test_overlapping_parcels_each_get_their_full_coverage(ndvi_layer):
    west, south, _, north = GRID.bounds
    a = shapely.box(west + 10.1, north - 40.3, west + 40.2, north - 10.05)
    b = shapely.box(west + 30.05, north - 50.1, west + 60.3, north - 20.2)
    stats = parcel_statistics(np.ones((1, *GRID.shape), np.float32), ["one"], GRID, _parcels([a, b]))
    np.testing.assert_allclose(stats["area_m2"], [a.area, b.area], rtol=1e-6)
    np.testing.assert_allclose(stats["one_mean"], 1.0)
    np.testing.assert_allclose(stats["one_std"], 0.0, atol=1e-6)


def test_class_map_restricts_statistics_to_crop_and_measures_weed_pressure():
    west, south, _, north = GRID.bounds
    parcel = shapely.box(west + 10, north - 30, west + 30, north - 10)  # 80 x 80 px, aligned
    classes = np.zeros(GRID.shape, np.uint8)
    rows, cols = slice(40, 120), slice(40, 120)
    block = classes[rows, cols]
    block[:, :40] = 1   # crop: half the parcel
    block[:, 40:50] = 2  # weed: 10 of 80 columns
    block[:, 70:] = 255  # no data: last 10 columns
    ndvi = np.full(GRID.shape, 0.2, np.float32)
    ndvi[rows, cols][:, :40] = 0.8
    stats = parcel_statistics(ndvi[None], ["ndvi"], GRID, _parcels([parcel]), classes=classes).iloc[0]
    assert stats["ndvi_mean"] == pytest.approx(0.8, abs=1e-6)
    assert stats["n_pixels"] == pytest.approx(80 * 40)
    assert stats["crop_cover_fraction"] == pytest.approx(40 / 70)
    assert stats["weed_pressure"] == pytest.approx(10 / 50)


def test_parcel_without_valid_pixels_keeps_its_row_with_a_reason():
    west, south, _, north = GRID.bounds
    inside = shapely.box(west + 5, north - 15, west + 15, north - 5)
    outside = shapely.box(west - 50, north + 10, west - 40, north + 20)
    values = np.full((1, *GRID.shape), np.nan, np.float32)
    stats = parcel_statistics(values, ["ndvi"], GRID, _parcels([inside, outside]))
    assert list(stats["status"]) == ["no valid pixels", "outside grid"]
    assert stats["n_pixels"].tolist() == [0.0, 0.0]
    assert stats["ndvi_mean"].isna().all()


def test_weighted_quantiles_match_repeated_values():
    rng = np.random.default_rng(3)
    values = rng.normal(0.6, 0.1, 500).astype(np.float32)
    weights = np.where(rng.random(500) < 0.8, 1.0, rng.choice([0.25, 0.5, 0.75], 500)).astype(np.float32)
    repeated = np.repeat(values, (weights * 4).astype(int))
    expected = [np.quantile(repeated, q, method="inverted_cdf") for q in (0.1, 0.5, 0.9)]
    np.testing.assert_allclose(weighted_quantiles(values, weights, [0.1, 0.5, 0.9]), expected)


def _inverted_cdf(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    """The definition, by brute force: sort every value, the first whose cumulative weight reaches q · Σw."""
    keep = weights > 0
    order = np.argsort(values[keep], kind="stable")
    v, cw = values[keep][order], np.cumsum(weights[keep][order], dtype=np.float64)
    if not v.size:
        return float("nan")
    return float(v[min(np.searchsorted(cw, q * cw[-1], side="left"), v.size - 1)])


@pytest.mark.parametrize("seed", range(40))
def test_weighted_quantiles_equal_the_sorted_definition_with_ties_and_borders(seed):
    """The partition-based quantiles (no full sort) give the sorted definition's value exactly: rounded
    values make ties, quarter weights keep the sums exact, sizes run from all-border to all-interior."""
    rng = np.random.default_rng(seed)
    n = int(rng.choice([1, 2, 5, 40, 700, 5000]))
    values = np.round(rng.normal(0.6, 0.15, n), int(rng.choice([1, 2, 4]))).astype(np.float32)
    border_share = float(rng.choice([0.0, 0.05, 0.3, 1.0]))
    weights = np.where(rng.random(n) < border_share, rng.choice([0.0, 0.25, 0.5, 0.75], n), 1.0).astype(np.float32)
    qs = [0.0, 0.1, 0.5, 0.9, 1.0]
    expected = [_inverted_cdf(values, weights, q) for q in qs]
    np.testing.assert_array_equal(weighted_quantiles(values, weights, qs), expected)


@pytest.mark.parametrize("seed", range(12))
def test_partition_at_puts_each_rank_in_place_as_a_sort_would(seed):
    """Each asked rank holds the sorted array's value there, and the values between two asked ranks
    are the sorted ones between them (as a multiset), with ties and runs of equal values."""
    rng = np.random.default_rng(seed)
    n = int(rng.choice([1, 3, 50, 4000]))
    values = np.round(rng.normal(0.5, 0.2, n), int(rng.choice([1, 3]))).astype(np.float32)
    ranks = sorted(set(rng.integers(0, n, int(rng.integers(1, 8))).tolist()))
    expected = np.sort(values)
    partition_at(values, ranks)
    bounds = [0, *ranks, n]
    for lo, hi in zip(bounds[:-1], bounds[1:]):
        np.testing.assert_array_equal(np.sort(values[lo:hi]), expected[lo:hi])
    np.testing.assert_array_equal(values[ranks], expected[ranks])


def test_crop_cover_and_weed_pressure_agree_with_exactextract_areas_at_partial_border_pixels(tmp_path):
    """Class areas are coverage-weighted at the border (each pixel counts for the part of it inside the
    parcel): exactextract's coverage-weighted `sum` of each class's indicator raster is the oracle."""
    from exactextract import exact_extract

    rng = np.random.default_rng(11)
    west, south, east, north = GRID.bounds
    geoms = [_star(rng, rng.uniform([west + 5, south + 5], [east - 5, north - 5]), rng.uniform(1.5, 25.0))
             for _ in range(12)]
    classes = rng.choice(np.array([0, 1, 1, 2, 3, 255], np.uint8), GRID.shape)
    ours = parcel_statistics(np.ones((1, *GRID.shape), np.float32), ["one"], GRID, _parcels(geoms),
                             classes=classes).set_index("parcel_id")
    features = _parcels(geoms).frame.rename(columns={"id": "parcel"})
    areas = {}
    for name, indicator in {"crop": classes == 1, "weed": classes == 2, "known": classes != 255}.items():
        path = tmp_path / f"{name}.tif"
        with rasterio.open(path, "w", driver="GTiff", width=GRID.width, height=GRID.height, count=1,
                           dtype="float32", crs=GRID.crs, transform=GRID.transform) as dst:
            dst.write(indicator.astype(np.float32), 1)
        areas[name] = exact_extract(str(path), features, ["sum"], include_cols=["parcel"],
                                    output="pandas").set_index("parcel")["sum"]
    expected_cover = areas["crop"] / areas["known"]
    expected_weeds = areas["weed"] / (areas["crop"] + areas["weed"])
    np.testing.assert_allclose(ours["crop_cover_fraction"], expected_cover.loc[ours.index], rtol=1e-5)
    np.testing.assert_allclose(ours["weed_pressure"], expected_weeds.loc[ours.index], rtol=1e-5)


def test_partition_at_keeps_no_reference_to_the_values():
    """A parcel's gathered pixels are freed when the statistics drop them, not at the next garbage
    collection: a recursive closure (a reference cycle) kept 16 layers' pixels alive per parcel."""
    import gc
    import weakref

    values = np.random.default_rng(0).random(1000).astype(np.float32)
    alive = weakref.ref(values)
    gc.disable()
    try:
        partition_at(values, [10, 500, 990])
        del values
        assert alive() is None
    finally:
        gc.enable()
