"""Pseudo-labels (crop / weed / soil / shadow, 255 = unlabelled) built from a flight itself.

Rules, per parcel kind (`load_crop(parcel.crop).kind`):
- row crops and tree crops: rows are detected on the vegetation mask (`rows.detect_rows`, spacing
  searched within ±35 % of the crop's `row_spacing_m`). Vegetation on the row band is crop;
  vegetation objects that do not touch the row band are weed (inter-row weeds, Bah, Hafiane &
  Canals 2018, Remote Sensing 10:1690); the rest of the vegetation (off-row parts of objects that
  touch a row) is left unlabelled. The row band is where the vegetation share across rows stays
  above half its on-row value. For trees the rows are the tree lines, the band the canopy.
- cereals: rows (0.15-0.2 m) are not resolved at 0.25 m, so vegetation is crop except compact
  patches whose NDVI lies more than `CEREAL_OUTLIER_SIGMA` robust standard deviations below the
  parcel's vegetation median: weed patches are paler than a dense cereal canopy, so those patches
  are weed, a one-pixel ring around them unlabelled (strong water-stress patches look alike: on
  the synthetic farm about half of the pale-patch labels are true weeds, recall above 80 %).
- everywhere: pixels whose index lies within 30 % of the way from the Otsu threshold to the
  soil (or vegetation) median are unlabelled (mixed pixels: the network decides them from context and all channels);
  non-vegetated pixels darker than `vegetation.SHADOW_NIR_MAX` in NIR are shadow,
  other non-vegetated pixels are soil; vegetation outside every parcel and no-data pixels are
  unlabelled.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import ndimage
from skimage import morphology

from models.segmentation.classes import CROP, NO_DATA, SHADOW, SOIL, WEED
from models.segmentation.features import vegetation_index_name
from models.segmentation.labels.rows import RowDetectionError, detect_rows
from models.segmentation.vegetation import (
    SHADOW_NIR_MAX,
    otsu_threshold,
    vegetation_mask,
)
from pipelines.imagery.indices.kernel import compute_indices

SPACING_TOLERANCE = 0.35
CEREAL_OUTLIER_SIGMA = 3.0
CEREAL_PATCH_MIN_PX = 16
ROW_BAND_MIN_PX = 0.75
AMBIGUOUS_SHARE = 0.3


def row_band_px(distance_px: np.ndarray, vegetation: np.ndarray, area: np.ndarray, spacing_px: float) -> float:
    """Half-width of the row band: distance where the vegetation share falls below half its on-row value."""
    bins = np.linspace(0, spacing_px / 2, max(4, int(spacing_px)) + 1)
    d, v = distance_px[area], vegetation[area]
    which = np.clip(np.digitize(d, bins) - 1, 0, len(bins) - 2)
    share = np.bincount(which, v, len(bins) - 1) / np.maximum(np.bincount(which, minlength=len(bins) - 1), 1)
    below = np.nonzero(share < share[0] / 2)[0]
    edge = bins[below[0]] if below.size else bins[-1] * 0.8
    return float(max(edge, ROW_BAND_MIN_PX))


def row_labels(vegetation: np.ndarray, area: np.ndarray, spacing_px: tuple[float, float] = (2.5, 200.0)) -> np.ndarray:
    """Crop (on-row) / weed (inter-row objects) / 255 labels of the vegetation inside `area`."""
    pattern = detect_rows(vegetation, area, spacing_px)
    distance = pattern.distance_px(vegetation.shape)
    band = distance <= row_band_px(distance, vegetation, area, pattern.spacing_px)
    plants = vegetation & area
    objects, _ = ndimage.label(plants)
    on_row = np.unique(objects[plants & band])
    touching = np.isin(objects, on_row[on_row > 0])
    labels = np.full(vegetation.shape, NO_DATA, np.uint8)
    labels[plants & ~touching] = WEED
    labels[plants & band] = CROP
    return labels


def cereal_labels(vegetation: np.ndarray, ndvi: np.ndarray, area: np.ndarray) -> np.ndarray:
    """Crop labels of a cereal parcel's vegetation, pale compact patches left unlabelled (255)."""
    plants = vegetation & area
    labels = np.full(vegetation.shape, NO_DATA, np.uint8)
    if plants.sum() < 100:
        return labels
    values = ndvi[plants]
    median = np.median(values)
    sigma = 1.4826 * np.median(np.abs(values - median))
    pale = plants & (ndvi < median - CEREAL_OUTLIER_SIGMA * sigma)
    pale = morphology.remove_small_objects(ndimage.binary_opening(pale), max_size=CEREAL_PATCH_MIN_PX)
    labels[plants & ~ndimage.binary_dilation(pale, morphology.disk(2))] = CROP
    labels[pale] = WEED
    return labels


