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


SATURATED_WARN_FRACTION = 0.02
"""Share of a band's valid pixels at the type's maximum above which a warning is given."""


@dataclass(frozen=True)
class BandRaster:
    values: np.ndarray
    band_names: list[str]
    grid: FarmGrid
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
            raise InputDataError(path, f"band {i + 1} ({role}) is zero everywhere", "export the mosaic again with this band's data",
                                 field=f"band {i + 1}")
        if saturated is not None:
            fraction = float(np.count_nonzero(saturated[i] & valid)) / int(np.count_nonzero(valid))
            if fraction >= 1.0:
                raise InputDataError(path, f"band {i + 1} ({role}) is saturated everywhere",
                                     "fly again with a shorter exposure, or give the reflectance mosaic", field=f"band {i + 1}")
            if fraction > SATURATED_WARN_FRACTION:
                warnings.append(f"{path}: band {i + 1} ({role}): {fraction:.1%} of pixels saturated; "
                                "indices there are underestimated (kept, flagged)")
    return tuple(warnings)


def _roles(path: Path, src, bands: Sequence[str] | None) -> list[str]:
    if bands:
        roles = [b.strip().lower() for b in bands]
        repeated = sorted({r for r in roles if roles.count(r) > 1})
        if repeated:
            raise InputDataError(path, f"--bands names {repeated} more than once ({','.join(roles)})",
                                 "give each band its own role, e.g. --bands blue,green,red,rededge,nir", field="--bands")
        if len(bands) != src.count:
            raise InputDataError(path, f"--bands names {len(bands)} bands but the raster has {src.count}",
                                 "give one role per band, e.g. --bands blue,green,red,rededge,nir")
        return [b.strip().lower() for b in bands]
    described = [ALIASES.get((d or "").strip().lower()) for d in src.descriptions]
    if all(described) and len(set(described)) == len(described):
        return described
    colours = [ALIASES.get(c.name.lower()) for c in src.colorinterp]
    if all(colours) and len(set(colours)) == len(colours):
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
    from rasterio.errors import RasterioError

    try:
        with rasterio.open(path) as src:
            if src.crs is None or not src.crs.is_projected:
                raise InputDataError(path, "has no projected CRS", "reproject it to the farm's UTM zone (e.g. gdalwarp -t_srs EPSG:32629)")
            roles = _roles(path, src, bands)
            masks = src.read_masks()
            values = src.read(out_dtype=np.float32)
            saturated = None
            if np.issubdtype(np.dtype(src.dtypes[0]), np.integer):
                top = np.float32(np.iinfo(np.dtype(src.dtypes[0])).max)
                saturated = values >= top
                values /= top
            values[masks == 0] = np.nan
            grid = FarmGrid(src.crs, src.transform, src.width, src.height)
    except RasterioError as exc:
        raise InputDataError(path, f"is not a readable raster ({exc})",
                             "give a complete GeoTIFF; copy it again if it was cut short") from None
    return BandRaster(values, roles, grid, _check_bands(path, values, roles, saturated))
