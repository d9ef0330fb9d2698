"""Streaming reflectance -> indices over a Zarr store gives the in-memory result, with metadata."""
from __future__ import annotations

import json

import numpy as np
import pytest
from affine import Affine
from rasterio.crs import CRS

from pipelines.core.errors import InputDataError
from pipelines.core.grid import FarmGrid
from pipelines.imagery.indices.kernel import compute_indices
from pipelines.imagery.indices.product import write_index_product
from pipelines.store import cube

GRID = FarmGrid(CRS.from_epsg(32629), Affine(0.25, 0.0, 464200.0, 0.0, -0.25, 3342850.0), 700, 1100)
BANDS = ["green", "red", "rededge", "nir"]


def test_streamed_indices_equal_in_memory_indices(tmp_path):
    rng = np.random.default_rng(0)
    reflectance = rng.uniform(0.02, 0.6, (4, *GRID.shape)).astype(np.float32)
    reflectance[:, 500:520, :] = np.nan  # a no-data strip across a window border
    store = cube.farm_store(tmp_path, "chtouka")
    cube.write_product(store, cube.flight_group("f1", "reflectance"),
                       cube.raster(reflectance, GRID, "reflectance", layer_dim="band", layers=BANDS))
    summary = write_index_product(store, "f1", ["ndvi", "ndre", "exg", "cig"])
    assert summary.names == ["ndvi", "ndre", "cig"]
    assert "blue" in summary.skipped["exg"]
    written = cube.read_product(store, summary.group)
    expected = compute_indices(reflectance, BANDS, summary.names).values
    np.testing.assert_array_equal(written["indices"].values, expected)
    assert list(written["index"].values) == ["ndvi", "ndre", "cig"]
    assert written.rio.crs.to_epsg() == 32629
    assert json.loads(written["indices"].attrs["skipped_indices"])["exg"].startswith("needs band")
    assert np.isnan(written["indices"].values[:, 500:520]).all()
    for k, name in enumerate(summary.names):  # the asset's per-index means, summed while the strips were written
        assert summary.means[name] == pytest.approx(float(np.nanmean(expected[k].astype(np.float64))), rel=1e-12)


def test_flight_without_reflectance_is_reported(tmp_path):
    with pytest.raises(InputDataError, match="no reflectance product"):
        write_index_product(tmp_path / "x.zarr", "missing")
