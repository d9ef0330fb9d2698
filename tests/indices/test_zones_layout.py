"""Management zones: count honoured, minimum area honoured, ranks follow vigour, gradients found."""
from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from affine import Affine
from rasterio.crs import CRS

from pipelines.core.grid import FarmGrid
from pipelines.imagery.parcels.layer import ParcelSet
from pipelines.imagery.zones.classes import natural_breaks
from pipelines.imagery.zones.delineation import management_zones

GRID = FarmGrid(CRS.from_epsg(32629), Affine(0.25, 0.0, 464200.0, 0.0, -0.25, 3342850.0), 480, 240)
WEST, SOUTH, EAST, NORTH = GRID.bounds


def _parcels(*geoms) -> ParcelSet:
    frame = gpd.GeoDataFrame({"id": [f"Z{i}" for i in range(len(geoms))], "crop": "durum_wheat"},
                             geometry=list(geoms), crs="EPSG:32629")
    return ParcelSet("zones-test", frame, [])


def _noisy_field(seed: int) -> np.ndarray:
    """Patchy vigour: smooth random field (blobs of a few metres) plus pixel noise, NDVI 0.2-0.9."""
    from scipy import ndimage

    rng = np.random.default_rng(seed)
    field = ndimage.gaussian_filter(rng.normal(0, 1, GRID.shape), 12)
    field = 0.55 + 0.2 * field / field.std() + rng.normal(0, 0.04, GRID.shape)
    return np.clip(field, 0.2, 0.9).astype(np.float32)


# a skewed quadrilateral (1 680 m²) and a rotated rectangle (~1 000 m²) on a 120 m × 60 m grid
FIELD_A = shapely.Polygon([(WEST + 3.1, NORTH - 4.2), (WEST + 55.3, NORTH - 2.7), (WEST + 52.6, NORTH - 37.9),
                           (WEST + 5.4, NORTH - 33.3)])
FIELD_B = shapely.affinity.rotate(shapely.box(WEST + 66, NORTH - 50, WEST + 106, NORTH - 25), 17)


@pytest.mark.parametrize(("n_zones", "method"), [(2, "kmeans"), (3, "natural_breaks"), (5, "kmeans")])
def test_zone_count_area_and_ranks_are_honoured(n_zones, method):
    min_area = 60.0
    zones = management_zones(_noisy_field(1), GRID, _parcels(FIELD_A, FIELD_B), n_zones=n_zones,
                             min_area_m2=min_area, method=method)
    assert zones.notes == {}
    for pid, outline in (("Z0", FIELD_A), ("Z1", FIELD_B)):
        own = zones.frame[zones.frame["parcel_id"] == pid].sort_values("zone")
        assert own["zone"].tolist() == list(range(1, n_zones + 1))
        assert (own["n_zones"] == n_zones).all()
        assert np.all(np.diff(own["index_mean"]) > 0), "rank 1 must be the lowest vigour"
        parts = shapely.get_parts(np.array(own.geometry))
        assert min(p.area for p in parts) >= min_area * (1 - 1e-9)
        assert own["area_m2"].sum() == pytest.approx(outline.area, rel=1e-9)  # zones tile the parcel
        assert shapely.union_all(own.geometry).symmetric_difference(outline).area < 1e-6
    assert zones.frame.is_valid.all()
    assert set(np.unique(zones.ranks)) == set(range(0, n_zones + 1))


def test_zones_follow_a_strong_west_east_gradient():
    rng = np.random.default_rng(4)
    cols = np.arange(GRID.width, dtype=np.float32)
    ndvi = np.broadcast_to(0.2 + 0.7 * cols / GRID.width, GRID.shape) + rng.normal(0, 0.02, GRID.shape)
    field = shapely.box(WEST + 10, NORTH - 50, WEST + 100, NORTH - 10)  # 90 m × 40 m
    zones = management_zones(ndvi.astype(np.float32), GRID, _parcels(field), n_zones=3, min_area_m2=200)
    frame = zones.frame.sort_values("zone")
    # equal-width bands of a linear gradient: each zone ~ 1/3 of 3 600 m², ordered west to east
    np.testing.assert_allclose(frame["area_m2"], 1200.0, rtol=0.08)
    assert np.all(np.diff(frame.geometry.centroid.x) > 20.0)
    bounds = frame.geometry.bounds
    assert (bounds["maxx"] - bounds["minx"]).max() < 40.0  # north-south strips, not blobs
    np.testing.assert_allclose(frame["index_mean"],
                               0.2 + 0.7 * (frame.geometry.centroid.x - WEST) / (GRID.width * 0.25),
                               atol=0.01)
    window = zones.ranks[40:200, 40:400]
    columns_pure = [np.bincount(window[:, c]).max() / window.shape[0] for c in range(window.shape[1])]
    assert np.mean(columns_pure) > 0.97


def test_small_or_empty_parcels_get_one_zone_or_none_with_a_reason():
    ndvi = _noisy_field(2)
    ndvi[:, 400:] = np.nan
    small = shapely.box(WEST + 10, NORTH - 20, WEST + 25, NORTH - 10)       # 150 m² < 3 × 200 m²
    no_data = shapely.box(WEST + 112, NORTH - 40, WEST + 118, NORTH - 10)   # all NaN
    half = shapely.box(WEST + 60, NORTH - 50, WEST + 110, NORTH - 10)       # 2 000 m², 1 000 m² valid
    zones = management_zones(ndvi, GRID, _parcels(small, no_data, half), n_zones=3, min_area_m2=200)
    assert "one zone" in zones.notes["Z0"] and "150 m²" in zones.notes["Z0"]
    assert "no valid index pixels" in zones.notes["Z1"]
    counts = zones.frame.groupby("parcel_id").size()
    assert counts.get("Z0") == 1 and "Z1" not in counts
    assert counts.get("Z2") == 3 or "of 3 zones remain" in zones.notes["Z2"]
    half_zones = zones.frame[zones.frame["parcel_id"] == "Z2"]
    assert half_zones["area_m2"].sum() == pytest.approx(half.area)  # NaN pixels join their nearest zone
    assert zones.ranks[40:160, 448:472].max() == 0  # no zone where there is no data and no parcel zoned
    assert zones.ranks[40:200, 404:436].min() >= 1  # the NaN half of Z2 still carries its zones


def test_bad_zone_count_is_refused():
    with pytest.raises(ValueError, match="between 2 and 5"):
        management_zones(_noisy_field(3), GRID, _parcels(FIELD_A), n_zones=6)


def test_natural_breaks_fall_in_the_gaps_between_clusters():
    rng = np.random.default_rng(9)
    clusters = [rng.normal(m, 0.02, k) for m, k in ((0.2, 3000), (0.5, 500), (0.8, 2000))]
    values = np.concatenate(clusters)
    breaks = natural_breaks(values, np.ones_like(values), 3)
    assert clusters[0].max() < breaks[0] <= clusters[1].min() and clusters[1].max() < breaks[1] <= clusters[2].min()
    truth = np.repeat([0, 1, 2], [3000, 500, 2000])
    assert np.array_equal(np.digitize(values, breaks), truth)
