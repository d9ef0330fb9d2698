"""Evaluate the segmentation on labelled image tiles (e.g. WeedMap, Sa et al. 2018, Remote Sensing
10:1423): 8-bit images + colour label masks, IoU/F1 per tile and overall, beside an Otsu baseline.

`train_on="pseudo"` trains on pseudo-labels of the tiles themselves (no hand label is used, so
the scores measure the whole self-supervised method); `train_on="labels"` trains on the hand
labels with two folds (even / odd tiles), each tile scored by the model that did not see it.
"""
from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from models.segmentation.classes import CROP, NAMES, NO_DATA, SOIL, WEED
from models.segmentation.evaluation import confusion_matrix, segmentation_scores
from models.segmentation.features import vegetation_index_name
from models.segmentation.inference import predict_calibrated_classes, predict_classes
from models.segmentation.pseudo_labels import scene_pseudo_labels, vegetation_of
from models.segmentation.training import (
    LabelledImage,
    TrainingSettings,
    train_segmentation_model,
)
from models.segmentation.vegetation import otsu_threshold
from pipelines.core.errors import InputDataError
from pipelines.imagery.indices.kernel import compute_indices

DEFAULT_COLOURS = {"background": (0, 0, 0), "crop": (0, 255, 0), "weed": (255, 0, 0)}
CODES = {"background": SOIL, "crop": CROP, "weed": WEED}


@dataclass(frozen=True)
class LabelledTile:
    """One labelled training tile: `image` (channel, y, x) float32 scaled 0-1 from 8-bit values,
    `truth` (y, x) uint8 class codes (NO_DATA where the label colour is unknown)."""

    name: str
    image: np.ndarray
    truth: np.ndarray


def label_colours(labels_dir: Path) -> dict[str, tuple[int, int, int]]:
    """Colour of each class from `class_dict.csv` (name,r,g,b) beside the labels, else WeedMap's."""
    for path in (labels_dir / "class_dict.csv", labels_dir.parent / "class_dict.csv"):
        if path.is_file():
            with open(path, newline="", encoding="utf-8") as f:
                return {row["name"]: (int(row["r"]), int(row["g"]), int(row["b"])) for row in csv.DictReader(f)}
    return DEFAULT_COLOURS


def _classes_of(path: Path, colours: dict[str, tuple[int, int, int]]) -> np.ndarray:
    rgb = np.asarray(Image.open(path).convert("RGB"))
    truth = np.full(rgb.shape[:2], NO_DATA, np.uint8)
    for name, colour in colours.items():
        if name not in CODES:
            raise InputDataError(path, f"unknown label class {name!r}",
                                 f"use the classes {sorted(CODES)} in class_dict.csv")
        truth[(rgb == colour).all(axis=-1)] = CODES[name]
    return truth


def read_labelled_tiles(images_dir: Path, labels_dir: Path, channels: int) -> list[LabelledTile]:
    """Pair `<prefix>_<key>.png` images with labels by key; image (channel, y, x) float32 in 0-1."""
    images_dir, labels_dir = Path(images_dir), Path(labels_dir)
    labels = {p.stem.split("_")[-1]: p for p in sorted(labels_dir.glob("*.png"))}
    colours = label_colours(labels_dir)
    tiles = []
    for path in sorted(images_dir.glob("*.png")):
        key = path.stem.split("_")[-1]
        if key not in labels:
            raise InputDataError(path, f"no label file with key {key!r} in {labels_dir}", "add it or remove the image")
        image = np.asarray(Image.open(path))
        image = image[..., None] if image.ndim == 2 else image
        if image.shape[-1] < channels:
            raise InputDataError(path, f"has {image.shape[-1]} channels, --channels names {channels}",
                                 "name one band role per image channel")
        truth = _classes_of(labels[key], colours)
        if truth.shape != image.shape[:2]:
            raise InputDataError(labels[key], f"label size {truth.shape[::-1]} differs from its image "
                                 f"{image.shape[1::-1]} ({path.name})", "give the label mask of this very image")
        tiles.append(LabelledTile(key, (image[..., :channels].transpose(2, 0, 1) / 255.0).astype(np.float32), truth))
    if not tiles:
        raise InputDataError(images_dir, "no .png image found", "point --images at the folder of image tiles")
    return tiles


