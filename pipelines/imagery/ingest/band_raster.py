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


SATURATED_WARN_FRACTION = 0.02
"""Share of a band's valid pixels at the type's maximum above which a warning is given."""


@dataclass(frozen=True)
class BandRaster:
    """A raster's data bands on the farm grid with their roles, and where the roles came from."""

    values: np.ndarray             # (band, y, x) float32, NaN = no data (alpha 0 or nodata)
    band_names: list[str]          # data bands only (the alpha band is the mask)
    grid: FarmGrid
    calibrated: bool = True        # False: integer camera DN scaled by the type maximum, not reflectance
    roles_from: str = "descriptions"
    warnings: tuple[str, ...] = ()



def _check_bands(path: Path, values: np.ndarray, roles: list[str], saturated: np.ndarray | None) -> tuple[str, ...]:
    """Refuse bands that cannot give a correct index (no valid pixel, all zero, all saturated);
    warn when a band is partly saturated (indices there are biased)."""
    warnings = []
    for i, role in enumerate(roles):
        band = values[i]
        valid = np.isfinite(band)
        if not valid.any():
            raise InputDataError(path, f"band {i + 1} ({role}) has no valid pixel (all nodata/NaN)",
                                 "export the mosaic again; check its nodata value", field=f"band {i + 1}")
        if not np.any(band[valid]):
            raise InputDataError(path, f"band {i + 1} ({role}) is zero everywhere",
                                 "export the mosaic again with this band's data",
                                 field=f"band {i + 1}")
        if saturated is not None:
            fraction = float(np.count_nonzero(saturated[i] & valid)) / int(np.count_nonzero(valid))
            if fraction >= 1.0:
                raise InputDataError(path, f"band {i + 1} ({role}) is saturated everywhere",
                                     "fly again with a shorter exposure, or give the reflectance mosaic",
                                     field=f"band {i + 1}")
            if fraction > SATURATED_WARN_FRACTION:
                warnings.append(f"{path}: band {i + 1} ({role}): {fraction:.1%} of pixels saturated; "
                                "indices there are underestimated (kept, flagged)")
    return tuple(warnings)


def suggested_bands(count: int, colours: Sequence[str] = ()) -> str:
    """A `--bands` example with exactly `count` roles (alpha last when the last band is alpha)."""
    if count == 4 and list(colours)[-1:] != ["alpha"]:
        return "blue,green,red,nir"
    return SUGGESTED.get(count, ",".join(f"role{i + 1}" for i in range(count)))


def _roles(path: Path, src, bands: Sequence[str] | None) -> tuple[list[str], str]:
    colours = [c.name.lower() for c in src.colorinterp]
    if bands:
        roles = [b.strip().lower() for b in bands]
        repeated = sorted({r for r in roles if roles.count(r) > 1})
        if repeated:
            raise InputDataError(path, f"--bands names {repeated} more than once ({','.join(roles)})",
                                 "give each band its own role, e.g. --bands blue,green,red,rededge,nir",
                                 field="--bands")
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
    from rasterio.errors import RasterioError

    saturated = None
    try:
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
                top = np.float32(np.iinfo(np.dtype(src.dtypes[data[0]])).max)
                saturated = values >= top
                values /= top
            if "alpha" in roles:
                alpha = src.read(roles.index("alpha") + 1)
                values[:, alpha == 0] = np.nan
            values[masks == 0] = np.nan
            grid = FarmGrid(src.crs, src.transform, src.width, src.height)
    except RasterioError as exc:
        raise InputDataError(path, f"is not a readable raster ({exc})",
                             "give a complete GeoTIFF; copy it again if it was cut short") from None
    roles = [roles[i] for i in data]
    return BandRaster(values, roles, grid, calibrated=not integer or scaled, roles_from=roles_from,
                      warnings=_check_bands(path, values, roles, saturated))
