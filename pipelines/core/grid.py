"""The farm's fixed grid (DESIGN contract): CRS, north-up affine transform, shape, coordinates."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from affine import Affine
from rasterio.crs import CRS

from pipelines.core.config import Farm, Grid


@dataclass(frozen=True)
class FarmGrid:
    """Pixel-centre coordinates and geotransform of a farm; all flights share it pixel for pixel."""

    crs: CRS
    transform: Affine
    width: int
    height: int

    @classmethod
    def from_config(cls, grid: Grid) -> "FarmGrid":
        """The grid of a `Grid` config: north-up transform from its origin (m) and resolution (m)."""
        res = grid.resolution_m
        transform = Affine(res, 0.0, grid.origin_x_m, 0.0, -res, grid.origin_y_m)
        return cls(CRS.from_user_input(grid.crs), transform, grid.width, grid.height)

    @classmethod
    def of_farm(cls, farm: Farm) -> "FarmGrid":
        """The grid of a farm's configuration."""
        return cls.from_config(farm.grid)

    @property
    def resolution_m(self) -> float:
        """Pixel side, in metres."""
        return self.transform.a

    @property
    def pixel_area_m2(self) -> float:
        """Area of one pixel, in m²."""
        return abs(self.transform.a * self.transform.e)

    @property
    def shape(self) -> tuple[int, int]:
        """(height, width) in pixels."""
        return self.height, self.width

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(west, south, east, north) of the grid's outer edges, in CRS metres."""
        west, north = self.transform.c, self.transform.f
        return west, north + self.height * self.transform.e, west + self.width * self.transform.a, north

    def x_coords(self) -> np.ndarray:
        """x of each column's pixel centre, in CRS metres (west to east)."""
        return self.transform.c + (np.arange(self.width) + 0.5) * self.transform.a

    def y_coords(self) -> np.ndarray:
        """y of each row's pixel centre, in CRS metres (north to south)."""
        return self.transform.f + (np.arange(self.height) + 0.5) * self.transform.e
