"""The static layout of the synthetic farm: parcels, row and tree geometry, noise fields.

Everything here is fixed for a season and drawn once from the seed, so the four flights show
the same rows, trees, weed patches and stress blobs growing, not a new farm each date.
"""
from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import numpy as np
import shapely
from affine import Affine
from rasterio.features import rasterize
from scipy.ndimage import gaussian_filter
from scipy.special import ndtr

from pipelines.core.config import Crop, Farm, load_crop
from pipelines.core.errors import InputDataError
from pipelines.core.grid import FarmGrid
from pipelines.imagery.parcels.layer import load_parcels

MARGIN_M = 11.0
TREE_SPACING_M = {"olive": (6.0, 6.0), "citrus": (4.0, 6.0)}
"""Along-row and between-row tree spacing (m): olive 6 x 6, citrus 6 x 4 (Souss orchards)."""
CROWN_DIAMETER_M = {"olive": (2.5, 4.0), "citrus": (2.8, 3.6)}
TREE_GREENNESS = {"olive": 0.8, "citrus": 1.0}
"""Olive leaves are grey-green and silvery underneath: crown NDVI ~0.7 instead of ~0.84."""
WEED_THRESHOLD = {"normal": 2.2, "weedy": 1.45}
"""Weed-field threshold (standard deviations) at emergence: ~1.5 % vs ~7 % of the parcel."""


@dataclass(frozen=True)
class ParcelLayout:
    """One parcel's fixed geometry and treatment on the scene grid."""

    id: str
    crop: Crop
    sowing: dt.date
    irrigation_method: str
    polygon: shapely.Polygon
    rows: slice
    cols: slice
    mask: np.ndarray
    row_angle_rad: float
    row_offset_m: float
    weedy: bool
    stressed: bool
    trees: np.ndarray | None
    """(n, 3) tree centres x_m, y_m and crown radius_m, for tree crops."""


@dataclass(frozen=True)
class FarmLayout:
    """The scene grid (the farm grid plus a margin) and the season-long random fields on it."""

    farm: Farm
    transform: Affine
    shape: tuple[int, int]
    margin_px: int
    parcels: tuple[ParcelLayout, ...]
    texture: np.ndarray
    """Uniform 0-1, ~0.3 m grain: where a cereal canopy closes first."""
    weed_field: np.ndarray
    """Standard normal, ~1.5 m grain: weed patches grow where it is high."""
    stress_field: np.ndarray
    """Standard normal, ~8 m grain: water-stress blobs grow where it is high."""
    soil_brightness: np.ndarray
    """Relative soil brightness ~0.9-1.1, ~15 m grain (texture and organic matter)."""

    def xy(self, rows: slice, cols: slice) -> tuple[np.ndarray, np.ndarray]:
        """Pixel-centre x and y (m) of a window of the scene grid, each (rows, cols)."""
        r = np.arange(rows.start, rows.stop) + 0.5
        c = np.arange(cols.start, cols.stop) + 0.5
        t = self.transform
        return np.meshgrid(t.c + c * t.a, t.f + r * t.e)


def _normal_field(rng: np.random.Generator, shape: tuple[int, int], sigma_px: float) -> np.ndarray:
    field = gaussian_filter(rng.standard_normal(shape, dtype=np.float32), sigma_px, mode="wrap")
    return field / field.std()


def _long_axis_rad(polygon: shapely.Polygon) -> float:
    ring = np.asarray(polygon.minimum_rotated_rectangle.exterior.coords)
    edges = np.diff(ring[:3], axis=0)
    dx, dy = max(edges, key=lambda e: math.hypot(*e))
    return math.atan2(dy, dx)


