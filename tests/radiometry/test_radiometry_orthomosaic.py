"""Orthomosaic ingest: band roles, CRS, scale, nodata/alpha, windowed warp onto the farm grid."""
from __future__ import annotations

import numpy as np
import pytest
import rasterio
import rasterio.shutil
from affine import Affine
from pyproj import Transformer

from pipelines.core.config import load_sensor
from pipelines.core.errors import InputDataError
from pipelines.imagery.ingest.orthomosaic import ingest_orthomosaic, inspect_orthomosaic
from pipelines.store.cube import read_product

FIVE = ["blue", "green", "red", "rededge", "nir"]
LEVELS = {"blue": 0.05, "green": 0.08, "red": 0.06, "rededge": 0.25, "nir": 0.45}


def _sample_style(tmp_path, write_mosaic):
    """The sample-farm generator's layout: EPSG:32629 0.20 m uint16, descriptions, scale 1e-4, nodata 0.

    Covers x 464210–464260 m, y 3342800–3342840 m of the grid; the west 2 m are nodata.
    """
    data = np.stack([np.full((200, 250), LEVELS[b] * 10_000, np.uint16) for b in FIVE])
    data[:, :, :10] = 0
    return write_mosaic(tmp_path / "ortho.tif", data, "EPSG:32629", Affine(0.2, 0, 464210.0, 0, -0.2, 3342840.0),
                        FIVE, [1e-4] * 5, nodata=0)


def test_sample_style_mosaic_lands_on_its_footprint_with_scaled_reflectance(tmp_path, grid, mosaic):
    path = _sample_style(tmp_path, mosaic)
    store = tmp_path / "farm.zarr"
    meta = ingest_orthomosaic(path, grid, store, "flights/f1/reflectance", load_sensor("micasense_rededge_mx"),
                              window_px=512)
    refl = read_product(store, "flights/f1/reflectance")["reflectance"]
    assert refl.rio.crs.to_epsg() == 32629
    assert list(refl.band.values) == FIVE and refl.dtype == np.float32 and refl.shape == (5, 200, 300)
    assert refl.wavelength_nm.values.tolist() == [475, 560, 668, 717, 842]
    values = refl.values
    # footprint x 464212–464260 (valid, after nodata strip) → cols 48..240; y 3342840–3342800 → rows 40..200
    inside = values[:, 45:195, 55:235]
    for i, band in enumerate(FIVE):
        assert np.allclose(inside[i], LEVELS[band], atol=1e-6)
        assert meta["band_stats"][band]["p50"] == pytest.approx(LEVELS[band], abs=1e-4)
    assert np.isnan(values[:, :38, :]).all() and np.isnan(values[:, :, :46]).all() and np.isnan(values[:, :,
                                                                                                       242:]).all()
    assert meta["valid_fraction"] == pytest.approx(48 * 40 * 16 / (300 * 200), abs=0.01)
    assert meta["method"] == "DN × GDAL band scale + offset" and meta["saturation_fraction"] == 0.0
    assert meta["overlap_fraction"] == pytest.approx(50 * 40 / (75 * 50), abs=1e-3)


def test_geographic_float_mosaic_in_other_band_order_is_reordered_and_georeferenced(tmp_path, grid, mosaic):
    """EPSG:4326 float reflectance, bands nir/red/green/blue/rededge; a 1 m bright square keeps its place."""
    to_ll = Transformer.from_crs(32629, 4326, always_xy=True)
    lon0, lat0 = to_ll.transform(464200.0, 3342850.0)
    lon1, lat1 = to_ll.transform(464275.0, 3342800.0)
    order = ["nir", "red", "green", "blue", "rededge"]
    height, width = 250, 400
    transform = Affine((lon1 - lon0) / width, 0, lon0, 0, (lat1 - lat0) / height, lat0)
    data = np.stack([np.full((height, width), LEVELS[b], np.float32) for b in order])
    target_lon, target_lat = to_ll.transform(464237.5, 3342825.0)  # grid col 150, row 100
    col, row = ~transform @ (target_lon, target_lat)
    data[0, int(row) - 3:int(row) + 3, int(col) - 3:int(col) + 3] = 0.9
    path = mosaic(tmp_path / "geo.tif", data, "EPSG:4326", transform, ["NIR", "Red", "Green", "Blue", "Red edge"])
    meta = ingest_orthomosaic(path, grid, tmp_path / "s.zarr", "flights/f/reflectance", resampling="bilinear")
    refl = read_product(tmp_path / "s.zarr", "flights/f/reflectance")["reflectance"].values
    assert meta["bands"] == FIVE and meta["method"] == "float reflectance as delivered"
    nir = refl[4]
    rows, cols = np.nonzero(nir > 0.6)
    assert 12 <= rows.size <= 40  # a ~1.1 m square is ~4.5 × 4.5 grid pixels
    assert abs(rows.mean() - 99.5) < 1 and abs(cols.mean() - 149.5) < 1
    assert np.nanmedian(refl[2]) == pytest.approx(LEVELS["red"], abs=1e-5)