def otsu_vegetation(image: np.ndarray, band_names: Sequence[str]) -> np.ndarray:
    """The baseline: vegetation index above its Otsu threshold, no cleaning."""
    index = compute_indices(image, band_names, [vegetation_index_name(band_names)]).values[0]
    return index > otsu_threshold(index)


def _scores(confusion: np.ndarray) -> dict:
    scores = segmentation_scores(confusion)
    scores["background"] = scores.pop("soil")
    scores.pop("shadow")
    return scores


DECISIONS = ("calibrated", "argmax")


def tile_classes(card, image: np.ndarray, band_names: Sequence[str], decision: str = "calibrated") -> np.ndarray:
    """Predicted classes of one tile. "calibrated" (the default recipe): test-time flips and the
    vegetation threshold set so that the tile's vegetation share equals that of its own cleaned
    Otsu mask (the pseudo-labels' vegetation; no hand label is used). "argmax": the plain network."""
    if decision == "argmax":
        return predict_classes(card, image, band_names, tile=512, overlap=64)
    if decision != "calibrated":
        raise ValueError(f"decision must be one of {DECISIONS}, got {decision!r}")
    index, vegetation, _ = vegetation_of(image, band_names)
    fraction = float(vegetation[np.isfinite(index)].mean())
    return predict_calibrated_classes(card, image, band_names, fraction, flips=True, tile=512, overlap=64)


def evaluate_tiles(tiles: Sequence[LabelledTile], band_names: Sequence[str], out_dir: Path, train_on: str = "pseudo",
                   settings: TrainingSettings | None = None, decision: str = "calibrated") -> dict:
    """Train (pseudo-labels or 2-fold hand labels), predict every tile (`tile_classes` with
    `decision`), score against its labels, beside the Otsu baseline."""
    if train_on not in ("pseudo", "labels"):
        raise ValueError(f"train_on must be 'pseudo' or 'labels', got {train_on!r}")
    if decision not in DECISIONS:
        raise ValueError(f"decision must be one of {DECISIONS}, got {decision!r}")
    if train_on == "pseudo":
        images = []
        for t in tiles:
            try:
                images.append(LabelledImage(t.name, t.image, scene_pseudo_labels(t.image, band_names)))
            except ValueError as exc:
                raise InputDataError(t.name, f"no pseudo-labels: {exc}", "drop this tile or train on labels") from exc
        folds = [(list(range(len(tiles))), images)]
    else:
        folds = [([k for k in range(len(tiles)) if k % 2 == f],
                  [LabelledImage(t.name, t.image, t.truth) for k, t in enumerate(tiles) if k % 2 != f]) for f in (0, 1)]
    n = len(NAMES)
    per_tile, total, baseline_total = {}, np.zeros((n, n), np.int64), np.zeros((n, n), np.int64)
    cards = []
    for fold, (scored, images) in enumerate(folds):
        card = train_segmentation_model(images, band_names, Path(out_dir) / f"fold{fold}", settings)
        cards.append(str(card.checkpoint.parent))
        for k in scored:
            t = tiles[k]
            predicted = tile_classes(card, t.image, band_names, decision)
            predicted = np.where(predicted == 3, SOIL, predicted).astype(np.uint8)
            confusion = confusion_matrix(predicted, t.truth)
            baseline = confusion_matrix(np.where(otsu_vegetation(t.image, band_names), CROP, SOIL).astype(np.uint8),
                                        t.truth)
            total += confusion
            baseline_total += baseline
            per_tile[t.name] = {**_scores(confusion), "otsu_vegetation_iou": _scores(baseline)["vegetation"]["iou"]}
    return {"train_on": train_on, "decision": decision, "band_names": list(band_names), "models": cards,
            "tiles": dict(sorted(per_tile.items(), key=lambda kv: int(kv[0]) if kv[0].isdigit() else kv[0])),
            "overall": {**_scores(total), "otsu_vegetation_iou": _scores(baseline_total)["vegetation"]["iou"]},
            "beats_otsu_on_every_tile": all(s["vegetation"]["iou"] > s["otsu_vegetation_iou"]
                                            for s in per_tile.values())}