def _trees(polygon: shapely.Polygon, crop_id: str, angle: float, rng: np.random.Generator) -> np.ndarray:
    along, across = TREE_SPACING_M.get(crop_id, (5.0, 5.0))
    low, high = CROWN_DIAMETER_M.get(crop_id, (2.5, 3.5))
    half = math.hypot(*np.subtract(polygon.bounds[2:], polygon.bounds[:2])) / 2
    i, j = np.meshgrid(np.arange(-half // along - 1, half // along + 2),
                       np.arange(-half // across - 1, half // across + 2))
    u = i.ravel() * along + rng.uniform(-0.25, 0.25, i.size)
    v = j.ravel() * across + rng.uniform(-0.25, 0.25, i.size)
    centre = polygon.centroid
    x = centre.x + u * math.cos(angle) - v * math.sin(angle)
    y = centre.y + u * math.sin(angle) + v * math.cos(angle)
    radius = rng.uniform(low / 2, high / 2, i.size)
    inside = shapely.contains_xy(polygon.buffer(-(high / 2 + 0.5)), x, y)
    return np.column_stack([x, y, radius])[inside]


def _pick(rng: np.random.Generator, ids_by_kind: dict[str, list[str]], kinds: tuple[str, ...]) -> set[str]:
    return {str(rng.choice(ids_by_kind[k])) for k in kinds if ids_by_kind.get(k)}


def farm_layout(farm: Farm, seed: int) -> FarmLayout:
    """Draw the farm's season layout from `seed` (deterministic: same seed, same layout)."""
    grid = FarmGrid.of_farm(farm)
    margin_px = math.ceil(MARGIN_M / grid.resolution_m)
    transform = grid.transform @ Affine.translation(-margin_px, -margin_px)
    shape = (grid.height + 2 * margin_px, grid.width + 2 * margin_px)
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0]))
    px = grid.resolution_m
    texture = ndtr(_normal_field(rng, shape, 0.3 / px)).astype(np.float32)
    weed_field = _normal_field(rng, shape, 1.5 / px)
    stress_field = _normal_field(rng, shape, 8.0 / px)
    soil_brightness = 1.0 + 0.05 * _normal_field(rng, shape, 15.0 / px)

    parcel_set = load_parcels(farm, grid)
    parcel_set.raise_for_errors()
    table = parcel_set.frame.sort_values("id")
    crops = {c: load_crop(c) for c in table["crop"].unique()}
    by_kind: dict[str, list[str]] = {}
    for pid, crop in zip(table["id"], table["crop"]):
        by_kind.setdefault(crops[crop].kind, []).append(pid)
    stressed = _pick(rng, by_kind, ("cereal", "row", "tree"))
    weedy = _pick(rng, by_kind, ("cereal", "row"))
    labels = rasterize(((g, k + 1) for k, g in enumerate(table.geometry)), out_shape=shape,
                       transform=transform, dtype="uint16")
    parcels = []
    for k, row in enumerate(table.itertuples()):
        crop = crops[row.crop]
        found = np.nonzero(labels == k + 1)
        if not found[0].size:
            raise InputDataError(farm.path(farm.parcels), f"parcel {row.id} lies outside the farm grid",
                                 "fix its coordinates or enlarge the grid in farm.yaml")
        rows = slice(int(found[0].min()), int(found[0].max()) + 1)
        cols = slice(int(found[1].min()), int(found[1].max()) + 1)
        angle = _long_axis_rad(row.geometry) + math.radians(rng.uniform(-4, 4))
        parcel_rng = np.random.default_rng(np.random.SeedSequence([seed, 1, k]))
        parcels.append(ParcelLayout(
            id=row.id, crop=crop, sowing=dt.date.fromisoformat(str(row.sowing_date)[:10]),
            irrigation_method=row.irrigation_method, polygon=row.geometry, rows=rows, cols=cols,
            mask=labels[rows, cols] == k + 1, row_angle_rad=angle,
            row_offset_m=float(rng.uniform(0, crop.row_spacing_m or 1.0)),
            weedy=row.id in weedy, stressed=row.id in stressed,
            trees=_trees(row.geometry, crop.id, angle, parcel_rng) if crop.kind == "tree" else None))
    return FarmLayout(farm, transform, shape, margin_px, tuple(parcels), texture, weed_field,
                      stress_field, soil_brightness.astype(np.float32))
