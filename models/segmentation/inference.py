"""Tiled inference over a whole orthomosaic: overlapping tiles, blended class probabilities.

Tiles of `tile` px overlap by `overlap` px; each tile's softmax is weighted by a separable ramp
that falls to ~0 at the tile's edges over the overlap width (seamless, no border artefacts), and
the class is the argmax of the weighted sum. The mosaic is processed one strip of tiles at a time
(memory: a few strips, not the whole probability cube), tiles are batched and run by ONNX Runtime
or torch (`runtime`) on all the machine's cores. Pixels with a NaN band are
NO_DATA (255). `predict_classes` is the plain argmax; the evaluated production recipe (test-time
flips, margin threshold, weed factor chosen by cross-validation) is `decision.segment`
(docs/segmentation.md).
"""
from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import NamedTuple

import numpy as np

from models.segmentation.card import ModelCard, load_card
from models.segmentation.classes import NO_DATA
from models.segmentation.features import CENTRED, feature_stack, image_thresholds, normalise
from models.segmentation.runtime import runner_for
from pipelines.core.errors import InputDataError
from pipelines.core.progress import LOG_EVERY_S, track

MULTIPLE_PX = 32
"""The U-Net halves the resolution up to 5 times: tile sides must be multiples of 32."""


def check_bands(card: ModelCard, band_names: Sequence[str], source: str | Path = "reflectance") -> None:
    """Raise InputDataError (naming `source`) unless `band_names` are the card's bands, in order."""
    if [b.lower() for b in band_names] != [b.lower() for b in card.band_names]:
        raise InputDataError(source, f"the model was trained for bands {card.band_names}, the image has "
                             f"{list(band_names)}", "select/reorder the image's bands to match, or train a model "
                             "for these bands (train_from_flights / saqi segment evaluate)")


def _ramp(length: int, overlap: int) -> np.ndarray:
    edge = np.minimum(np.arange(length) + 0.5, length - np.arange(length) - 0.5)
    return np.clip(edge / max(overlap, 1), 1e-3, 1.0).astype(np.float32)


def _starts(length: int, tile: int, step: int) -> list[int]:
    if length <= tile:
        return [0]
    starts = list(range(0, length - tile, step))
    return starts + [length - tile]


class Strip(NamedTuple):
    """One strip of `blended_strips`: rows top..done of the mosaic."""

    top: int
    done: int
    probability: np.ndarray
    """(class, done - top, x) float32, the ramp-weighted sum of the tiles' softmax (not renormalised)."""
    valid: np.ndarray
    """(done - top, x) bool: every band finite."""
    centred: np.ndarray | None
    """(done - top, x) float32: the card's first `<index>-otsu` channel before normalisation (the
    index less the whole image's Otsu threshold; a guarded decision rule reads it), None without one."""


