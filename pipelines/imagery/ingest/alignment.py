"""Band co-registration of a capture: translation, then an affine refinement, with residuals per band.

Bands differ in brightness, not in edges, so every match runs on Sobel gradient magnitude.
1. Coarse: the camera's own prior (DJI `RelativeOpticalCenterX/Y`, pixels relative to NIR) plus a
   global phase correlation at 1/10 px (scikit-image `phase_cross_correlation`, Guizar-Sicairos
   et al. 2008, Opt. Lett. 33:156).
2. Fine: phase correlation on a 5 × 5 grid of tiles gives local displacements; an affine
   transform is fitted to them with RANSAC (`measure.ransac`, `transform.AffineTransform`), so
   rotation, scale and shear between lenses are corrected; two rounds; the band is resampled once
   (bilinear, `transform.warp`), NaN outside its footprint.
3. Residual: the median length (px) of the tile displacements left between the aligned band and
   the reference — what the alignment asset check reads.
"""
from __future__ import annotations

import numpy as np
from scipy import ndimage

TILES = 5
MIN_TILES = 6
RANSAC_PX = 1.0


def _edges(band: np.ndarray) -> np.ndarray:
    band = np.nan_to_num(band.astype(np.float32))
    return np.hypot(ndimage.sobel(band, 0), ndimage.sobel(band, 1))


def _tiles(image: np.ndarray, th: int, tw: int) -> np.ndarray:
    return image[:th * TILES, :tw * TILES].reshape(TILES, th, TILES, tw).swapaxes(1, 2).reshape(-1, th, tw)


