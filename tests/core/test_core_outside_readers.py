"""Readers outside the project: xarray without a warning, GDAL (rasterio) through the COG copies.

A flight's reflectance (with a no-data corner), its indices (the project's index writer) and a
class map are published on the sample farm's grid (1600 x 1200 px, EPSG:32629, 0.25 m). Then:
- every product group opens with `xr.open_zarr(store, group=..., decode_coords="all")` while
  warnings are errors (consolidated metadata, issue 16);
- the COGs exported at `<farm>.cog/<flight>/<product>.tif` (`geotiff.export_flight`, the
  `flight_geotiffs` asset) open with rasterio (GDAL 3.10 refuses the Zarr v3 stores:
  `Unsupported codec: bytes`) with the farm CRS and transform, one band per layer named after it,
  the same pixels as the Zarr product, ZSTD (+ predictor for class codes), tiled, with overviews,
  and the Zarr product's version stamp; a re-published product's COG is stale until exported
  again, and a current one is not rewritten.
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest
import rasterio
import xarray as xr

from pipelines.store import cube, geotiff

FLIGHT = "chtouka-20260325"
BANDS = ["green", "red", "rededge", "nir"]
SOIL, CROP, NO_DATA = 0, 1, 255


@pytest.fixture(scope="module")
def store(tmp_path_factory, grid):
    from pipelines.imagery.indices.product import write_index_product

    store = tmp_path_factory.mktemp("gis") / "chtouka.zarr"
    rows, cols = np.mgrid[0:grid.height, 0:grid.width]
    canopy = (cols / grid.width).astype(np.float32)                 # bare soil west → full canopy east
    reflectance = np.stack([0.08 - 0.04 * canopy, 0.20 - 0.16 * canopy, 0.22 + 0.05 * canopy,
                            0.25 + 0.25 * canopy]).astype(np.float32)
    reflectance[:, :300, :400] = np.nan                                  # outside the mosaic
    cube.write_product(store, cube.flight_group(FLIGHT, "reflectance"),
                       cube.raster(reflectance, grid, "reflectance", "band", BANDS,
                                   {"units": "1", "long_name": "surface reflectance"}))
    write_index_product(store, FLIGHT, names=["ndvi", "ndre", "gndvi"])
    classes = np.where(canopy > 0.5, CROP, SOIL).astype(np.uint8)
    classes[:300, :400] = NO_DATA
    cube.write_product(store, cube.flight_group(FLIGHT, "classes"),
                       cube.raster(classes, grid, "classes", attrs={"flag_values": [0, 1, 2, 3, 255],
                                                                    "flag_meanings": "soil crop weed shadow no_data"}))
    assert geotiff.export_flight(store, FLIGHT) == {"reflectance": True, "indices": True, "classes": True}
    return store


@pytest.mark.parametrize("product", ["reflectance", "indices", "classes"])
def test_xarray_opens_every_product_without_a_warning(store, product):
    group = cube.flight_group(FLIGHT, product)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        outside = xr.open_zarr(store, group=group, decode_coords="all")
        also = xr.open_zarr(store / group, decode_coords="all")
    assert outside.rio.crs.to_epsg() == 32629
    ours = cube.load_product(store, group)[product].values
    np.testing.assert_array_equal(outside[product].values, ours)
    np.testing.assert_array_equal(also[product].values, ours)


def test_root_catalogue_follows_a_replaced_product(store, grid):
    """A rewrite with other layers is what an outside reader sees next, with no warning."""
    group = cube.flight_group("chtouka-20260401", "indices")
    for names in (["ndvi", "ndre"], ["ndvi"]):
        data = np.full((len(names), *grid.shape), 0.5, np.float32)
        cube.write_product(store, group, cube.raster(data, grid, "indices", "index", names))
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            seen = xr.open_zarr(store, group=group, decode_coords="all")
        assert list(seen["index"].values) == names
    assert not list((store / cube.STAGING).iterdir()), "no lock or staging left behind"


@pytest.mark.parametrize("product, layers, dtype, nodata", [
    ("reflectance", BANDS, "float32", None), ("indices", ["ndvi", "ndre", "gndvi"], "float32", None),
    ("classes", ["classes"], "uint8", NO_DATA)])
def test_gis_users_open_the_flight_rasters_as_cogs(store, grid, product, layers, dtype, nodata):
    path = geotiff.geotiff_path(store, FLIGHT, product)
    assert path == store.parent / "chtouka.cog" / FLIGHT / f"{product}.tif"
    zarr_product = cube.load_product(store, cube.flight_group(FLIGHT, product))
    with rasterio.open(path) as src:
        assert src.driver == "GTiff" and src.crs.to_epsg() == 32629
        assert src.transform == grid.transform and (src.height, src.width) == grid.shape
        assert list(src.descriptions) == layers and src.dtypes[0] == dtype
        assert (np.isnan(src.nodata) if nodata is None else src.nodata == nodata)
        assert src.tags(ns="IMAGE_STRUCTURE")["LAYOUT"] == "COG" and src.compression.name == "zstd"
        assert src.tags(ns="IMAGE_STRUCTURE").get("PREDICTOR", "1") == ("2" if dtype == "uint8" else "1")
        assert src.block_shapes[0] == (512, 512) and src.overviews(1) == [2, 4]
        assert src.tags()[geotiff.VERSION_TAG] == zarr_product.attrs[cube.VERSION_ATTR]
        values = src.read()
    np.testing.assert_array_equal(values, zarr_product[product].values.reshape(values.shape))


def test_cog_values_a_gis_user_would_check(store, grid):
    """NDVI over full canopy in the east (NIR 0.5, red 0.04) is 0.85; the no-data corner stays NaN."""
    with rasterio.open(geotiff.geotiff_path(store, FLIGHT, "indices")) as src:
        ndvi = src.read(1)
        east = ndvi[600, grid.width - 1]
        x, y = src.xy(600, grid.width - 1)
    assert east == pytest.approx((0.5 - 0.04) / (0.5 + 0.04), abs=1e-3)
    assert np.isnan(ndvi[:300, :400]).all() and np.isfinite(ndvi[300:, 400:]).all()
    assert (x, y) == pytest.approx((grid.x_coords()[-1], grid.y_coords()[600]))


def test_no_cog_for_products_that_are_not_flight_rasters(store):
    folder = geotiff.geotiff_path(store, FLIGHT, "indices").parent
    assert sorted(p.name for p in folder.iterdir()) == ["classes.tif", "indices.tif", "reflectance.tif"]
    assert geotiff.GEOTIFF_PRODUCTS == ("reflectance", "indices", "classes")


@pytest.mark.parametrize("height, width", [(1200, 1600), (4000, 300), (512, 512), (513, 100), (20_000, 20_000)])
def test_overview_factors_are_the_cog_drivers_own(tmp_path, height, width):
    """The overviews built before the COG copy are the levels GDAL's COG driver picks by itself."""
    import rasterio.shutil
    from rasterio.transform import from_origin

    plain, cog = tmp_path / "plain.tif", tmp_path / "cog.tif"
    profile = {"driver": "GTiff", "width": width, "height": height, "count": 1, "dtype": "uint8",
               "transform": from_origin(0, 0, 1, 1), "tiled": True, "blockxsize": 512, "blockysize": 512,
               "sparse_ok": True}
    with rasterio.open(plain, "w", **profile):
        pass
    rasterio.shutil.copy(plain, cog, driver="COG", BLOCKSIZE=512, OVERVIEW_RESAMPLING="NEAREST")
    with rasterio.open(cog) as src:
        assert geotiff.overview_factors(height, width) == src.overviews(1)


def test_export_follows_the_product_stamp(tmp_path, grid):
    """Publishing a product does not touch its COG; the export writes it when the stamps differ and
    keeps it when they agree; a flight without classes exports what it has."""
    store = tmp_path / "chtouka.zarr"
    group = cube.flight_group(FLIGHT, "classes")
    for value in (1, 2):
        cube.write_product(store, group, cube.raster(np.full(grid.shape, value, np.uint8), grid, "classes"))
        path = geotiff.geotiff_path(store, FLIGHT, "classes")
        stale = geotiff.cog_version(path)
        assert stale != cube.product_version(store, group)
        assert geotiff.export_flight(store, FLIGHT) == {"classes": True}
        assert geotiff.cog_version(path) == cube.product_version(store, group)
        with rasterio.open(path) as src:
            assert (src.read(1) == value).all()
        written_at = path.stat().st_mtime_ns
        assert geotiff.export_flight(store, FLIGHT) == {"classes": False}
        assert path.stat().st_mtime_ns == written_at
