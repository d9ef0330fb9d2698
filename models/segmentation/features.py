"""Network input channels: the flight's bands plus vegetation indices, normalised per channel.

Indices come from the project's catalogue (`pipelines.imagery.indices.kernel`); NDVI (Rouse et al. 1974)
is the default, ExG (Woebbecke et al. 1995) for RGB-only flights. Normalisation is z-scoring with
the training data's per-channel mean and standard deviation (stored in the model card); NaN
(no data) becomes 0 after it, i.e. the channel mean.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from pipelines.imagery.indices.kernel import compute_indices


def vegetation_index_name(band_names: Sequence[str]) -> str:
    """NDVI when the bands have nir and red, else ExG (green, red, blue)."""
    present = {b.lower() for b in band_names}
    if {"nir", "red"} <= present:
        return "ndvi"
    if {"green", "red", "blue"} <= present:
        return "exg"
    raise ValueError(f"bands {list(band_names)} allow neither NDVI (nir, red) nor ExG (green, red, blue)")


def feature_stack(reflectance: np.ndarray, band_names: Sequence[str], indices: Sequence[str]) -> np.ndarray:
    """(band + index, y, x) float32: the bands followed by the requested indices."""
    result = compute_indices(reflectance, band_names, list(indices))
    if result.skipped:
        raise ValueError(f"indices cannot be computed from bands {list(band_names)}: {result.skipped}")
    return np.concatenate([reflectance.astype(np.float32, copy=False), result.values], axis=0)


def channel_statistics(stacks: Sequence[np.ndarray]) -> tuple[list[float], list[float]]:
    """Per-channel mean and standard deviation over the finite pixels of several stacks."""
    channels = stacks[0].shape[0]
    mean, std = [], []
    for c in range(channels):
        values = np.concatenate([s[c][np.isfinite(s[c])][::7] for s in stacks])
        mean.append(float(values.mean()))
        std.append(float(max(values.std(), 1e-6)))
    return mean, std


def normalise(stack: np.ndarray, mean: Sequence[float], std: Sequence[float]) -> np.ndarray:
    """Z-score each channel into a new float32 array; NaN and ±inf become 0."""
    m = np.asarray(mean, np.float32)[:, None, None]
    s = np.asarray(std, np.float32)[:, None, None]
    out = ((stack - m) / s).astype(np.float32, copy=False)
    out[~np.isfinite(out)] = 0.0
    return out
