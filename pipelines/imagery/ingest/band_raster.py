"""Read an orthomosaic GeoTIFF for the command line: float32 bands, band roles, its own grid.

Band roles come from (in this order) an explicit list, the band descriptions, or the colour
interpretation (RGB photos). Nodata becomes NaN. Integer rasters are scaled to 0-1 by their
type's maximum (8-bit RGB: DN/255), which keeps ratio indices (VARI, NDVI) exact and makes
difference indices (ExG) relative brightness units.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipelines.core.errors import InputDataError
from pipelines.core.grid import FarmGrid

ALIASES = {"b": "blue", "blue": "blue", "g": "green", "green": "green", "r": "red", "red": "red",
           "re": "rededge", "red edge": "rededge", "red_edge": "rededge", "rededge": "rededge", "reg": "rededge",
           "nir": "nir", "near infrared": "nir", "near-infrared": "nir", "n": "nir", "swir": "swir", "swir1": "swir",
           "gre": "green"}


@dataclass(frozen=True)
class BandRaster:
    values: np.ndarray
    band_names: list[str]
    grid: FarmGrid


def _roles(path: Path, src, bands: Sequence[str] | None) -> list[str]:
    if bands:
        if len(bands) != src.count:
            raise InputDataError(path, f"--bands names {len(bands)} bands but the raster has {src.count}",
                                 "give one role per band, e.g. --bands blue,green,red,rededge,nir")
        return [b.strip().lower() for b in bands]
    described = [ALIASES.get((d or "").strip().lower()) for d in src.descriptions]
    if all(described):
        return described
    colours = [ALIASES.get(c.name.lower()) for c in src.colorinterp]
    if all(colours):
        return colours
    raise InputDataError(path, f"band roles unknown (descriptions {list(src.descriptions)}, "
                         f"colour interpretation {[c.name for c in src.colorinterp]})",
                         "pass --bands, e.g. --bands blue,green,red,rededge,nir")


def read_band_raster(path: str | Path, bands: Sequence[str] | None = None) -> BandRaster:
    """Read all bands of a georeferenced raster as float32 (band, y, x) with NaN for nodata."""
    import rasterio

    path = Path(path)
    if not path.is_file():
        raise InputDataError(path, "raster not found", "check the path")
    with rasterio.open(path) as src:
        if src.crs is None or not src.crs.is_projected:
            raise InputDataError(path, "has no projected CRS",
                                 "reproject it to the farm's UTM zone (e.g. gdalwarp -t_srs EPSG:32629)")
        roles = _roles(path, src, bands)
        masks = src.read_masks()
        values = src.read(out_dtype=np.float32)
        if np.issubdtype(np.dtype(src.dtypes[0]), np.integer):
            values /= np.float32(np.iinfo(np.dtype(src.dtypes[0])).max)
        values[masks == 0] = np.nan
        grid = FarmGrid(src.crs, src.transform, src.width, src.height)
    return BandRaster(values, roles, grid)
