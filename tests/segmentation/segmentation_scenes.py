"""A small row-crop scene built in code (imported by the tests as `segmentation_scenes`): rows of crop,
weed blobs between the rows, soil, shadow."""
from __future__ import annotations

import math

import numpy as np

from pipelines.synthetic.spectra import (
    DRY_SOIL,
    HEALTHY_CANOPY,
    SHADOW_FACTOR,
    WEED_CANOPY,
)

BANDS = ["blue", "green", "red", "rededge", "nir"]


def row_scene(shape=(256, 320), spacing_px=16.0, angle_deg=25.0, half_width_px=3.0, weeds=12, seed=0):
    """(reflectance (5, y, x) float32, truth (y, x) uint8 0 soil 1 crop 2 weed 3 shadow)."""
    rng = np.random.default_rng(seed)
    y, x = np.indices(shape, dtype=np.float64)
    theta = math.radians(angle_deg)
    across = -x * math.sin(theta) + y * math.cos(theta)
    distance = np.abs(np.mod(across, spacing_px) - spacing_px / 2)
    truth = np.zeros(shape, np.uint8)
    truth[distance > spacing_px / 2 - half_width_px] = 1
    for _ in range(weeds):
        cy, cx = rng.integers(0, shape[0]), rng.integers(0, shape[1])
        blob = (y - cy) ** 2 + (x - cx) ** 2 <= rng.uniform(1.5, 3.0) ** 2
        truth[blob & (distance < spacing_px / 2 - half_width_px - 2.0)] = 2
    shade = (truth == 0) & (np.roll(truth, 3, axis=1) == 1) & (np.roll(truth, 2, axis=1) == 1)
    truth[shade] = 3
    spectra = np.stack([DRY_SOIL, HEALTHY_CANOPY, WEED_CANOPY, DRY_SOIL * SHADOW_FACTOR])
    reflectance = spectra[truth].transpose(2, 0, 1).astype(np.float32)
    reflectance *= rng.normal(1.0, 0.03, reflectance.shape).astype(np.float32)
    return reflectance, truth
