"""Zones of a flight finer than 0.25 m are delineated on 0.25 m cells: the zones of a 5 cm flight
follow the field as the 0.25 m flight's do, ranks stay on the 5 cm pixels, and the Zarr-backed
(windowed) path gives the in-memory result bit for bit."""
from __future__ import annotations

import numpy as np
import pytest
import shapely
import zarr
from affine import Affine
from rasterio.crs import CRS

from pipelines.core.grid import FarmGrid
from pipelines.imagery.zones.delineation import ZONE_CELL_M, cell_factor, management_zones
from tests.indices.test_zones_layout import _parcels

FINE = FarmGrid(CRS.from_epsg(32629), Affine(0.05, 0.0, 464200.0, 0.0, -0.05, 3342850.0), 2400, 1200)
WEST, SOUTH, EAST, NORTH = FINE.bounds
FIELD = shapely.box(WEST + 10.02, NORTH - 50.03, WEST + 100.01, NORTH - 10.04)  # 90 m × 40 m, off the cell lines


def _gradient(grid: FarmGrid, seed: int) -> np.ndarray:
    """NDVI rising west to east 0.2 → 0.9 with pixel noise (σ 0.02)."""
    rng = np.random.default_rng(seed)
    x = (np.arange(grid.width, dtype=np.float32) + 0.5) / grid.width
    return (np.broadcast_to(0.2 + 0.7 * x, grid.shape) + rng.normal(0, 0.02, grid.shape)).astype(np.float32)


def test_cell_factor_keeps_quarter_metre_flights_as_they_are():
    assert cell_factor(0.25) == 1 and cell_factor(0.5) == 1 and cell_factor(0.05) == 5 and cell_factor(0.1) == 2
    assert ZONE_CELL_M == 0.25


def test_five_centimetre_zones_follow_the_gradient_with_ranks_on_the_pixels():
    ndvi = _gradient(FINE, 4)
    zones = management_zones(ndvi, FINE, _parcels(FIELD), n_zones=3, min_area_m2=200)
    frame = zones.frame.sort_values("zone")
    assert frame["zone"].tolist() == [1, 2, 3] and zones.notes == {}
    np.testing.assert_allclose(frame["area_m2"], FIELD.area / 3, rtol=0.08)
    assert frame["area_m2"].sum() == pytest.approx(FIELD.area, rel=1e-9)
    # zone mean = the coverage-weighted mean of the 5 cm pixels; on a linear ramp, the ramp at the centroid
    ramp = 0.2 + 0.7 * (frame.geometry.centroid.x - WEST) / (FINE.width * 0.05)
    np.testing.assert_allclose(frame["index_mean"], ramp,
                               atol=0.01)
    assert shapely.union_all(frame.geometry).symmetric_difference(FIELD).area < 1e-6
    # ranks on the 5 cm grid: every pixel at least half inside the field has a zone, none outside it
    rows = slice(int(10.04 / 0.05) + 1, int(50.03 / 0.05) - 1)
    cols = slice(int(10.02 / 0.05) + 1, int(100.01 / 0.05) - 1)
    assert zones.ranks.shape == FINE.shape and (zones.ranks[rows, cols] > 0).all()
    assert zones.ranks.sum() == zones.ranks[rows.start - 2:rows.stop + 2, cols.start - 2:cols.stop + 2].sum()
    # each zone's pixels lie within its polygon's west-east extent (to one 0.25 m cell)
    x = FINE.x_coords()
    for zone, geom in zip(frame["zone"], frame.geometry):
        inside = np.flatnonzero((zones.ranks == zone).any(axis=0))
        assert x[inside].min() >= geom.bounds[0] - ZONE_CELL_M and x[inside].max() <= geom.bounds[2] + ZONE_CELL_M


def test_windowed_cells_equal_in_memory(tmp_path):
    ndvi = _gradient(FINE, 7)
    ndvi[300:340, 500:900] = np.nan  # a hole of no data, crossing cell borders
    stored = zarr.create_array(str(tmp_path / "ndvi.zarr"), shape=ndvi.shape, chunks=(512, 512), dtype="float32")
    stored[:] = ndvi
    parcels = _parcels(FIELD, shapely.affinity.rotate(shapely.box(WEST + 105, NORTH - 55, WEST + 118, NORTH - 5), 11))
    memory = management_zones(ndvi, FINE, parcels, n_zones=3, min_area_m2=100)
    windowed = management_zones(stored, FINE, parcels, n_zones=3, min_area_m2=100)
    np.testing.assert_array_equal(windowed.ranks, memory.ranks)
    assert windowed.notes == memory.notes
    assert windowed.frame.drop(columns="geometry").equals(memory.frame.drop(columns="geometry"))
    assert all(a.equals_exact(b, 0) for a, b in zip(windowed.frame.geometry, memory.frame.geometry))
