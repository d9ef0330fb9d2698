import numpy as np
import pytest
import xarray as xr

from pipelines.store import cube


def _reflectance(grid, value):
    data = np.full((2, *grid.shape), value, dtype="float32")
    return cube.raster(data, grid, "reflectance", "band", ["red", "nir"], {"units": "1"})


def test_product_round_trip_keeps_grid_and_crs(tmp_path, grid):
    store = tmp_path / "farm.zarr"
    group = cube.flight_group("chtouka-20260115", "reflectance")
    cube.write_product(store, group, _reflectance(grid, 0.2))
    ds = xr.open_zarr(store, group=group, consolidated=False, decode_coords="all")
    assert ds.rio.crs.to_epsg() == 32629
    assert ds.rio.transform() == grid.transform
    assert ds.reflectance.shape == (2, 1200, 1600)
    assert float(ds.x[0]) == pytest.approx(grid.transform.c + 0.125)
    assert cube.flights_in_store(store) == ["chtouka-20260115"]


def test_rewrite_replaces_and_failed_write_keeps_previous(tmp_path, grid):
    store = tmp_path / "farm.zarr"
    group = cube.flight_group("chtouka-20260115", "reflectance")
    cube.write_product(store, group, _reflectance(grid, 0.2))
    cube.write_product(store, group, _reflectance(grid, 0.3))
    with pytest.raises(RuntimeError), cube.staged_product(store, group) as staging:
        _reflectance(grid, 0.9).to_dataset().to_zarr(staging, zarr_format=3, consolidated=False)
        raise RuntimeError("worker died mid-write")
    values = cube.read_product(store, group).reflectance.values
    assert np.all(values == np.float32(0.3))
    assert not any((store / cube.STAGING).iterdir())
