import json

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


def _zone_plan(day: int, zones=("p1", "p2", "p3"), fill=None):
    values = np.arange(len(zones) * 2, dtype="float64").reshape(len(zones), 2) * day
    values[0, 1] = np.nan
    if fill is not None:
        values[:] = fill
    return xr.DataArray(values, dims=("zone_id", "variable"), name="zone_plan",
                        coords={"zone_id": np.array(zones, dtype=object),
                                "variable": np.array(["a", "b"], dtype=object)},
                        attrs={"date": f"2026-01-{day:02d}", "note": f"jour {day}: 12 m³ coupés"})


def _files(group_dir):
    """Every file of a published group (bytes), the version stamp masked in the metadata documents."""
    found = {}
    for path in sorted(p for p in group_dir.rglob("*") if p.is_file()):
        content = path.read_bytes()
        version = json.loads(content)["attributes"].get(cube.VERSION_ATTR) if path.name == "zarr.json" else None
        found[path.relative_to(group_dir).as_posix()] = content.replace(version.encode(), b"V") if version else content
    return found


def test_many_products_of_one_layout_equal_one_by_one_writes(tmp_path, monkeypatch):
    """`write_products` stages the products after the first as copies of its files (`templated`):
    each group holds the same files, metadata and data as a `write_product` of it alone, has its own
    version stamp, and a product of another layout (other zones, all-NaN data) is written whole."""
    products = {f"zone_plans/2026-01-{d:02d}": _zone_plan(d) for d in range(1, 6)}
    products["zone_plans/2026-01-06"] = _zone_plan(6, zones=("p1", "p9"))
    products["zone_plans/2026-01-07"] = _zone_plan(7, fill=np.nan)
    batch, single = tmp_path / "batch.zarr", tmp_path / "single.zarr"
    staged, stage = [], cube.Template.stage
    monkeypatch.setattr(cube.Template, "stage", lambda self, *args: staged.append(args[1]) or stage(self, *args))
    cube.write_products(batch, products)
    assert len(staged) == 5   # days 2-5 and the all-NaN day 7 from day 1's files; day 6 (other zones) whole
    for group, product in products.items():
        cube.write_product(single, group, product)
    versions = set()
    for group, product in products.items():
        assert _files(batch / group) == _files(single / group), group
        loaded = cube.load_product(batch, group)
        versions.add(loaded.attrs.pop(cube.VERSION_ATTR))
        xr.testing.assert_identical(loaded, product.to_dataset())
    assert len(versions) == len(products)
    assert sorted(xr.open_zarr(batch, group="zone_plans/2026-01-03").data_vars) == ["zone_plan"]  # root catalogue
    assert not any((batch / cube.STAGING).iterdir())


def test_failed_templated_write_keeps_the_published_product(tmp_path, monkeypatch):
    store = tmp_path / "farm.zarr"
    cube.write_products(store, {"zone_plans/2026-01-02": _zone_plan(2)})

    def fail(*_):
        raise OSError("worker died mid-write")

    monkeypatch.setattr(cube.Template, "stage", fail)
    with pytest.raises(OSError):
        cube.write_products(store, {"zone_plans/2026-01-01": _zone_plan(1), "zone_plans/2026-01-02": _zone_plan(3)})
    kept = cube.load_product(store, "zone_plans/2026-01-02")
    kept.attrs.pop(cube.VERSION_ATTR)
    xr.testing.assert_identical(kept, _zone_plan(2).to_dataset())
    assert cube.has_product(store, "zone_plans/2026-01-01")
    assert not any((store / cube.STAGING).iterdir())
