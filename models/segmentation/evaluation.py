"""Segmentation scores from a confusion matrix: IoU (Jaccard) and F1 (Dice) per class.

IoU = TP / (TP + FP + FN), F1 = 2 TP / (2 TP + FP + FN) (Everingham et al. 2010, IJCV 88:303-338,
Pascal VOC). "vegetation" scores crop and weed taken together against everything else; "mean" is
the mean over the classes present in the truth or the prediction. Pixels coded NO_DATA (255) in
the truth or the prediction are not scored.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from models.segmentation.classes import CROP, NAMES, NO_DATA, WEED


def confusion_matrix(predicted: np.ndarray, truth: np.ndarray, n_classes: int = len(NAMES)) -> np.ndarray:
    """(truth, predicted) pixel counts, int64 (n_classes, n_classes), no-data pixels left out."""
    if predicted.shape != truth.shape:
        raise ValueError(f"prediction {predicted.shape} and truth {truth.shape} differ in shape")
    valid = (predicted != NO_DATA) & (truth != NO_DATA)
    pairs = truth[valid].astype(np.int64) * n_classes + predicted[valid].astype(np.int64)
    return np.bincount(pairs, minlength=n_classes * n_classes).reshape(n_classes, n_classes)


def _scores(tp: float, fp: float, fn: float) -> dict[str, float]:
    union = tp + fp + fn
    return {"iou": tp / union if union else float("nan"), "f1": 2 * tp / (union + tp) if union else float("nan")}


def segmentation_scores(confusion: np.ndarray, names: Sequence[str] = NAMES) -> dict[str, dict[str, float]]:
    """IoU and F1 per class name, for vegetation (crop + weed) and their mean over present classes."""
    confusion = np.asarray(confusion, dtype=np.float64)
    out = {}
    for k, name in enumerate(names):
        tp = confusion[k, k]
        out[name] = _scores(tp, confusion[:, k].sum() - tp, confusion[k, :].sum() - tp)
    plant = [CROP, WEED]
    tp = confusion[np.ix_(plant, plant)].sum()
    out["vegetation"] = _scores(tp, confusion[:, plant].sum() - tp, confusion[plant, :].sum() - tp)
    present = [n for k, n in enumerate(names) if confusion[k, :].sum() + confusion[:, k].sum() > 0]
    out["mean"] = {key: float(np.mean([out[n][key] for n in present])) for key in ("iou", "f1")}
    return {name: {key: round(float(v), 4) for key, v in s.items()} for name, s in out.items()}
