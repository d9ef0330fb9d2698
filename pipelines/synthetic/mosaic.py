"""Write a synthetic flight as a stitched 16-bit orthomosaic that is NOT on the farm grid.

Like a photogrammetry product (OpenDroneMap, Pix4D): its own 0.20 m grid, shifted by a fraction
of a farm pixel, 10 m wider than the farm on every side, a triangle of no data in one corner
(the ragged edge of a stitched mosaic), five bands in sensor order stored as DN = ρ / 0.0001.
"""
from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import rasterio
import shapely
from affine import Affine
from rasterio.crs import CRS
from rasterio.warp import Resampling, reproject

from pipelines.synthetic.layout import FarmLayout
from pipelines.synthetic.spectra import BAND_NAMES

RESOLUTION_M = 0.20
MARGIN_M = 10.0
SHIFT_FARM_PX = (0.37, 0.61)
"""Origin shift of the mosaic west and north of farm grid + margin, in farm pixels (non-integer)."""
REFLECTANCE_SCALE = 0.0001
NOISE_RELATIVE = 0.012
"""Multiplicative sensor noise (1 sigma, fraction of signal): shot noise and flat-field residue."""
NOISE_ABSOLUTE = 0.002
"""Additive sensor noise (1 sigma, reflectance): dark current and read noise."""
CORNER_SHARE = 0.7
"""The no-data triangle's legs reach this share of the way to the nearest parcel corner."""
PROFILE = dict(driver="GTiff", dtype="uint16", count=len(BAND_NAMES), nodata=0, tiled=True,
               blockxsize=512, blockysize=512, compress="zstd", zstd_level=1, predictor=2,
               photometric="minisblack", interleave="pixel")


@dataclass(frozen=True)
class MosaicGrid:
    """The orthomosaic's own north-up grid and its no-data corner triangle (leg length, m)."""

    crs: CRS
    transform: Affine
    width: int
    height: int
    corner_leg_m: float

    def nodata_mask(self) -> np.ndarray:
        """True in the north-east corner triangle: x_from_east + y_from_north < leg."""
        cols = np.arange(self.width) + 0.5
        rows = np.arange(self.height) + 0.5
        from_east = (self.width - cols) * RESOLUTION_M
        from_north = rows * RESOLUTION_M
        return from_east[None, :] + from_north[:, None] < self.corner_leg_m


def mosaic_grid(layout: FarmLayout) -> MosaicGrid:
    """The mosaic grid of a farm: 0.20 m, farm bounds + 10 m, origin shifted off the farm grid."""
    farm = layout.transform @ Affine.translation(layout.margin_px, layout.margin_px)
    height, width = (n - 2 * layout.margin_px for n in layout.shape)
    west = farm.c - MARGIN_M - SHIFT_FARM_PX[0] * farm.a
    north = farm.f + MARGIN_M - SHIFT_FARM_PX[1] * farm.e
    east, south = farm.c + width * farm.a + MARGIN_M, farm.f + height * farm.e - MARGIN_M
    ncols, nrows = math.ceil((east - west) / RESOLUTION_M), math.ceil((north - south) / RESOLUTION_M)
    corner = shapely.Point(west + ncols * RESOLUTION_M, north)
    nearest = min(abs(corner.x - x) + abs(corner.y - y)
                  for p in layout.parcels for x, y in p.polygon.exterior.coords)
    return MosaicGrid(CRS.from_user_input(layout.farm.grid.crs),
                      Affine(RESOLUTION_M, 0, west, 0, -RESOLUTION_M, north), ncols, nrows,
                      CORNER_SHARE * nearest)


def write_orthomosaic(path: Path, reflectance: np.ndarray, layout: FarmLayout, on: dt.date, seed: int) -> MosaicGrid:
    """Resample true reflectance (5, y, x) of the scene grid to the mosaic grid, add noise, save.

    DN = round(ρ·(1 + ε₁) + ε₂) / 0.0001, ε₁ ~ N(0, 0.012), ε₂ ~ N(0, 0.002), clipped to 1..65535;
    0 is no data. Noise is drawn from a generator seeded by (seed, date): one date, one image.
    """
    grid = mosaic_grid(layout)
    image = np.zeros((len(BAND_NAMES), grid.height, grid.width), dtype=np.float32)
    reproject(reflectance, image, src_transform=layout.transform, src_crs=grid.crs,
              dst_transform=grid.transform, dst_crs=grid.crs, resampling=Resampling.bilinear)
    rng = np.random.default_rng(np.random.SeedSequence([seed, 2, on.toordinal()]))
    image *= 1 + rng.standard_normal(image.shape, dtype=np.float32) * np.float32(NOISE_RELATIVE)
    image += rng.standard_normal(image.shape, dtype=np.float32) * np.float32(NOISE_ABSOLUTE)
    dn = np.clip(np.rint(image / np.float32(REFLECTANCE_SCALE)), 1, 65535).astype(np.uint16)
    dn[:, grid.nodata_mask()] = 0
    path.parent.mkdir(parents=True, exist_ok=True)
    profile = dict(PROFILE, width=grid.width, height=grid.height, crs=grid.crs, transform=grid.transform)
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(dn)
        for index, name in enumerate(BAND_NAMES, start=1):
            dst.set_band_description(index, name)
        dst.scales = (REFLECTANCE_SCALE,) * len(BAND_NAMES)
        dst.offsets = (0.0,) * len(BAND_NAMES)
        dst.update_tags(TIFFTAG_DATETIME=on.strftime("%Y:%m:%d 10:30:00"))
    return grid
