"""The calibration panel in a panel capture: where it is and what its reflectance is, per band.

A panel is a Lambertian target of known reflectance (MicaSense/Parrot panels ~0.5, a calibration
sheet per band). In its band image it is the brightest square that is both uniform (coefficient
of variation < 3 % over the square) and unsaturated: a clipped region is perfectly uniform too,
so squares touching DN 65535 are never taken, and a capture whose only panel-like square is
clipped is refused (a saturated panel under-states the light and inflates every reflectance).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import ndimage

from pipelines.core.errors import InputDataError

UNIFORM_CV = 0.03
SATURATED_DN = 65535


@dataclass(frozen=True)
class PanelRegion:
    """The panel found in one band image: the slices of its interior, its uniformity."""

    rows: slice
    cols: slice
    cv: float                     # coefficient of variation of the signal inside the square
    saturated_skipped: bool       # a brighter uniform but clipped square was passed over


def _box_stats(values: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    mean = ndimage.uniform_filter(values, size, mode="constant")
    square = ndimage.uniform_filter(values * values, size, mode="constant")
    cv = np.sqrt(np.maximum(square - mean * mean, 0)) / np.maximum(np.abs(mean), 1e-12)
    return mean, cv


def panel_region(signal: np.ndarray, dn: np.ndarray | None = None, size_px: int | None = None,
                 path: str | Path = "<panel>") -> PanelRegion:
    """The brightest uniform unsaturated square of `signal` (the calibrated band image).

    `dn` (raw digital numbers) marks clipped pixels; without it no square is rejected for
    saturation. `size_px` defaults to 1/8 of the image's short side. Raises `InputDataError`
    naming `path` when no uniform square exists or the only one is saturated.
    """
    size = size_px or max(8, min(signal.shape) // 8)
    half = size // 2
    values = np.nan_to_num(signal.astype(np.float64), nan=0.0)
    mean, cv = _box_stats(values, size)
    edge = np.zeros(signal.shape, dtype=bool)
    edge[half:-half or None, half:-half or None] = True
    uniform = (cv < UNIFORM_CV) & edge & (mean > 0)
    clipped = (ndimage.uniform_filter((dn >= SATURATED_DN).astype(np.float32), size, mode="constant") > 0
               if dn is not None else np.zeros(signal.shape, dtype=bool))
    usable = uniform & ~clipped
    if not usable.any():
        if (uniform & clipped).any():
            raise InputDataError(path, "the calibration panel is saturated (its square reaches DN 65535)",
                                 "shoot the panel again with auto-exposure on, out of direct specular glare")
        raise InputDataError(path, "no uniform bright panel found in the panel image",
                             "fill a larger part of the frame with the panel, in full sun, without shadow")
    score = np.where(usable, mean, -np.inf)
    row, col = np.unravel_index(np.argmax(score), score.shape)
    brighter_clipped = bool((uniform & clipped & (mean > score[row, col])).any())
    margin = max(1, size // 8)  # stay off the panel's edge: the square may graze its border
    return PanelRegion(slice(row - half + margin, row + half - margin), slice(col - half + margin, col + half - margin),
                       round(float(cv[row, col]), 5), brighter_clipped)


def panel_reflectance(images, given: float | list[float] | dict[str, float] | None) -> dict[str, float]:
    """Panel reflectance per band: `given` (one value, one per band in order, or {band: value}), else
    the panel albedo the camera wrote in each file's XMP (MicaSense `Albedo`)."""
    bands = [im.band for im in images]
    if isinstance(given, dict):
        missing = [b for b in bands if b not in given]
        if missing:
            raise InputDataError(images[0].path, f"panel reflectance lacks band(s) {missing}",
                                 f"give one value per band: {bands}")
        return {b: float(given[b]) for b in bands}
    if isinstance(given, (list, tuple)):
        if len(given) != len(bands):
            raise InputDataError(images[0].path,
                                 f"{len(given)} panel reflectance values for {len(bands)} bands {bands}",
                                 "give one value, or one per band in this order")
        return {b: float(v) for b, v in zip(bands, given)}
    if given is not None:
        return {b: float(given) for b in bands}
    albedo = {im.band: im.xmp.get("Albedo") or im.xmp.get("PanelAlbedo") for im in images}
    if any(v is None for v in albedo.values()):
        raise InputDataError(images[0].path, "panel capture carries no panel albedo in its XMP",
                             "pass the panel's reflectance per band (--panel-reflectance, from its calibration sheet)")
    return {b: float(v) for b, v in albedo.items()}
