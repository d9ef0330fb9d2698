"""Render the synthetic farm on one date: true reflectance, class map and water-stress map.

Sub-pixel cover fractions of crop, weeds and shadow are drawn from geometry (cereal canopy,
crop rows, tree crowns and their shadows, weed and stress patches) on the scene grid, then mixed
linearly (`spectra.mix`). Class codes: 0 soil, 1 crop, 2 weed, 3 shadow (the dominant cover).
"""
from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree

from pipelines.synthetic.layout import (
    TREE_GREENNESS,
    WEED_THRESHOLD,
    FarmLayout,
    ParcelLayout,
)
from pipelines.synthetic.phenology import canopy_state, sun_position
from pipelines.synthetic.spectra import MOIST_SOIL_FACTOR, canopy_reflectance, mix

SOIL, CROP, WEED, SHADOW = 0, 1, 2, 3
EDGE_SOFTNESS = 0.15
"""Width of the cover ramp of a cereal pixel, in cover units: smaller = crisper crop/soil split."""
SOIL_WETNESS = {"surface": 0.6, "sprinkler": 0.4, "drip": 0.15}
"""Share of the moist-soil darkening by irrigation method (surface wets the whole parcel)."""
TRACK_BRIGHTNESS = 1.08
WEED_GROWTH_PER_DAY = 0.004
"""Fall of the weed threshold per day after sowing (standard deviations): patches widen."""
STRESS_GROWTH_PER_DAY = 0.006
"""Fall of the stress threshold per day of the season (standard deviations): blobs grow."""


@dataclass(frozen=True)
class SceneState:
    """The farm on one date on the scene grid: reflectance (5, y, x) float32, classes, stress."""

    reflectance: np.ndarray
    classes: np.ndarray
    stress: np.ndarray


@dataclass
class _Cover:
    crop: np.ndarray
    weed: np.ndarray
    shadow: np.ndarray
    stress: np.ndarray
    greenness: np.ndarray
    soil: np.ndarray


def _ramp(value: np.ndarray, width: float) -> np.ndarray:
    return np.clip(value / width + 0.5, 0.0, 1.0)


