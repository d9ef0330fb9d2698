"""Row detection recovers the spacing and orientation of drawn rows and refuses row-less masks."""
from __future__ import annotations

import numpy as np
import pytest
from segmentation_scenes import row_scene

from models.segmentation.labels.rows import RowDetectionError, detect_rows


@pytest.mark.parametrize("spacing_px, angle_deg", [(16.0, 25.0), (6.0, 120.0), (3.0, 60.0)])
def test_rows_spacing_angle_and_position(spacing_px, angle_deg):
    _, truth = row_scene(shape=(300, 400), spacing_px=spacing_px, angle_deg=angle_deg,
                         half_width_px=max(1.0, spacing_px / 5), weeds=20)
    rows = detect_rows(truth == 1)
    assert rows.spacing_px == pytest.approx(spacing_px, rel=0.01)
    assert abs((rows.angle_deg - (180 - angle_deg) + 90) % 180 - 90) < 0.5
    on_row = rows.distance_px(truth.shape) < 0.5
    assert (truth[on_row] == 1).mean() > 0.95


def test_too_little_vegetation_is_refused():
    mask = np.zeros((200, 200), bool)
    mask[::100, :] = True
    with pytest.raises(RowDetectionError, match="vegetation"):
        detect_rows(mask)


def test_random_vegetation_has_no_rows():
    mask = np.random.default_rng(1).random((256, 256)) < 0.3
    with pytest.raises(RowDetectionError, match="no row pattern"):
        detect_rows(mask)
