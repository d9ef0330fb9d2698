"""An RGBA orthomosaic (uint8, colour interpretation only) with a 40-plot trial grid (fid, ID).

Oracle: rasterio.features.rasterize (pixel centres, all_touched=False) per plot and ExG computed
here on chromatic coordinates (Woebbecke et al. 1995) with numpy, independent of our coverage code.
"""
from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
import shapely
from affine import Affine
from rasterio.enums import ColorInterp
from rasterio.features import rasterize

from pipelines.cli import main
from pipelines.core.errors import InputDataError
from pipelines.imagery.ingest.band_raster import read_band_raster

ORIGIN, PX = (464210.0, 3342840.0), 0.05


def _ortho(path, seed=7):
    rng = np.random.default_rng(seed)
    h, w = 500, 800
    rows, cols = np.indices((h, w))
    soil = np.stack([150 + 10 * np.sin(cols / 37.0), 120 + 8 * np.cos(rows / 23.0), 95 + 0 * rows]).astype(float)
    canopy = (np.sin(cols / 9.0) * np.sin(rows / 11.0) > 0.3)[None]
    plant = np.stack([70 + 0 * rows, 140 + 15 * np.sin(rows / 13.0), 60 + 0 * rows]).astype(float)
    rgb = np.where(canopy, plant, soil) + rng.normal(0, 6, (3, h, w))
    rgb = np.clip(rgb, 0, 255).astype(np.uint8)
    alpha = np.full((h, w), 255, np.uint8)
    alpha[(rows + 0.4 * cols) < 60] = 0          # the mosaic's ragged edge
    alpha[300:340, 500:560] = 0                  # a hole
    rgb[:, alpha == 0] = 0
    with rasterio.open(path, "w", driver="GTiff", width=w, height=h, count=4, dtype="uint8", crs="EPSG:32629",
                       transform=Affine(PX, 0, ORIGIN[0], 0, -PX, ORIGIN[1]), photometric="RGB", alpha="YES") as dst:
        dst.write(np.concatenate([rgb, alpha[None]]))
        dst.colorinterp = [ColorInterp.red, ColorInterp.green, ColorInterp.blue, ColorInterp.alpha]
    return rgb.astype(np.float64), alpha


def _plots(path):
    polys, fids, ids = [], [], []
    for i in range(8):
        for j in range(5):
            x0, y0 = ORIGIN[0] + 1.0 + i * 4.8, ORIGIN[1] - 1.0 - j * 4.8
            polys.append(shapely.box(x0, y0 - 3.73, x0 + 4.11, y0))
            fids.append(len(fids) + 1)
            ids.append(f"T{i + 1}-R{j + 1}")
    frame = gpd.GeoDataFrame({"fid": fids, "ID": ids}, geometry=polys, crs="EPSG:32629").to_crs(4326)
    frame.to_file(path, driver="GeoJSON")
    return gpd.read_file(path).to_crs(32629)


def test_rgba_roles_mask_and_suggestion(tmp_path):
    _ortho(tmp_path / "ortho.tif")
    raster = read_band_raster(tmp_path / "ortho.tif")
    assert raster.band_names == ["red", "green", "blue"] and not raster.calibrated
    assert raster.roles_from == "colour interpretation" and np.isnan(raster.values[0, 320, 520])
    with rasterio.open(tmp_path / "ortho.tif", "r+") as dst:
        dst.colorinterp = [ColorInterp.undefined] * 4
    with pytest.raises(InputDataError, match="band roles unknown") as err:
        read_band_raster(tmp_path / "ortho.tif")
    suggestion = str(err.value).rsplit("--bands ", 1)[1]
    assert "4 roles" in str(err.value) and len(suggestion.split(",")) == 4  # always the raster's band count
    with pytest.raises(InputDataError, match=r"names 3 bands but the raster has 4; .*--bands \w+,\w+,\w+,\w+$"):
        read_band_raster(tmp_path / "ortho.tif", ["red", "green", "blue"])


def test_plot_grid_stats_match_independent_rasterize(tmp_path, capsys):
    rgb, alpha = _ortho(tmp_path / "ortho.tif")
    plots = _plots(tmp_path / "plots.geojson")
    out = tmp_path / "stats.csv"
    assert main(["parcels", "stats", str(tmp_path / "ortho.tif"), str(tmp_path / "plots.geojson"), "--index", "exg",
                 "-o", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "chromatic coordinates" in printed and "parcel" not in printed.split("wrote")[0].lower().replace("parcels",
                                                                                                            "")
    table = pd.read_csv(out).set_index("parcel_id")
    assert len(table) == 40
    total = rgb.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        exg = (2 * rgb[1] - rgb[0] - rgb[2]) / total
    transform = Affine(PX, 0, ORIGIN[0], 0, -PX, ORIGIN[1])
    worst_n, worst_exg = 0.0, 0.0
    for pid, geom in zip(plots["ID"], plots.geometry):
        inside = rasterize([(geom, 1)], out_shape=alpha.shape, transform=transform, all_touched=False).astype(bool)
        valid = inside & (alpha > 0) & (total > 0)
        worst_n = max(worst_n, abs(table.at[pid, "n_pixels"] - valid.sum()) / valid.sum())
        worst_exg = max(worst_exg, abs(table.at[pid, "exg_mean"] - exg[valid].mean()))
    assert worst_n <= 0.015 and worst_exg <= 0.01, (worst_n, worst_exg)
