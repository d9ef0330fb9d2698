"""`saqi indices` and `saqi parcels stats` on small GeoTIFFs (multispectral and RGB)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import rasterio
from rasterio.enums import ColorInterp

from pipelines.cli import main
from pipelines.core.config import load_farm
from pipelines.core.grid import FarmGrid

GRID = FarmGrid.of_farm(load_farm("chtouka"))


def _write(path, data, descriptions=None, colours=None):
    with rasterio.open(path, "w", driver="GTiff", width=GRID.width, height=GRID.height, count=data.shape[0],
                       dtype=data.dtype, crs=GRID.crs, transform=GRID.transform) as dst:
        dst.write(data)
        for i, d in enumerate(descriptions or []):
            dst.set_band_description(i + 1, d)
        if colours:
            dst.colorinterp = colours


def test_indices_cli_writes_named_float32_bands(tmp_path):
    data = np.empty((2, *GRID.shape), np.float32)
    data[0], data[1] = 0.05, 0.45
    _write(tmp_path / "in.tif", data, ["Red", "NIR"])
    assert main(["indices", str(tmp_path / "in.tif"), "-o", str(tmp_path / "out.tif"), "--index", "ndvi,ndre"]) == 0
    with rasterio.open(tmp_path / "out.tif") as src:
        assert src.descriptions == ("ndvi",) and src.dtypes == ("float32",)
        np.testing.assert_allclose(src.read(1), 0.4 / 0.5, rtol=1e-6)


def test_parcels_stats_cli_on_rgb_photo(tmp_path, capsys):
    rgb = np.zeros((3, *GRID.shape), np.uint8)
    rgb[0], rgb[1], rgb[2] = 60, 120, 30  # green canopy
    _write(tmp_path / "rgb.tif", rgb, colours=[ColorInterp.red, ColorInterp.green, ColorInterp.blue])
    parcels = load_farm("chtouka").path("parcels.geojson")
    out = tmp_path / "stats.csv"
    assert main(["parcels", "stats", str(tmp_path / "rgb.tif"), str(parcels), "-o", str(out), "--index",
                 "exg,ndvi"]) == 0
    table = pd.read_csv(out)
    assert len(table) == 10 and set(table["status"]) == {"ok"}
    # uncalibrated 8-bit RGB: ExG on chromatic coordinates (Woebbecke et al. 1995), not on DN/255 (issue 11)
    np.testing.assert_allclose(table["exg_mean"], (2 * 120 - 60 - 30) / (120 + 60 + 30), rtol=1e-5)
    np.testing.assert_allclose(table["area_m2"], table["n_pixels"] * 0.0625, rtol=1e-5)
    assert table["area_m2"].between(10_000, 11_000).all()
    assert "skipped ndvi" in capsys.readouterr().out


def test_raster_without_band_roles_asks_for_bands(tmp_path, capsys):
    _write(tmp_path / "x.tif", np.zeros((2, *GRID.shape), np.float32))
    assert main(["indices", str(tmp_path / "x.tif"), "-o", str(tmp_path / "o.tif")]) == 2
    assert "--bands" in capsys.readouterr().err