def _peak_offsets(cc: np.ndarray) -> np.ndarray:
    """Sub-pixel peak of each correlation surface (n, h, w): integer argmax + 3-point parabola per axis."""
    n, h, w = cc.shape
    flat = cc.reshape(n, -1).argmax(axis=1)
    row, col = np.divmod(flat, w)
    index = np.arange(n)
    offsets = []
    for centre, size, pick in ((row, h, lambda r: cc[index, r % h, col]), (col, w, lambda c: cc[index, row, c % w])):
        before, peak, after = pick(centre - 1), pick(centre), pick(centre + 1)
        curvature = before - 2 * peak + after
        fraction = np.where(curvature < 0, 0.5 * (before - after) / np.where(curvature < 0, curvature, 1), 0.0)
        whole = np.where(centre > size // 2, centre - size, centre)
        offsets.append(whole + np.clip(fraction, -0.5, 0.5))
    return np.stack(offsets, axis=1)


def _tile_matches(reference: np.ndarray, moving: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(tile centres x, y in the reference; displacement x, y to the same content in `moving`).

    Phase correlation of all tiles at once (Hann-windowed, one batched FFT); the peak sign
    convention is scikit-image's `phase_cross_correlation` (shift that registers moving onto
    reference), sub-pixel by a parabola, which the affine rounds drive towards zero shift where it
    is exact. About 20× faster than 25 upsampled-DFT calls per round.
    """
    from scipy import fft

    th, tw = reference.shape[0] // TILES, reference.shape[1] // TILES
    a, b = _tiles(reference, th, tw).astype(np.float64), _tiles(moving, th, tw).astype(np.float64)
    keep = (a.std(axis=(1, 2)) > 1e-6) & (b.std(axis=(1, 2)) > 1e-6) & ((b == 0).mean(axis=(1, 2)) <= 0.3)
    taper = np.outer(np.hanning(th), np.hanning(tw))
    a = (a - a.mean(axis=(1, 2), keepdims=True)) * taper
    b = (b - b.mean(axis=(1, 2), keepdims=True)) * taper
    cc = fft.irfft2(fft.rfft2(a[keep], workers=-1) * fft.rfft2(b[keep], workers=-1).conj(), s=(th, tw), workers=-1)
    shifts = _peak_offsets(cc)
    i, j = np.divmod(np.flatnonzero(keep), TILES)
    centres = np.column_stack([(j + 0.5) * tw - 0.5, (i + 0.5) * th - 0.5])
    return centres, -shifts[:, ::-1]


def _refine(reference: np.ndarray, moving: np.ndarray, model):
    """One affine round: tiles of `moving` warped by `model` → a new reference→moving affine, or None."""
    from skimage.measure import ransac
    from skimage.transform import AffineTransform, warp

    warped = warp(moving, model, order=1, cval=0.0, preserve_range=True)
    centres, displacement = _tile_matches(reference, warped)
    if len(centres) < MIN_TILES:
        return None
    fitted, inliers = ransac((centres, model(centres + displacement)), AffineTransform, min_samples=3,
                             residual_threshold=RANSAC_PX, max_trials=200, rng=0)
    return fitted if fitted is not None and inliers is not None and inliers.sum() >= MIN_TILES else None


def _describe(model, shape: tuple[int, int], kind: str) -> dict:
    centre = np.array([[(shape[1] - 1) / 2, (shape[0] - 1) / 2]])
    moved = centre - model(centre)
    return {"model": kind, "shift_px": [round(float(moved[0, 1]), 2), round(float(moved[0, 0]), 2)],
            "rotation_deg": round(float(np.degrees(model.rotation)), 3),
            "scale": round(float(np.mean(model.scale)), 5), "matrix": np.round(model.params, 6).tolist()}


def register_band(reference_edges: np.ndarray, band: np.ndarray, prior_xy: tuple[float, float] = (0.0, 0.0)):
    """(reference→band AffineTransform, "affine" | "translation") for one band; `prior_xy` is where
    the band sees the reference's content, in pixels (x, y)."""
    from skimage.registration import phase_cross_correlation
    from skimage.transform import AffineTransform, warp

    edges = _edges(band)
    prior = AffineTransform(translation=prior_xy)
    coarse = warp(edges, prior, order=1, cval=0.0, preserve_range=True)
    shift, _, _ = phase_cross_correlation(reference_edges, coarse, upsample_factor=10, normalization=None)
    model = AffineTransform(translation=(prior_xy[0] - shift[1], prior_xy[1] - shift[0]))
    kind = "translation"
    for _ in range(2):
        refined = _refine(reference_edges, edges, model)
        if refined is None:
            break
        model, kind = refined, "affine"
    return model, kind


def residual_px(reference_edges: np.ndarray, band: np.ndarray, model) -> float | None:
    """Median misalignment (px) left between `band` warped by `model` and the reference, over the tile grid.

    The band's edges are warped (not the edges of the warped band): its NaN footprint border
    would otherwise add an edge the reference does not have.
    """
    from skimage.transform import warp

    _, displacement = _tile_matches(reference_edges, warp(_edges(band), model, order=1, cval=0.0, preserve_range=True))
    return round(float(np.median(np.hypot(*displacement.T))), 3) if len(displacement) else None


def optical_centre_priors(images) -> dict[str, tuple[float, float]]:
    """Per band, the camera's optical-centre disparity (x, y) px from XMP RelativeOpticalCenterX/Y (DJI)."""
    return {im.band: (float(im.xmp["RelativeOpticalCenterX"]), float(im.xmp["RelativeOpticalCenterY"]))
            for im in images if "RelativeOpticalCenterX" in im.xmp and "RelativeOpticalCenterY" in im.xmp}


def co_register(stack: np.ndarray, bands: list[str], reference: str | None = None,
                priors_xy: dict[str, tuple[float, float]] | None = None) -> tuple[np.ndarray, dict, dict]:
    """Align (band, y, x) onto the reference band (default: the middle one).

    Returns (aligned stack float32 with NaN outside each band's footprint, per band
    {model, shift_px [row, col] at the image centre, rotation_deg, scale, matrix}, per band
    residual px). `priors_xy` gives each band's known disparity (x, y) px to the reference.
    """
    from skimage.transform import AffineTransform, warp

    ref_index = bands.index(reference) if reference in bands else len(bands) // 2
    reference_edges = _edges(stack[ref_index])
    aligned = np.empty(stack.shape, dtype=np.float32)
    transforms, residuals = {}, {}
    for i, band in enumerate(bands):
        if i == ref_index:
            model, kind = AffineTransform(), "reference"
            aligned[i] = stack[i]
        else:
            model, kind = register_band(reference_edges, stack[i], (priors_xy or {}).get(band, (0.0, 0.0)))
            aligned[i] = warp(stack[i].astype(np.float32), model, order=1, cval=np.nan, preserve_range=True)
        transforms[band] = _describe(model, stack.shape[1:], kind)
        residuals[band] = 0.0 if i == ref_index else residual_px(reference_edges, stack[i], model)
    return aligned, transforms, residuals
