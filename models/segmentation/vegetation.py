"""Vegetation mask from an index with an automatic threshold and morphological cleaning.

Otsu's threshold (Otsu 1979, IEEE SMC 9:62-66) on NDVI (or ExG for RGB flights) separates the
bimodal vegetation/soil histogram; small objects and holes are removed (scikit-image).
"""
from __future__ import annotations

import numpy as np
from skimage import filters, morphology

from models.segmentation.classes import CROP, NO_DATA, SHADOW, SOIL

SHADOW_NIR_MAX = 0.08


def otsu_threshold(index: np.ndarray) -> float:
    """Otsu threshold of the finite values of an index map."""
    values = index[np.isfinite(index)]
    if values.size < 100 or np.ptp(values) == 0:
        raise ValueError("too few valid pixels or a constant index: no vegetation threshold can be found")
    return float(filters.threshold_otsu(values))


def vegetation_mask(index: np.ndarray, threshold: float | None = None, min_size_px: int = 8,
                    hole_size_px: int = 8) -> np.ndarray:
    """Boolean vegetation mask: index above its Otsu threshold, cleaned of specks and pinholes."""
    threshold = otsu_threshold(index) if threshold is None else threshold
    mask = np.nan_to_num(index, nan=-np.inf) > threshold
    mask = morphology.remove_small_objects(mask, max_size=min_size_px)
    return morphology.remove_small_holes(mask, max_size=hole_size_px)


def threshold_classes(ndvi: np.ndarray, nir: np.ndarray) -> np.ndarray:
    """Simple class map: vegetation (crop) vs soil, dark non-vegetated pixels as shadow, NaN as no data."""
    classes = np.full(ndvi.shape, SOIL, dtype=np.uint8)
    classes[vegetation_mask(ndvi)] = CROP
    classes[(classes == SOIL) & (np.nan_to_num(nir, nan=1.0) < SHADOW_NIR_MAX)] = SHADOW
    classes[~np.isfinite(ndvi)] = NO_DATA
    return classes
