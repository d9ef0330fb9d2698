"""`coverage.coverage` fills the window from the cells holding edge entries; it must equal the
dense definition (bincount + row cumsum + `_fraction` over the float64 window) bit for bit."""
from __future__ import annotations

import numpy as np
import pytest
import shapely
from affine import Affine
from rasterio.crs import CRS

from pipelines.core.grid import FarmGrid
from pipelines.imagery.parcels import coverage as cov

GRID = FarmGrid(CRS.from_epsg(32631), Affine(0.05, 0, 500000.0, 0, -0.05, 4000000.0), 400, 300)


def _dense(polygon):
    found = cov._accumulation(polygon, GRID)
    return None if found is None else cov._dense_fraction(*found)


def _polygons(seed: int):
    rng = np.random.default_rng(seed)
    x0, y0, x1, y1 = GRID.bounds
    for _ in range(60):
        points = rng.uniform([x0 - 1, y0 - 1], [x1 + 1, y1 + 1], (rng.integers(3, 12), 2))
        polygon = shapely.Polygon(points).buffer(0)
        if rng.random() < 0.4:  # a hole
            polygon = polygon.difference(shapely.Point(points[0]).buffer(rng.uniform(0.05, 3)))
        if rng.random() < 0.3:  # a long near-horizontal strip: many cells in a few rows
            polygon = shapely.union(polygon, shapely.box(x0 + 0.01, y0 + 1.0, x1 - 0.3, y0 + 1.013))
        if rng.random() < 0.2:  # a second part
            polygon = shapely.union(polygon, shapely.box(x0 + 0.3, y1 - 2.0, x0 + 5.1, y1 - 0.7))
        if not polygon.is_empty:
            yield polygon
    yield shapely.box(x0, y0, x1, y1)  # the whole grid: interior runs only
    yield shapely.box(x1 + 1, y1 + 1, x1 + 2, y1 + 2)  # off the grid


@pytest.mark.parametrize("seed", range(3))
def test_sparse_fill_equals_the_dense_definition(seed):
    for polygon in _polygons(seed):
        found, expected = cov.coverage(polygon, GRID), _dense(polygon)
        if expected is None:
            assert found is None
            continue
        assert found.fraction.dtype == np.float32
        np.testing.assert_array_equal(found.fraction, expected)
