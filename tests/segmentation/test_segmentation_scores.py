"""IoU and F1 from a confusion matrix, checked against counts done by hand."""
from __future__ import annotations

import numpy as np
import pytest

from models.segmentation.evaluation import confusion_matrix, segmentation_scores


def test_scores_by_hand():
    truth = np.array([[0, 0, 1, 1], [1, 2, 2, 255]], np.uint8)
    predicted = np.array([[0, 1, 1, 1], [2, 2, 0, 0]], np.uint8)
    confusion = confusion_matrix(predicted, truth)
    assert confusion.sum() == 7
    scores = segmentation_scores(confusion)
    # crop: TP 2, FP 1 (soil->crop), FN 1 (crop->weed) -> IoU 2/4, F1 4/6
    assert scores["crop"]["iou"] == pytest.approx(0.5)
    assert scores["crop"]["f1"] == pytest.approx(0.6667, abs=1e-4)
    # vegetation: truth plants 5, predicted plants 5, both 4 -> IoU 4/6
    assert scores["vegetation"]["iou"] == pytest.approx(0.6667, abs=1e-4)
    assert scores["weed"]["iou"] == pytest.approx(1 / 3, abs=1e-4)
    # soil: TP 1, FP 1 (weed->soil), FN 1 (soil->crop) -> 1/3; shadow absent from both: not averaged
    assert scores["soil"]["iou"] == pytest.approx(1 / 3, abs=1e-4)
    assert scores["mean"]["iou"] == pytest.approx(np.mean([1 / 3, 0.5, 1 / 3]), abs=1e-4)


def test_shape_mismatch_is_refused():
    with pytest.raises(ValueError, match="shape"):
        confusion_matrix(np.zeros((2, 2), np.uint8), np.zeros((2, 3), np.uint8))
