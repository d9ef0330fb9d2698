"""Pseudo-labels of a row scene: on-row vegetation is crop, inter-row objects weed, dark soil shadow."""
from __future__ import annotations

import numpy as np
import pytest
from segmentation_scenes import BANDS, row_scene

from models.segmentation.classes import CROP, NO_DATA, SHADOW, SOIL, WEED
from models.segmentation.labels.pseudo import scene_pseudo_labels
from models.segmentation.labels.rows import RowDetectionError
from models.segmentation.vegetation import vegetation_mask


def test_pseudo_labels_match_truth(scene):
    reflectance, truth = scene
    labels = scene_pseudo_labels(reflectance, BANDS)
    for code, precision in ((CROP, 0.97), (WEED, 0.9), (SOIL, 0.97), (SHADOW, 0.95)):
        assert (truth[labels == code] == code).mean() > precision, code
    assert (labels[truth == WEED] == WEED).mean() > 0.8
    assert (labels != NO_DATA).mean() > 0.9


def test_nodata_is_unlabelled(scene):
    reflectance, _ = scene
    holed = reflectance.copy()
    holed[:, :20, :30] = np.nan
    labels = scene_pseudo_labels(holed, BANDS)
    assert (labels[:20, :30] == NO_DATA).all()


def test_bare_soil_mosaic_is_refused():
    reflectance, _ = row_scene(half_width_px=0.0, weeds=3)
    with pytest.raises(RowDetectionError, match="vegetation"):
        scene_pseudo_labels(reflectance, BANDS)


def test_vegetation_mask_against_truth(scene):
    reflectance, truth = scene
    ndvi = (reflectance[4] - reflectance[2]) / (reflectance[4] + reflectance[2])
    mask = vegetation_mask(ndvi)
    plants = (truth == CROP) | (truth == WEED)
    assert (mask & plants).sum() / (mask | plants).sum() > 0.95
