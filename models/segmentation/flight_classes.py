"""Class map of a whole flight at farm scale: the one function the `crop_segmentation` asset and
the scale benchmark call.

With a trained model: the frozen recipe (`decision.segment`, strip by strip). Without one (a
farm's first flights): the Otsu NDVI threshold (`vegetation.threshold_classes_strips`), then,
parcel by parcel on its bounding window, the vegetation of row and tree crops is split by rows
(`pseudo_labels.row_labels`, the Fourier row detection of Bah, Hafiane & Canals 2018): vegetation
objects that do not touch the row band are weed, the rest stays crop. Cereal rows (0.15-0.2 m)
are not resolved at flight resolution: their vegetation stays crop.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from affine import Affine
from rasterio import features, windows

from models.segmentation.classes import CROP, WEED
from models.segmentation.labels.pseudo import SPACING_TOLERANCE, row_labels
from models.segmentation.labels.rows import RowDetectionError

BLOCK_PX = 1024
"""Rows are detected per block of at most 1024² px of a parcel (bounded memory at farm scale)."""


@dataclass(frozen=True)
class RowParcel:
    """One parcel for the fallback's row split: geometry in the grid CRS, crop kind and row spacing."""

    geometry: object
    kind: str
    row_spacing_m: float | None


def split_weeds_by_rows(classes, parcels: Sequence[RowParcel], transform: Affine) -> int:
    """Relabel as weed the vegetation (crop pixels) off the rows of each row / tree parcel, in place.

    `classes` is a writable (y, x) uint8 array (NumPy or Zarr) read and written one block of at most
    `BLOCK_PX`² of a parcel window at a time; returns the number of pixels relabelled. Blocks
    without a row pattern are left as they are.
    """
    height, width = classes.shape
    pixel_m = abs(transform.a)
    changed = 0
    for parcel in parcels:
        if parcel.kind == "cereal" or not parcel.row_spacing_m or parcel.geometry is None or parcel.geometry.is_empty:
            continue
        window = windows.from_bounds(*parcel.geometry.bounds, transform=transform).round_offsets().round_lengths()
        window = window.intersection(windows.Window(0, 0, width, height))
        for top in range(int(window.row_off), int(window.row_off + window.height), BLOCK_PX):
            for left in range(int(window.col_off), int(window.col_off + window.width), BLOCK_PX):
                block_window = windows.Window(left, top, min(BLOCK_PX, int(window.col_off + window.width) - left),
                                              min(BLOCK_PX, int(window.row_off + window.height) - top))
                changed += _split_block(classes, parcel, block_window, transform, parcel.row_spacing_m / pixel_m)
    return changed


def _split_block(classes, parcel: RowParcel, window: windows.Window, transform: Affine, spacing_px: float) -> int:
    rows, cols = window.toslices()
    area = features.rasterize([(parcel.geometry, 1)], out_shape=(window.height, window.width),
                              transform=windows.transform(window, transform), fill=0, dtype="uint8").astype(bool)
    block = np.asarray(classes[rows, cols])
    vegetation = block == CROP
    try:
        spacing = ((1 - SPACING_TOLERANCE) * spacing_px, (1 + SPACING_TOLERANCE) * spacing_px)
        labels = row_labels(vegetation, area, spacing)
    except RowDetectionError:
        return 0
    weed = area & vegetation & (labels == WEED)
    if weed.any():
        block[weed] = WEED
        classes[rows, cols] = block
    return int(weed.sum())


def flight_classes(out, reflectance, band_names: Sequence[str], card=None, recipe=None, index=None, dark=None,
                   parcels: Sequence[RowParcel] = (), transform: Affine | None = None, stored_indices=None) -> str:
    """Fill `out` (y, x) uint8 with the flight's classes; return the method used (for metadata).

    `reflectance` (band, y, x), `index` and `dark` (y, x) may be lazy (Zarr) views; the vegetation
    `index` (NDVI, or ExG on an RGB flight), the `dark` band for shadow (NIR, or green) and
    `parcels` with `transform` serve the fallback only (no `card`). `stored_indices`: the flight's
    stored layers of the indices the card's `<index>-otsu` channels centre
    (`features.image_thresholds`' `stored`), read for the flight's thresholds instead of every band.
    """
    if card is not None:
        from models.segmentation.decision import load_recipe, segment
        from models.segmentation.features import image_thresholds

        recipe = recipe or load_recipe()
        thresholds = image_thresholds(reflectance, band_names, card.indices, stored=stored_indices)
        segment(card, reflectance, band_names, recipe, out=out, thresholds=thresholds)
        return (f"U-Net {card.encoder} (sha256 {card.sha256[:12]}) trained on "
                f"{card.training_data.get('source', 'unknown data')}, recipe {recipe.rule_for(card).id}")
    from models.segmentation.vegetation import threshold_classes_strips

    if index is None or dark is None:
        raise ValueError("the Otsu fallback needs the flight's vegetation index and dark-band planes")
    threshold_classes_strips(index, dark, out)
    weeds = split_weeds_by_rows(out, parcels, transform) if parcels and transform is not None else 0
    return f"Otsu NDVI threshold + morphology, weeds split by rows ({weeds} px) (no segmentation model yet)"