def blended_strips(card: ModelCard, reflectance: np.ndarray, band_names: Sequence[str], tile: int = 512,
                   overlap: int = 64, batch: int = 4, runtime: str = "auto", runner=None,
                   thresholds: dict[str, float] | None = None):
    """Yield a `Strip` at a time, top to bottom: the ramp-weighted sum of the overlapping tiles'
    softmax (not renormalised: compare classes within a pixel only), where every band is finite,
    and the card's centred vegetation index.
    `reflectance` may be lazy (a Zarr array): one strip of rows is read at a time (the next one
    ahead, by a helper thread). A card with `<index>-otsu` channels centres them on the whole
    image's Otsu thresholds: `thresholds` when given, else `features.image_thresholds` of
    `reflectance` (one more read of a lazy mosaic)."""
    check_bands(card, band_names)
    if tile % MULTIPLE_PX or overlap >= tile // 2:
        raise ValueError(f"tile ({tile}) must be a multiple of {MULTIPLE_PX} and overlap ({overlap}) below tile/2")
    runner = runner or runner_for(card, runtime)
    if thresholds is None:
        thresholds = image_thresholds(reflectance, band_names, card.indices)
    n_classes = len(card.classes)
    _, height, width = reflectance.shape
    th = min(tile, -(-height // MULTIPLE_PX) * MULTIPLE_PX)
    tw = min(tile, -(-width // MULTIPLE_PX) * MULTIPLE_PX)
    weight = _ramp(th, overlap)[:, None] * _ramp(tw, overlap)[None, :]
    row_starts, col_starts = _starts(height, th, th - overlap), _starts(width, tw, tw - overlap)
    carry_top, carry = 0, None
    centred_at = next((len(band_names) + i for i, name in enumerate(card.indices) if name.endswith(CENTRED)), None)

    def prepared(top: int) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """The strip's reflectance window, its padded, normalised network input and centred index."""
        window = np.asarray(reflectance[:, top:min(top + th, height)])
        stack = feature_stack(window, band_names, card.indices, thresholds)
        # a copy: a view would keep the whole feature stack of the strip alive (+0.55 GB at 100 ha)
        centred = stack[centred_at].copy() if centred_at is not None else None
        features = normalise(stack, card.channel_mean, card.channel_std)
        features = np.pad(features, ((0, 0), (0, th - features.shape[1]), (0, max(0, tw - width))), mode="reflect")
        return window, features, centred

    # the next strip is read and prepared by a helper thread while the network runs on this one
    # (Zarr decoding and NumPy release the GIL); memory: one more strip
    with ThreadPoolExecutor(max_workers=1) as reader:
        pending = reader.submit(prepared, row_starts[0])
        for index, top in enumerate(track(row_starts, f"U-Net inference ({len(col_starts)} tiles per strip)",
                                          unit="strips", every_s=LOG_EVERY_S)):
            bottom = min(top + th, height)
            strip = np.zeros((n_classes, th, width), np.float32)
            if carry is not None:
                rows = carry.shape[1] - (top - carry_top)
                if rows > 0:
                    strip[:, :rows] = carry[:, top - carry_top:]
            window, features, centred = pending.result()
            if index + 1 < len(row_starts):
                pending = reader.submit(prepared, row_starts[index + 1])
            for first in range(0, len(col_starts), batch):
                lefts = col_starts[first:first + batch]
                prob = runner(np.stack([features[:, :, c:c + tw] for c in lefts]))
                for c, p in zip(lefts, prob):
                    span = min(tw, width - c)
                    strip[:, :, c:c + span] += p[:, :, :span] * weight[:, :span]
            done = row_starts[index + 1] if index + 1 < len(row_starts) else bottom
            yield Strip(top, done, strip[:, : done - top], np.isfinite(window[:, : done - top]).all(axis=0),
                        None if centred is None else centred[: done - top])
            carry, carry_top = strip, top


def _card(card_or_checkpoint: ModelCard | str | Path) -> ModelCard:
    return card_or_checkpoint if isinstance(card_or_checkpoint, ModelCard) else load_card(card_or_checkpoint)


def predict_classes(card_or_checkpoint: ModelCard | str | Path, reflectance: np.ndarray, band_names: Sequence[str],
                    tile: int = 512, overlap: int = 64, batch: int = 4, runtime: str = "auto",
                    runner=None, out=None) -> np.ndarray:
    """Class map (y, x) uint8: 0 soil, 1 crop, 2 weed, 3 shadow, 255 no data (any band NaN).

    reflectance: (band, y, x) float32 in the card's band order; raises InputDataError when the
    bands differ from the ones the model was trained for. runtime: "auto" (the int8 ONNX graph when
    the card has one, else float32 ONNX, else torch), "onnx-int8", "onnx" or "torch"; `runner` reuses
    one from `runtime.runner_for`.
    `reflectance` may be a lazy (band, y, x) array (a Zarr array) and `out` a writable (y, x) uint8
    target (e.g. `windows.staged_raster`) filled strip by strip; it is returned (a new NumPy array
    when not given).
    """
    card = _card(card_or_checkpoint)
    out = np.full(reflectance.shape[1:], NO_DATA, np.uint8) if out is None else out
    for strip in blended_strips(card, reflectance, band_names, tile, overlap, batch, runtime, runner):
        labels = strip.probability.argmax(0).astype(np.uint8)
        labels[~strip.valid] = NO_DATA
        out[strip.top:strip.done] = labels
    return out


class FlipAveraged:
    """Wrap a batch runner: mean probabilities over the identity, x-flip, y-flip and both flips."""

    def __init__(self, runner):
        self.runner = runner

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        """Class probabilities (batch, class, y, x) averaged over the four flips of `batch`."""
        total = None
        for axes in ((), (-1,), (-2,), (-2, -1)):
            flipped = np.ascontiguousarray(np.flip(batch, axes)) if axes else batch
            p = self.runner(flipped)
            p = np.flip(p, axes) if axes else p
            total = p if total is None else total + p
        return total / 4.0
