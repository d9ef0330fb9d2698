"""Small orthomosaics and farm grids built in code for the radiometry tests."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio
from affine import Affine
from rasterio.crs import CRS

from pipelines.core.grid import FarmGrid

# A 75 m × 50 m block of the chtouka grid (EPSG:32629, 0.25 m).
GRID = FarmGrid(CRS.from_epsg(32629), Affine(0.25, 0, 464200.0, 0, -0.25, 3342850.0), 300, 200)


def write_mosaic(path: Path, data: np.ndarray, crs: str | None, transform: Affine, descriptions=None,
                 scales=None, nodata=None, alpha: np.ndarray | None = None) -> Path:
    """A GeoTIFF like a photogrammetry tool exports: bands, optional descriptions/scales/nodata/alpha."""
    count = data.shape[0] + (alpha is not None)
    profile = dict(driver="GTiff", width=data.shape[2], height=data.shape[1], count=count, dtype=data.dtype.name,
                   transform=transform, nodata=nodata, tiled=True, blockxsize=128, blockysize=128)
    if crs is not None:
        profile["crs"] = crs
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data, list(range(1, data.shape[0] + 1)))
        if alpha is not None:
            dst.write(alpha.astype(data.dtype), count)
            dst.colorinterp = [rasterio.enums.ColorInterp.gray] * data.shape[0] + [rasterio.enums.ColorInterp.alpha]
        for i, text in enumerate(descriptions or []):
            dst.set_band_description(i + 1, text)
        if scales is not None:
            dst.scales = tuple(scales) + ((1.0,) if alpha is not None else ())
    return path


@pytest.fixture
def grid() -> FarmGrid:
    return GRID


@pytest.fixture
def mosaic():
    """The `write_mosaic` builder (conftest modules are not importable without packages)."""
    return write_mosaic
