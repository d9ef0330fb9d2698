"""Vegetation mask from an index with an automatic threshold and morphological cleaning.

Otsu's threshold (Otsu 1979, IEEE SMC 9:62-66) on NDVI (or ExG for RGB flights) separates the
bimodal vegetation/soil histogram; small objects and holes are removed (scikit-image).
"""
from __future__ import annotations

import numpy as np
from skimage import filters, morphology

from models.segmentation.classes import CROP, NO_DATA, SHADOW, SOIL

SHADOW_NIR_MAX = 0.08
OTSU_BINS = 256
"""threshold_otsu's default histogram size."""
STRIP_PX = 1024
HALO_PX = 32
"""Rows of context above/below a strip: > 2 × (8 + 1) for 8-px specks and pinholes."""
MAX_SPECK_PX = 8


def otsu_threshold(index: np.ndarray) -> float:
    """Otsu threshold of the finite values of an index map."""
    values = index[np.isfinite(index)]
    if values.size < 100 or np.ptp(values) == 0:
        raise ValueError("too few valid pixels or a constant index: no vegetation threshold can be found")
    return float(filters.threshold_otsu(values))


def vegetation_mask(index: np.ndarray, threshold: float | None = None, min_size_px: int = MAX_SPECK_PX,
                    hole_size_px: int = MAX_SPECK_PX) -> np.ndarray:
    """Boolean vegetation mask: index above its Otsu threshold, cleaned of specks and pinholes."""
    threshold = otsu_threshold(index) if threshold is None else threshold
    mask = np.nan_to_num(index, nan=-np.inf) > threshold
    mask = morphology.remove_small_objects(mask, max_size=min_size_px)
    return morphology.remove_small_holes(mask, max_size=hole_size_px)


def _labels(ndvi: np.ndarray, nir: np.ndarray, threshold: float | None) -> np.ndarray:
    classes = np.full(ndvi.shape, SOIL, dtype=np.uint8)
    classes[vegetation_mask(ndvi, threshold)] = CROP
    classes[(classes == SOIL) & (np.nan_to_num(nir, nan=1.0) < SHADOW_NIR_MAX)] = SHADOW
    classes[~np.isfinite(ndvi)] = NO_DATA
    return classes


def threshold_classes(ndvi: np.ndarray, nir: np.ndarray) -> np.ndarray:
    """Simple class map: vegetation (crop) vs soil, dark non-vegetated pixels as shadow, NaN as no data."""
    return _labels(ndvi, nir, None)


def _strips(height: int, strip_px: int) -> range:
    return range(0, height, strip_px)


def otsu_threshold_strips(index, strip_px: int = STRIP_PX) -> float:
    """`otsu_threshold` of a (y, x) index read strip by strip (a Zarr-backed view or an array).

    Two passes: the finite range, then the 256-bin histogram over that range summed over strips,
    the histogram `threshold_otsu` builds from the whole image (np.histogram bins each value by
    the same edges), so the threshold is identical."""
    low, high, count = np.inf, -np.inf, 0
    for top in _strips(index.shape[0], strip_px):
        values = np.asarray(index[top:top + strip_px, :])
        values = values[np.isfinite(values)]
        if values.size:
            low, high, count = min(low, values.min()), max(high, values.max()), count + values.size
    if count < 100 or low == high:
        raise ValueError("too few valid pixels or a constant index: no vegetation threshold can be found")
    counts, edges = 0, None
    for top in _strips(index.shape[0], strip_px):
        values = np.asarray(index[top:top + strip_px, :])
        strip_counts, edges = np.histogram(values[np.isfinite(values)], bins=OTSU_BINS, range=(low, high))
        counts = counts + strip_counts
    return float(filters.threshold_otsu(hist=(counts, (edges[:-1] + edges[1:]) / 2.0)))


def threshold_classes_strips(ndvi, nir, out, strip_px: int = STRIP_PX):
    """`threshold_classes` of lazy (y, x) NDVI and NIR views written into `out` strip by strip.

    Each strip is classified with `HALO_PX` extra rows above and below: speck and pinhole removal
    only looks at connected regions of at most 8 px, which lie within 9 px of any of their
    pixels, so with a halo above 2 × 9 rows every kept row gets the whole-image result."""
    threshold = otsu_threshold_strips(ndvi, strip_px)
    height = ndvi.shape[0]
    for top in _strips(height, strip_px):
        bottom, first = min(height, top + strip_px), max(0, top - HALO_PX)
        last = min(height, bottom + HALO_PX)
        labels = _labels(np.asarray(ndvi[first:last, :]), np.asarray(nir[first:last, :]), threshold)
        out[top:bottom, :] = labels[top - first:bottom - first]
    return out
