"""Network input channels: the flight's bands plus vegetation indices, normalised per channel.

Indices come from the project's catalogue (`pipelines.imagery.indices.kernel`); NDVI (Rouse et al. 1974)
is the default, ExG (Woebbecke et al. 1995) for RGB-only flights. An index named `<index>-otsu`
(e.g. `ndvi-otsu`) is that index minus the Otsu threshold (Otsu 1979, IEEE SMC 9:62-66) of the
whole image's index (`image_thresholds`): the image's own vegetation split, which adapts to a
flight's radiometry as a per-image threshold does. Normalisation is z-scoring with the training
data's per-channel mean and standard deviation (stored in the model card); NaN (no data) becomes
0 after it, i.e. the channel mean.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

from models.segmentation.vegetation import otsu_threshold
from pipelines.imagery.indices.kernel import compute_indices


def vegetation_index_name(band_names: Sequence[str]) -> str:
    """NDVI when the bands have nir and red, else ExG (green, red, blue)."""
    present = {b.lower() for b in band_names}
    if {"nir", "red"} <= present:
        return "ndvi"
    if {"green", "red", "blue"} <= present:
        return "exg"
    raise ValueError(f"bands {list(band_names)} allow neither NDVI (nir, red) nor ExG (green, red, blue)")


CENTRED = "-otsu"
SAMPLE_PX = 4_000_000
"""Pixels of the strided sample an image's Otsu thresholds are taken from (a 480 x 360 tile: all)."""


def _base(name: str) -> str:
    return name.removesuffix(CENTRED)


def index_bases(indices: Sequence[str]) -> list[str]:
    """The catalogue indices the channels need, in order (`["ndvi"]` for `[ndvi, ndvi-otsu]`)."""
    return list(dict.fromkeys(_base(n) for n in indices))


def centred_bases(indices: Sequence[str]) -> list[str]:
    """The indices that `<index>-otsu` channels centre, in order (`["ndvi"]` for `[ndvi, ndvi-otsu]`)."""
    return list(dict.fromkeys(_base(n) for n in indices if n.endswith(CENTRED)))


def feature_stack(reflectance: np.ndarray, band_names: Sequence[str], indices: Sequence[str],
                  thresholds: Mapping[str, float] | None = None) -> np.ndarray:
    """(band + index, y, x) float32: the bands followed by the requested indices; an `<index>-otsu`
    channel is the index minus `thresholds[index]` (the whole image's, from `image_thresholds`)."""
    result = compute_indices(reflectance, band_names, index_bases(indices))
    if result.skipped:
        raise ValueError(f"indices cannot be computed from bands {list(band_names)}: {result.skipped}")
    channels = [reflectance.astype(np.float32, copy=False)]
    for name in indices:
        if name.endswith(CENTRED):
            if thresholds is None or _base(name) not in thresholds:
                raise ValueError(f"channel {name!r} needs the image's Otsu threshold of {_base(name)} "
                                 "(features.image_thresholds)")
            channels.append((result[_base(name)] - np.float32(thresholds[_base(name)]))[None])
        else:
            channels.append(result[name][None])
    return np.concatenate(channels, axis=0)


def strided_sample(image, step: int) -> np.ndarray:
    """`image[:, ::step, ::step]` as float32, read in unit-step strips of the array's own chunk
    rows when it is lazy (a Zarr mosaic: each chunk decoded once, by the fast window path of
    `windows.ChunkWindows`, never the whole mosaic in memory)."""
    if step == 1 or isinstance(image, np.ndarray):
        return np.asarray(image[:, ::step, ::step], dtype=np.float32)
    height = image.shape[1]
    strip = max(step, (getattr(image, "chunks", None) or (1, 512))[1])
    parts = [np.asarray(image[:, top:min(top + strip, height), :])[:, (-top) % step::step, ::step]
             for top in range(0, height, strip)]
    return np.concatenate(parts, axis=1).astype(np.float32, copy=False)


def image_thresholds(reflectance, band_names: Sequence[str], indices: Sequence[str], sample_px: int = SAMPLE_PX,
                     stored=None) -> dict[str, float]:
    """Otsu threshold of each index that an `<index>-otsu` channel centres, over the whole image:
    every pixel of an image up to `sample_px`, else a regular strided sample of about `sample_px`
    (one read of a lazy flight mosaic). NaN when the image has too few valid pixels or a constant
    index (the channel is then 0 after `normalise`, its training mean: no information).

    `stored`: the flight's stored layers of those indices, a lazy (index, y, x) stack in the order
    of `centred_bases(indices)` (`products.layers`), sampled instead of recomputing the indices from
    every band: the same kernel wrote them, so the values and the thresholds are the same, for one
    layer read instead of all the bands."""
    bases = centred_bases(indices)
    if not bases:
        return {}
    _, height, width = reflectance.shape
    step = max(1, math.ceil(math.sqrt(height * width / sample_px)))
    if stored is not None:
        samples = strided_sample(stored, step)
    else:
        result = compute_indices(strided_sample(reflectance, step), band_names, bases)
        if result.skipped:
            raise ValueError(f"indices cannot be computed from bands {list(band_names)}: {result.skipped}")
        samples = [result[name] for name in bases]
    thresholds = {}
    for name, sample in zip(bases, samples):
        try:
            thresholds[name] = otsu_threshold(sample)
        except ValueError:
            thresholds[name] = float("nan")
    return thresholds


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
