"""Evaluate the segmentation on labelled image tiles (e.g. WeedMap, Sa et al. 2018, Remote Sensing
10:1423): 8-bit images + colour label masks, IoU/F1 per tile and overall, beside an Otsu baseline.

Honest protocol (docs/segmentation.md): the model is trained on *development* tiles only — their
hand labels (`train_on="labels"`) or their own pseudo-labels (`train_on="pseudo"`, no hand label
used) — and the *test* tiles are predicted by the frozen recipe (`decision.segment`, the function
the `crop_segmentation` asset runs) and scored once. Nothing measured on the test tiles feeds back
into any choice; the recipe was chosen by `cross_validation` on the development tiles.
"""
from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from models.segmentation.classes import CROP, NAMES, NO_DATA, SHADOW, SOIL, WEED
from models.segmentation.evaluation import confusion_matrix, segmentation_scores
from models.segmentation.features import vegetation_index_name
from models.segmentation.labels.pseudo import scene_pseudo_labels
from models.segmentation.training import LabelledImage
from models.segmentation.vegetation import otsu_threshold
from pipelines.core.errors import InputDataError
from pipelines.imagery.indices.kernel import compute_indices

DEFAULT_COLOURS = {"background": (0, 0, 0), "crop": (0, 255, 0), "weed": (255, 0, 0)}
CODES = {"background": SOIL, "crop": CROP, "weed": WEED}
DEVELOPMENT_SPLITS = ("train", "valid")


@dataclass(frozen=True)
class LabelledTile:
    """One labelled tile: `image` (channel, y, x) float32 scaled 0-1 from 8-bit values (NaN = no
    data), `truth` (y, x) uint8 class codes (NO_DATA where the label colour is unknown)."""

    name: str
    image: np.ndarray
    truth: np.ndarray


def label_colours(labels_dir: Path) -> dict[str, tuple[int, int, int]]:
    """Colour of each class from `class_dict.csv` (name,r,g,b) beside the labels, else WeedMap's."""
    for path in (labels_dir / "class_dict.csv", labels_dir.parent / "class_dict.csv",
                 labels_dir.parent.parent / "class_dict.csv"):
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


def read_labelled_tiles(images_dir: Path, labels_dir: Path, channels: int, prefix: str = "") -> list[LabelledTile]:
    """Pair `<prefix>_<key>.png` images with labels by key; image (channel, y, x) float32 in 0-1.

    Pixels that are 0 in every channel (the black border outside an orthomosaic) are no data
    (NaN): they are neither predicted nor scored. Tile names are `prefix + key`.
    """
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
        pixels = (image[..., :channels].transpose(2, 0, 1) / 255.0).astype(np.float32)
        pixels[:, (image[..., :channels] == 0).all(axis=-1)] = np.nan
        tiles.append(LabelledTile(prefix + key, pixels, truth))
    if not tiles:
        raise InputDataError(images_dir, "no .png image found", "point --images at the folder of image tiles")
    return tiles


def read_development_tiles(root: Path, channels: int, splits: Sequence[str] = DEVELOPMENT_SPLITS) -> list[LabelledTile]:
    """The development tiles under `root/<split>/{images,labels}`, named `<split>/<key>` (file
    names repeat across splits)."""
    root = Path(root)
    found = [s for s in splits if (root / s / "images").is_dir()]
    if not found:
        raise InputDataError(root, f"no development split folder ({', '.join(splits)}/images)",
                             "point --dev-root at the folder holding train/ and valid/")
    return [t for s in found for t in read_labelled_tiles(root / s / "images", root / s / "labels", channels, f"{s}/")]


def otsu_vegetation(image: np.ndarray, band_names: Sequence[str]) -> np.ndarray:
    """The baseline: vegetation index above its Otsu threshold, no cleaning."""
    index = compute_indices(image, band_names, [vegetation_index_name(band_names)]).values[0]
    return np.nan_to_num(index, nan=-np.inf) > otsu_threshold(index)


def otsu_confusion(tile: LabelledTile, band_names: Sequence[str]) -> np.ndarray:
    """Confusion matrix of the Otsu baseline (vegetation scored as crop) against the tile's labels."""
    predicted = np.where(otsu_vegetation(tile.image, band_names), CROP, SOIL).astype(np.uint8)
    predicted[~np.isfinite(tile.image).all(axis=0)] = NO_DATA
    return confusion_matrix(predicted, tile.truth)


def tile_scores(confusion: np.ndarray) -> dict:
    """IoU / F1 of background (soil + shadow), crop, weed, vegetation and mean, from a 4-class confusion."""
    folded = np.array(confusion, dtype=np.int64)
    folded[:, SOIL] += folded[:, SHADOW]
    folded[SOIL, :] += folded[SHADOW, :]
    folded[:, SHADOW] = 0
    folded[SHADOW, :] = 0
    scores = segmentation_scores(folded)
    scores["background"] = scores.pop("soil")
    scores.pop("shadow")
    return scores


def score_tiles(predict, tiles: Sequence[LabelledTile], band_names: Sequence[str]) -> dict:
    """Per-tile and pooled scores of `predict(image) -> classes` beside the Otsu baseline."""
    n = len(NAMES)
    per_tile, total, baseline_total = {}, np.zeros((n, n), np.int64), np.zeros((n, n), np.int64)
    for t in tiles:
        confusion = confusion_matrix(predict(t.image), t.truth)
        baseline = otsu_confusion(t, band_names)
        total += confusion
        baseline_total += baseline
        per_tile[t.name] = {**tile_scores(confusion), "otsu_vegetation_iou": tile_scores(baseline)["vegetation"]["iou"]}
    return {"tiles": dict(sorted(per_tile.items(), key=lambda kv: int(kv[0]) if kv[0].isdigit() else kv[0])),
            "overall": {**tile_scores(total), "otsu_vegetation_iou": tile_scores(baseline_total)["vegetation"]["iou"]},
            "beats_otsu_on_every_tile": all(s["vegetation"]["iou"] > s["otsu_vegetation_iou"]
                                            for s in per_tile.values())}


def training_images(tiles: Sequence[LabelledTile], band_names: Sequence[str], source: str) -> list[LabelledImage]:
    """Hand labels, or each tile's own pseudo-labels (tiles without a row pattern are left out)."""
    if source == "labels":
        return [LabelledImage(t.name, t.image, t.truth) for t in tiles]
    images = []
    for t in tiles:
        try:
            labels = scene_pseudo_labels(t.image, band_names)
        except ValueError:
            continue
        if np.isin(labels, (CROP, WEED)).any():
            images.append(LabelledImage(t.name, t.image, labels))
    return images
