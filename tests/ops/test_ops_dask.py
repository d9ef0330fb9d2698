"""Indices computed on a LocalCluster of worker processes equal the in-process product bit for bit."""
from __future__ import annotations

import numpy as np
import pytest

from pipelines.core.grid import FarmGrid
from pipelines.imagery.indices.distributed import write_index_product_distributed
from pipelines.imagery.indices.product import write_index_product
from pipelines.orchestration.resources import DaskCluster
from pipelines.store import cube

BANDS = ["blue", "green", "red", "rededge", "nir"]


@pytest.fixture
def stores(tmp_path, grid):
    """Two stores holding the same synthetic 5-band reflectance on a 1024 x 1536 corner of the farm grid,
    with NaN (no data) and zero-sum pixels to exercise the guarded formulas."""
    small = FarmGrid(grid.crs, grid.transform, 1536, 1024)
    rng = np.random.default_rng(7)
    data = rng.uniform(0.0, 0.6, (len(BANDS), small.height, small.width)).astype("float32")
    data[:, :40, :40] = np.nan
    data[:, 100:110, :] = 0.0
    product = cube.raster(data, small, "reflectance", "band", BANDS, {"units": "1"})
    paths = [tmp_path / "local.zarr", tmp_path / "cluster.zarr"]
    for path in paths:
        cube.write_product(path, cube.flight_group("chtouka-20260115", "reflectance"), product)
    return paths


@pytest.mark.slow
def test_distributed_indices_equal_in_process(stores):
    local, clustered = stores
    expected = write_index_product(local, "chtouka-20260115")
    with DaskCluster(n_workers=2, threads_per_worker=1, memory_limit="1GiB").client() as client:
        assert len(client.scheduler_info()["workers"]) == 2
        got = write_index_product_distributed(clustered, "chtouka-20260115", client)
    assert got.names == expected.names and len(got.names) >= 10
    a = cube.load_product(local, expected.group)["indices"]
    b = cube.load_product(clustered, got.group)["indices"]
    np.testing.assert_array_equal(a.values, b.values)  # NaN positions equal too
    ndvi = b.sel(index="ndvi").values
    assert np.isnan(ndvi[:40, :40]).all() and np.isnan(ndvi[100:110]).all()
    assert float(np.nanmax(ndvi)) <= 1.0 and float(np.nanmin(ndvi)) >= -1.0
    assert b.encoding["chunks"] == (1, 512, 512)
    assert a.attrs["index_formulas"] == b.attrs["index_formulas"]
