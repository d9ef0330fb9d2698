"""`delineation._cells` block-averages a parcel window strip by strip: it must equal `reduce_mean`
of the whole NaN-padded window (the definition) bit for bit, at the grid's south/east edges too."""
from __future__ import annotations

import numpy as np
import shapely
from affine import Affine
from rasterio.crs import CRS

from pipelines.core.grid import FarmGrid
from pipelines.imagery.parcels.coverage import coverage
from pipelines.imagery.preview import reduce_mean
from pipelines.imagery.zones import delineation


def test_cells_by_strips_equal_the_whole_window_block_mean(monkeypatch):
    monkeypatch.setattr(delineation, "CHUNK_PX", 64)  # several strips and bands on a small grid
    monkeypatch.setattr(delineation, "CELL_BAND", 3)
    grid = FarmGrid(CRS.from_epsg(32631), Affine(0.05, 0, 500000.0, 0, -0.05, 4000000.0), 703, 611)
    rng = np.random.default_rng(3)
    index = rng.normal(0.5, 0.2, grid.shape).astype(np.float32)
    index[rng.random(grid.shape) < 0.2] = np.nan
    index[100:180, 200:260] = np.nan
    factor = delineation.cell_factor(grid.resolution_m)
    cells = grid.coarsened(factor)
    x0, y0, x1, y1 = grid.bounds
    for outline in (shapely.box(x0, y0, x1, y1), shapely.box(x0 + 3.3, y0 + 0.2, x0 + 20.1, y1 - 7.9),
                    shapely.Polygon([(x0 + 1, y0 + 1), (x1 + 2, y0 + 9), (x0 + 9, y1 + 1)])):
        cover = coverage(outline, cells)
        r0, c0, r1, c1 = (cover.rows.start * factor, cover.cols.start * factor,
                          cover.rows.stop * factor, cover.cols.stop * factor)
        padded = np.full((r1 - r0, c1 - c0), np.nan, np.float32)
        read = index[r0:r1, c0:c1]
        padded[:read.shape[0], :read.shape[1]] = read
        expected = reduce_mean(padded, factor).astype(np.float32)
        np.testing.assert_array_equal(delineation._cells(index, cover, factor, grid), expected)