def test_merchich_mosaic_with_alpha_uses_sensor_order_and_masks_alpha(tmp_path, grid, mosaic):
    to_merchich = Transformer.from_crs(32629, 26191, always_xy=True)
    x0, y0 = to_merchich.transform(464200.0, 3342850.0)
    data = np.stack([np.full((120, 180), 0.1 * (i + 1), np.float32) for i in range(5)])
    alpha = np.full((120, 180), 255, np.uint8)
    alpha[:60] = 0  # north half transparent
    path = mosaic(tmp_path / "m.tif", data, "EPSG:26191", Affine(0.5, 0, x0 - 10, 0, -0.5, y0 + 10), alpha=alpha)
    sensor = load_sensor("micasense_rededge_mx")
    info = inspect_orthomosaic(path, sensor, grid)
    assert info.roles_from == "sensor profile" and info.alpha_index == 6 and info.bands == tuple(FIVE)
    meta = ingest_orthomosaic(path, grid, tmp_path / "s.zarr", "flights/m/reflectance", sensor)
    refl = read_product(tmp_path / "s.zarr", "flights/m/reflectance")["reflectance"].values
    assert np.nanmedian(refl[4]) == pytest.approx(0.5, abs=1e-6)
    # oracle: project every grid pixel centre into the mosaic with pyproj; opaque where source row ≥ 60
    xs, ys = np.meshgrid(grid.x_coords(), grid.y_coords())
    mx, my = to_merchich.transform(xs, ys)
    src_col, src_row = (mx - (x0 - 10)) / 0.5, ((y0 + 10) - my) / 0.5
    expected = (src_row >= 60) & (src_row < 120) & (src_col >= 0) & (src_col < 180)
    assert np.mean(np.isfinite(refl[0]) == expected) > 0.99
    assert meta["valid_fraction"] == pytest.approx(expected.mean(), abs=0.01)


def test_bad_mosaics_raise_errors_naming_the_file(tmp_path, grid, mosaic):
    data = np.ones((5, 50, 50), np.uint16)
    here = Affine(0.2, 0, 464210.0, 0, -0.2, 3342840.0)
    cases = {
        "nocrs.tif": (mosaic(tmp_path / "nocrs.tif", data, None, here, FIVE, [1e-4] * 5), "no CRS"),
        "far.tif": (mosaic(tmp_path / "far.tif", data, "EPSG:32629", Affine(0.2, 0, 300000.0, 0, -0.2, 3000000.0),
                                 FIVE, [1e-4] * 5), "does not overlap"),
        "foo.tif": (mosaic(tmp_path / "foo.tif", data, "EPSG:32629", here, ["a", "b", "c", "d", "e"]), "unknown"),
        "four.tif": (mosaic(tmp_path / "four.tif", data[:4], "EPSG:32629", here), "4 data band"),
    }
    for name, (path, problem) in cases.items():
        with pytest.raises(InputDataError, match=problem) as info:
            inspect_orthomosaic(path, load_sensor("micasense_rededge_mx") if name == "four.tif" else None, grid)
        assert name in str(info.value)
    good = mosaic(tmp_path / "good.tif", np.random.default_rng(0).integers(1, 9999, (5, 400, 400), dtype=np.uint16),
                        "EPSG:32629", here, FIVE, [1e-4] * 5)
    cog = tmp_path / "cog.tif"  # a COG keeps its header first: the truncation shows only when pixels are read
    with rasterio.open(good) as src:
        rasterio.shutil.copy(src, cog, driver="COG", compress="DEFLATE")
    for source in (good, cog):
        truncated = tmp_path / f"truncated_{source.name}"
        truncated.write_bytes(source.read_bytes()[: source.stat().st_size // 2])
        with pytest.raises(InputDataError, match=f"truncated_{source.name}.*corrupt or truncated"):
            inspect_orthomosaic(truncated, None, grid)
    junk = tmp_path / "junk.tif"
    junk.write_bytes(b"II*\x00garbage")
    with pytest.raises(InputDataError, match="junk.tif"):
        inspect_orthomosaic(junk, None, grid)
    with pytest.raises(InputDataError, match="no reflectance scale"):
        ingest_orthomosaic(mosaic(tmp_path / "dn.tif", data, "EPSG:32629", here, FIVE), grid, tmp_path / "s.zarr",
                           "flights/x/reflectance")


def test_failed_ingest_keeps_the_published_product(tmp_path, grid, mosaic):
    store = tmp_path / "s.zarr"
    ingest_orthomosaic(_sample_style(tmp_path, mosaic), grid, store, "flights/f/reflectance")
    data = np.ones((5, 50, 50), np.uint16)
    with pytest.raises(InputDataError):
        ingest_orthomosaic(mosaic(tmp_path / "dn.tif", data, "EPSG:32629", Affine(0.2, 0, 464210.0, 0, -0.2, 3342840.0),
                                        FIVE), grid, store, "flights/f/reflectance")
    assert np.nanmedian(read_product(store, "flights/f/reflectance")["reflectance"].values[4]) == pytest.approx(0.45,
                                                                                                                abs=1e-6)