def background_labels(reflectance: np.ndarray, band_names: Sequence[str], vegetation: np.ndarray) -> np.ndarray:
    """Soil / shadow for non-vegetated pixels, 255 for vegetation and no data."""
    labels = np.where(vegetation, NO_DATA, SOIL).astype(np.uint8)
    names = [b.lower() for b in band_names]
    if "nir" in names:
        labels[~vegetation & (np.nan_to_num(reflectance[names.index("nir")], nan=1.0) < SHADOW_NIR_MAX)] = SHADOW
    labels[~np.isfinite(reflectance).all(axis=0)] = NO_DATA
    return labels


def vegetation_of(reflectance: np.ndarray, band_names: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The vegetation index (NDVI or ExG), its cleaned Otsu vegetation mask, and the pixels too
    close to the threshold to be labelled (within `AMBIGUOUS_SHARE` of the way from the threshold
    to the soil or vegetation median): the network learns their class from context and all channels."""
    index = compute_indices(reflectance, band_names, [vegetation_index_name(band_names)]).values[0]
    threshold = otsu_threshold(index)
    vegetation = vegetation_mask(index, threshold)
    finite = np.isfinite(index)
    if not (finite & vegetation).any() or not (finite & ~vegetation).any():
        return index, vegetation, np.zeros(index.shape, bool)
    low = threshold - AMBIGUOUS_SHARE * (threshold - np.median(index[finite & ~vegetation]))
    high = threshold + AMBIGUOUS_SHARE * (np.median(index[finite & vegetation]) - threshold)
    return index, vegetation, (index > low) & (index < high)


def scene_pseudo_labels(reflectance: np.ndarray, band_names: Sequence[str],
                        spacing_px: tuple[float, float] = (2.5, 200.0)) -> np.ndarray:
    """Pseudo-labels of a scene that is one row-crop field (no parcel map), e.g. a close-range tile."""
    index, vegetation, ambiguous = vegetation_of(reflectance, band_names)
    labels = background_labels(reflectance, band_names, vegetation)
    plant = row_labels(vegetation, np.isfinite(index), spacing_px)
    return np.where(ambiguous, NO_DATA, np.where(vegetation, plant, labels)).astype(np.uint8)


def parcel_pseudo_labels(reflectance: np.ndarray, band_names: Sequence[str], parcel_ids: np.ndarray,
                         parcels: Sequence[tuple[int, str, float | None]], pixel_size_m: float) -> np.ndarray:
    """Pseudo-labels of a farm flight; `parcel_ids` (y, x) numbers the parcels (0 = none) and
    `parcels` lists (number, kind, row_spacing_m) with kind in cereal/row/tree."""
    index, vegetation, ambiguous = vegetation_of(reflectance, band_names)
    labels = background_labels(reflectance, band_names, vegetation)
    labels[ambiguous] = NO_DATA
    for number, kind, spacing_m in parcels:
        area = parcel_ids == number
        if not area.any():
            continue
        rows, cols = ndimage.find_objects(area.astype(np.uint8))[0]
        sub_area, sub_veg = area[rows, cols], vegetation[rows, cols]
        if kind == "cereal" or not spacing_m:
            plant = cereal_labels(sub_veg, index[rows, cols], sub_area)
        else:
            px = spacing_m / pixel_size_m
            try:
                plant = row_labels(sub_veg, sub_area, ((1 - SPACING_TOLERANCE) * px, (1 + SPACING_TOLERANCE) * px))
            except RowDetectionError:
                plant = np.full(sub_veg.shape, NO_DATA, np.uint8)
        view = labels[rows, cols]
        keep = sub_area & sub_veg & ~ambiguous[rows, cols]
        view[keep] = plant[keep]
    return labels
