"""Every preview and downsampling helper of the project, and the PNG size limit of the UI.

- `reduce_mean(array, factor)`: NaN-ignoring block mean (the overview of a raster).
- `block_mean_strips(source, factor)`: the same, read `factor`-row multiples at a time from any
  sliceable (y, x) source (a Zarr array), so a 20 000² mosaic is never held in memory.
- `preview_step(shape, max_side_px)` / `block_factor`: stride or block size that brings the longer
  side to at most `max_side_px`.
- `preview_png(reflectance, bands, kind)`: an RGB or false-colour composite as PNG bytes below
  `PREVIEW_MAX_BYTES` (what the Dagster UI shows inline).
"""
from __future__ import annotations

import io
import math
from collections.abc import Sequence

import numpy as np

from pipelines.core.errors import InputDataError

PREVIEW_MAX_BYTES = 150_000
"""Largest PNG (bytes) embedded in the UI's metadata or a report."""
STRIP_PX = 1024
"""Rows per strip read by `block_mean_strips` (a multiple of the store's 512 px chunks)."""
COMPOSITES = {"rgb": ("red", "green", "blue"), "false_colour": ("nir", "red", "green")}


def reduce_mean(array: np.ndarray, factor: int) -> np.ndarray:
    """Block mean over `factor` × `factor` pixels, ignoring NaN (a block of only NaN stays NaN).

    Args:
        array: (y, x) values in any unit; trailing rows/columns short of a block are dropped.
        factor: block side in pixels (1 returns `array` unchanged).
    """
    if factor == 1:
        return array
    height, width = (array.shape[0] // factor) * factor, (array.shape[1] // factor) * factor
    blocks = array[:height, :width].reshape(height // factor, factor, width // factor, factor)
    valid = np.isfinite(blocks)
    count = valid.sum(axis=(1, 3))
    total = np.where(valid, blocks, 0.0).sum(axis=(1, 3))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def block_factor(shape: Sequence[int], max_side_px: int) -> int:
    """Block side (pixels) that brings a (y, x) raster's longer side to at most `max_side_px`."""
    return max(1, math.ceil(max(shape) / max_side_px))


def preview_step(shape: Sequence[int], max_side_px: int) -> int:
    """Stride (pixels) that brings a (y, x) raster's longer side to at most `max_side_px` (a decimated read)."""
    return block_factor(shape, max_side_px)


def block_mean_strips(source, factor: int, strip_px: int = STRIP_PX) -> np.ndarray:
    """`reduce_mean` of a sliceable (y, x) source, read in strips of a multiple of `factor` rows.

    Args:
        source: anything sliceable as `source[rows, :]` returning (rows, x) values (Zarr array, view).
        factor: block side in pixels.
        strip_px: rows per read (rounded down to a multiple of `factor`, at least `factor`).
    """
    height = (source.shape[0] // factor) * factor
    step = max(factor, (strip_px // factor) * factor)
    parts = [reduce_mean(np.asarray(source[top:min(top + step, height), :], dtype=np.float32), factor)
             for top in range(0, height, step)]
    return np.concatenate(parts, axis=0)


def _stretched(channel: np.ndarray) -> np.ndarray:
    finite = channel[np.isfinite(channel)]
    if finite.size == 0:
        return np.zeros(channel.shape, dtype=np.uint8)
    low, high = np.percentile(finite, [2, 98])
    scaled = (channel - low) / max(high - low, 1e-6)
    return np.nan_to_num(np.clip(scaled, 0, 1) * 255, nan=0).astype(np.uint8)


def preview_png(reflectance, bands: list[str], kind: str = "rgb", max_side_px: int = 512,
                max_bytes: int = PREVIEW_MAX_BYTES) -> bytes:
    """PNG bytes (under `max_bytes`) of an RGB or false-colour (NIR, red, green) composite.

    Args:
        reflectance: (band, y, x) numpy, dask or xarray array of reflectance (0–1); read with a
            stride so a full-farm cube is never loaded.
        bands: band roles along the first axis.
        kind: "rgb" or "false_colour".
        max_side_px: longest side of the image in pixels (reduced until the PNG fits `max_bytes`).

    Each channel is stretched between its 2nd and 98th percentile; no-data pixels are black.
    """
    from PIL import Image

    missing = [b for b in COMPOSITES[kind] if b not in bands]
    if missing:
        raise InputDataError("reflectance", f"the {kind} preview needs band(s) {missing}, the flight has {bands}",
                             "use the other composite for this sensor")
    height, width = reflectance.shape[-2:]
    side = max_side_px
    for _ in range(8):
        step = max(1, math.ceil(max(height, width) / side))
        channels = [np.asarray(reflectance[bands.index(b), ::step, ::step], dtype=np.float32) for b in COMPOSITES[kind]]
        image = Image.fromarray(np.dstack([_stretched(c) for c in channels]))
        buffer = io.BytesIO()
        image.save(buffer, format="PNG", optimize=True)
        if buffer.tell() <= max_bytes:
            return buffer.getvalue()
        side = int(side * 0.75)
    raise RuntimeError(f"preview still above {max_bytes} bytes at {side} px")  # unreachable for 8-bit RGB
