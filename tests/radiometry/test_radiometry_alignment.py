"""Band co-registration: known shifts, rotations and scale differences are undone to a fraction of a pixel."""
from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage
from skimage.transform import AffineTransform, warp

from pipelines.imagery.ingest.alignment import co_register


def _scene(shape=(480, 640), seed=3) -> np.ndarray:
    """Field-like texture: blobs of 4–12 px, smooth enough for bilinear resampling to be faithful."""
    rng = np.random.default_rng(seed)
    return ndimage.gaussian_filter(rng.random(shape), 3) * 4 + ndimage.gaussian_filter(rng.random(shape), 8) * 8


def test_translations_are_found():
    base = _scene((240, 320))
    stack = np.stack([ndimage.shift(base, s, order=1, mode="nearest") for s in [(0, 0), (2.0, -1.5), (-3.0, 0.5)]])
    aligned, transforms, residuals = co_register(stack, ["green", "red", "nir"], reference="green")
    assert transforms["red"]["shift_px"] == pytest.approx([-2.0, 1.5], abs=0.15)
    assert transforms["nir"]["shift_px"] == pytest.approx([3.0, -0.5], abs=0.15)
    assert max(residuals.values()) < 0.2
    interior = np.s_[20:-20, 20:-20]
    assert np.abs(aligned[1][interior] - base[interior]).mean() < 0.02 * base.std()


def test_rotation_scale_and_shift_are_corrected_with_residual_below_a_quarter_pixel():
    base = _scene()
    centre = np.array([320, 240])
    # red(q) = base(lens(q)): the red lens is rotated 1.5°, scaled 1 % and shifted (x 6, y −4) px;
    # the reference→band model co_register must find is lens⁻¹
    lens = (AffineTransform(translation=-centre) + AffineTransform(rotation=np.radians(1.5), scale=1.01)
            + AffineTransform(translation=centre + [6, -4]))
    truth = lens.inverse
    red = warp(base, lens, order=3, mode="edge", preserve_range=True)
    aligned, transforms, residuals = co_register(np.stack([base, red]), ["green", "red"], reference="green")
    red_t = transforms["red"]
    assert red_t["model"] == "affine"
    assert red_t["rotation_deg"] == pytest.approx(-1.5, abs=0.05) and red_t["scale"] == pytest.approx(1 / 1.01,
                                                                                                      abs=0.002)
    grid = np.array([[x, y] for x in (0, 320, 639) for y in (0, 240, 479)], dtype=float)
    found = AffineTransform(matrix=np.array(red_t["matrix"]))
    assert np.abs(found(grid) - truth(grid)).max() < 0.3  # px, corners included
    assert residuals["red"] < 0.25
    interior = np.s_[40:-40, 40:-40]
    before = np.abs(red[interior] - base[interior]).mean()
    after = np.abs(aligned[1][interior] - base[interior]).mean()
    assert after < 0.05 * before
    # translation alone (the previous method) leaves several pixels at the corners
    corner = truth(np.array([[0.0, 0.0]])) - truth(centre[None].astype(float)) - (np.array([[0.0, 0.0]]) - centre)
    assert np.hypot(*corner[0]) > 5