def _across_row_m(layout: FarmLayout, parcel: ParcelLayout, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Signed distance (m) of each pixel centre from the nearest crop-row centre line."""
    spacing = parcel.crop.row_spacing_m
    v = -x * math.sin(parcel.row_angle_rad) + y * math.cos(parcel.row_angle_rad) - parcel.row_offset_m
    return np.mod(v, spacing) - spacing / 2


def row_distance_m(layout: FarmLayout, parcel: ParcelLayout) -> np.ndarray:
    """Distance (m) from the nearest row centre line over the parcel's window (row crops)."""
    x, y = layout.xy(parcel.rows, parcel.cols)
    return np.abs(_across_row_m(layout, parcel, x, y))


def _crowns(parcel: ParcelLayout, x: np.ndarray, y: np.ndarray, lumps: np.ndarray, px: float) -> np.ndarray:
    trees = parcel.trees
    if trees is None or not len(trees):
        return np.zeros_like(x)
    dist, nearest = cKDTree(trees[:, :2]).query(np.column_stack([x.ravel(), y.ravel()]))
    radius = trees[nearest, 2].reshape(x.shape) * (0.9 + 0.2 * lumps)
    return _ramp((radius - dist.reshape(x.shape)) / px, 1.0).astype(np.float32)


def _annual_cover(layout: FarmLayout, parcel: ParcelLayout, on: dt.date, cover: _Cover, win) -> None:
    state = canopy_state(parcel.crop, parcel.sowing, on)
    texture = layout.texture[win]
    if parcel.crop.kind == "cereal":
        crop = _ramp(state.cover_fraction - texture, EDGE_SOFTNESS)
    else:
        x, y = layout.xy(parcel.rows, parcel.cols)
        half_width_m = state.cover_fraction * parcel.crop.row_spacing_m / 2 * (0.8 + 0.4 * texture)
        crop = _ramp((half_width_m - np.abs(_across_row_m(layout, parcel, x, y))) / layout.transform.a, 1.0)
    cover.crop[win] = np.where(parcel.mask, crop, cover.crop[win])
    cover.greenness[win] = np.where(parcel.mask, state.greenness, cover.greenness[win])


def _tree_cover(layout: FarmLayout, parcel: ParcelLayout, on: dt.date, cover: _Cover) -> None:
    px = layout.transform.a
    reach = math.ceil(6.0 / px)
    rows = slice(max(parcel.rows.start - reach, 0), min(parcel.rows.stop + reach, layout.shape[0]))
    cols = slice(max(parcel.cols.start - reach, 0), min(parcel.cols.stop + reach, layout.shape[1]))
    x, y = layout.xy(rows, cols)
    lumps = layout.texture[rows, cols]
    crown = _crowns(parcel, x, y, lumps, px)
    elevation, azimuth = sun_position(layout.farm.location.lat_deg, on)
    length = 0.6 * parcel.crop.height_max_m / math.tan(math.radians(elevation))
    dx, dy = -length * math.sin(math.radians(azimuth)), -length * math.cos(math.radians(azimuth))
    shade = _crowns(parcel, x - dx, y - dy, lumps, px)
    cover.crop[rows, cols] = np.maximum(cover.crop[rows, cols], crown)
    cover.greenness[rows, cols] = np.where(crown > 0, TREE_GREENNESS.get(parcel.crop.id, 1.0),
                                           cover.greenness[rows, cols])
    cover.shadow[rows, cols] = np.maximum(cover.shadow[rows, cols], shade * (1 - crown))


def _weeds(layout: FarmLayout, parcel: ParcelLayout, on: dt.date, cover: _Cover, win) -> None:
    days = (on - parcel.sowing).days if parcel.crop.kind != "tree" else 120
    if days <= 0:
        return
    threshold = WEED_THRESHOLD["weedy" if parcel.weedy else "normal"] - WEED_GROWTH_PER_DAY * min(days, 120)
    patch = _ramp(layout.weed_field[win] - threshold, 0.3) * min(1.0, days / 30) * parcel.mask
    crop = cover.crop[win]
    if parcel.crop.kind == "cereal":
        weed = 0.9 * patch
        cover.crop[win] = crop * (1 - patch)
    else:
        weed = patch * np.clip(1 - crop - cover.shadow[win], 0, 1) * 0.95
    cover.weed[win] = np.maximum(cover.weed[win], weed)


def _stress(layout: FarmLayout, parcel: ParcelLayout, on: dt.date, cover: _Cover, win) -> None:
    season = layout.farm.season
    threshold = 2.0 - STRESS_GROWTH_PER_DAY * (on - season.start).days
    level = np.clip((layout.stress_field[win] - threshold) / 1.0, 0.0, 0.9) * parcel.mask
    if parcel.crop.kind != "tree":
        cover.crop[win] *= 1 - 0.2 * level
    cover.stress[win] = np.maximum(cover.stress[win], level)


def _soil(layout: FarmLayout, parcel: ParcelLayout, cover: _Cover, win) -> None:
    wet = 1.0 - (1.0 - MOIST_SOIL_FACTOR) * SOIL_WETNESS.get(parcel.irrigation_method, 0.0)
    cover.soil[win] = np.where(parcel.mask, layout.soil_brightness[win] * wet, cover.soil[win])


def render(layout: FarmLayout, on: dt.date) -> SceneState:
    """The noise-free farm on date `on`: reflectance, dominant class and crop water stress."""
    zeros = lambda: np.zeros(layout.shape, dtype=np.float32)  # noqa: E731
    cover = _Cover(zeros(), zeros(), zeros(), zeros(), np.ones(layout.shape, np.float32),
                   layout.soil_brightness * np.float32(TRACK_BRIGHTNESS))
    for parcel in layout.parcels:
        win = (parcel.rows, parcel.cols)
        _soil(layout, parcel, cover, win)
        if parcel.crop.kind == "tree":
            _tree_cover(layout, parcel, on, cover)
        else:
            _annual_cover(layout, parcel, on, cover, win)
        _weeds(layout, parcel, on, cover, win)
        if parcel.stressed:
            _stress(layout, parcel, on, cover, win)
    cover.stress *= cover.crop > 0.05
    canopy = canopy_reflectance(cover.greenness, cover.stress)
    reflectance = mix(cover.crop, cover.weed, canopy, cover.soil, cover.shadow)
    classes = np.full(layout.shape, SOIL, dtype=np.uint8)
    classes[cover.weed >= 0.5] = WEED
    classes[cover.shadow >= 0.5] = SHADOW
    classes[cover.crop >= 0.5] = CROP
    return SceneState(reflectance, classes, cover.stress)
