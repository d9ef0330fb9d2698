"""Map PNGs: colours match the legends, no data is transparent, size and scale bar follow the grid."""
from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from pipelines.reports import maps


def pixels(png: bytes) -> tuple[Image.Image, np.ndarray]:
    image = Image.open(io.BytesIO(png))
    return image, np.asarray(image.convert("RGBA"))


@pytest.mark.parametrize(("width_m", "bar_m"), [(100, 20), (400, 100), (40, 10), (7, 1), (2000, 500), (9000, 2000)])
def test_scale_bar_is_a_round_length_up_to_a_quarter_of_the_width(width_m, bar_m):
    assert maps.scale_bar_length_m(width_m) == bar_m


def test_ndvi_colours_follow_the_ramp_and_no_data_is_transparent():
    ndvi = np.full((200, 300), 0.82, dtype=np.float32)
    ndvi[:, :100] = 0.12
    ndvi[150:, 200:] = np.nan
    image, rgba = pixels(maps.ndvi_map(ndvi, 0.25).png)
    assert image.size == (300, 200) and image.mode == "P"
    high, low = rgba[100, 150], rgba[100, 50]
    assert high[1] > high[0] + 60, f"NDVI 0.82 should be green, got {high}"
    assert low[0] > low[1] + 60, f"NDVI 0.12 should be red, got {low}"
    assert rgba[160, 250, 3] == 0, "no data is transparent"
    expected = np.round(maps._colours(maps.NDVI_COLOURMAP, 41)[33] * 255).astype(int)
    assert np.array_equal(high[:3], expected), "0.80–0.85 is the 17th of twenty 0.05 steps"


def test_class_map_uses_the_legend_colours():
    classes = np.repeat(np.array([0, 1, 2, 3, 255], dtype=np.uint8), 60)[None, :].repeat(120, axis=0)
    result = maps.class_map(classes, 0.1)
    _, rgba = pixels(result.png)
    for code, entry in enumerate(result.legend):
        colour = tuple(int(entry.colour[i : i + 2], 16) for i in (1, 3, 5))
        assert tuple(rgba[60, code * 60 + 30, :3]) == colour, entry.label
    assert rgba[60, 4 * 60 + 30, 3] == 0
    with pytest.raises(ValueError, match=r"unknown class codes \[7\]"):
        maps.class_map(np.full((4, 4), 7, dtype=np.uint8), 0.1)


def test_large_maps_are_reduced_and_keep_metric_scale():
    ndvi = np.linspace(0, 1, 1600 * 1200, dtype=np.float32).reshape(1200, 1600)
    result = maps.ndvi_map(ndvi, 0.25, max_side_px=400)
    image, _ = pixels(result.png)
    assert image.size == (400, 300), "1600 × 1200 px reduced 4× by block mean"
    assert len(result.png) < 150_000
    assert maps.scale_bar_length_m(400 * 1.0) == 100, "a 400 m wide farm gets a 100 m bar"


def test_zones_legend_runs_from_low_to_high_vigour():
    zones = np.repeat(np.array([1, 2, 3], dtype=np.uint8), 50)[None, :].repeat(40, axis=0)
    result = maps.zones_map(zones, 0.25)
    assert [entry.label for entry in result.legend] == ["Low vigour", "Medium vigour", "High vigour"]
    with pytest.raises(ValueError, match="zone numbers must be 1…5"):
        maps.zones_map(np.full((4, 4), 9, dtype=np.uint8), 0.25)


def test_parcel_vigour_raster_fills_each_parcel_with_its_crop_mean():
    """Two 10 m × 20 m parcels on a 0.5 m grid: each is filled with its own crop NDVI mean over
    exactly its 800 cells, the parcel without a mean and the land outside stay NaN; coarsened
    four times, the same parcels cover 50 cells each."""
    import geopandas as gpd
    import pandas as pd
    from affine import Affine
    from rasterio.crs import CRS
    from shapely.geometry import box

    from pipelines.core.grid import FarmGrid

    grid = FarmGrid(CRS.from_epsg(32629), Affine(0.5, 0, 500_000, 0, -0.5, 3_400_040), 80, 80)
    frame = gpd.GeoDataFrame({"id": ["A", "B", "C"]}, crs=grid.crs, geometry=[
        box(500_000, 3_400_020, 500_010, 3_400_040), box(500_020, 3_400_020, 500_030, 3_400_040),
        box(500_000, 3_400_000, 500_010, 3_400_010)])
    stats = pd.DataFrame({"parcel": ["A", "B", "C"], "ndvi_mean": [0.81, 0.42, np.nan]})
    filled = maps.parcel_vigour_raster(stats, frame, grid)
    assert filled.shape == (80, 80) and filled.dtype == np.float32
    assert np.count_nonzero(filled == np.float32(0.81)) == 800 and np.count_nonzero(filled == np.float32(0.42)) == 800
    assert np.isnan(filled).sum() == 80 * 80 - 1600, "parcel C (no crop mean) and the land outside stay NaN"
    assert filled[:40, :20].min() == np.float32(0.81) and np.isnan(filled[60:, :20]).all()
    coarse = maps.parcel_vigour_raster(stats, frame, grid, step=4)
    assert coarse.shape == (20, 20) and np.count_nonzero(coarse == np.float32(0.42)) == 50
