"""Read an orthomosaic GeoTIFF for the command line: float32 bands, band roles, its own grid.

Band roles come from (in this order) an explicit list, the band descriptions, or the GDAL colour
interpretation (red, green, blue, alpha, gray: RGB/RGBA photo mosaics). An alpha band is the
valid-data mask (0 = no data), not a data band; nodata becomes NaN too. Integer rasters are
scaled to 0-1 by their type's maximum (8-bit RGB: DN/255) and flagged `calibrated=False`:
they are camera DN, not reflectance (see `pipelines.imagery.indices.rgb` for what that changes).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipelines.core.bands import band_role
from pipelines.core.errors import InputDataError
from pipelines.core.grid import FarmGrid

COLOUR_ROLES = {"red": "red", "green": "green", "blue": "blue", "alpha": "alpha", "gray": "gray", "grey": "gray"}
SUGGESTED = {1: "gray", 2: "red,nir", 3: "red,green,blue", 4: "red,green,blue,alpha", 5: "blue,green,red,rededge,nir",
             6: "blue,green,red,rededge,nir,alpha"}


@dataclass(frozen=True)
class BandRaster:
    """A raster's data bands on the farm grid with their roles, and where the roles came from."""

    values: np.ndarray             # (band, y, x) float32, NaN = no data (alpha 0 or nodata)
    band_names: list[str]          # data bands only (the alpha band is the mask)
    grid: FarmGrid
    calibrated: bool = True        # False: integer camera DN scaled by the type maximum, not reflectance
    roles_from: str = "descriptions"


def suggested_bands(count: int, colours: Sequence[str] = ()) -> str:
    """A `--bands` example with exactly `count` roles (alpha last when the last band is alpha)."""
    if count == 4 and list(colours)[-1:] != ["alpha"]:
        return "blue,green,red,nir"
    return SUGGESTED.get(count, ",".join(f"role{i + 1}" for i in range(count)))


def _roles(path: Path, src, bands: Sequence[str] | None) -> tuple[list[str], str]:
    colours = [c.name.lower() for c in src.colorinterp]
    if bands:
        if len(bands) != src.count:
            raise InputDataError(path, f"--bands names {len(bands)} bands but the raster has {src.count}",
                                 f"give one role per band, e.g. --bands {suggested_bands(src.count, colours)}")
        return [band_role(b) or b.strip().lower() for b in bands], "--bands"
    described = [band_role(d) for d in src.descriptions]
    if all(described):
        return described, "descriptions"
    by_colour = [COLOUR_ROLES.get(c) for c in colours]
    if all(by_colour) and len(set(by_colour)) == len(by_colour):
        return by_colour, "colour interpretation"
    raise InputDataError(path, f"band roles unknown (descriptions {list(src.descriptions)}, "
                         f"colour interpretation {colours})",
                         f"pass --bands with {src.count} roles, e.g. --bands {suggested_bands(src.count, colours)}")


def read_band_raster(path: str | Path, bands: Sequence[str] | None = None) -> BandRaster:
    """Read all bands of a georeferenced raster as float32 (band, y, x) with NaN for nodata/alpha 0."""
    import rasterio

    path = Path(path)
    if not path.is_file():
        raise InputDataError(path, "raster not found", "check the path")
    with rasterio.open(path) as src:
        if src.crs is None or not src.crs.is_projected:
            raise InputDataError(path, "has no projected CRS",
                                 "reproject it to the farm's UTM zone (e.g. gdalwarp -t_srs EPSG:32629)")
        roles, roles_from = _roles(path, src, bands)
        if len(set(roles)) != len(roles):
            raise InputDataError(path, f"band roles repeat ({roles})", "give each band its own role")
        data = [i for i, r in enumerate(roles) if r != "alpha"]
        if not data:
            raise InputDataError(path, "has no data band (only alpha)", "give the orthomosaic's colour bands")
        masks = src.read_masks([i + 1 for i in data])
        values = src.read([i + 1 for i in data], out_dtype=np.float32)
        integer = np.issubdtype(np.dtype(src.dtypes[data[0]]), np.integer)
        scaled = any(src.scales[i] != 1.0 or src.offsets[i] != 0.0 for i in data)
        if scaled:
            values = values * np.array([src.scales[i] for i in data], np.float32)[:, None, None] \
                + np.array([src.offsets[i] for i in data], np.float32)[:, None, None]
        elif integer:
            values /= np.float32(np.iinfo(np.dtype(src.dtypes[data[0]])).max)
        if "alpha" in roles:
            alpha = src.read(roles.index("alpha") + 1)
            values[:, alpha == 0] = np.nan
        values[masks == 0] = np.nan
        grid = FarmGrid(src.crs, src.transform, src.width, src.height)
    return BandRaster(values, [roles[i] for i in data], grid, calibrated=not integer or scaled, roles_from=roles_from)
