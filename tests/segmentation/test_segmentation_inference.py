"""Tiled inference equals whole-image inference, keeps no data, refuses other bands; card integrity."""
from __future__ import annotations

import json

import numpy as np
import pytest
from segmentation_scenes import BANDS

from models.segmentation.card import load_card
from models.segmentation.classes import NO_DATA
from models.segmentation.inference import predict_classes
from pipelines.errors import InputDataError


def test_tiles_blend_like_one_pass(tiny_card, scene):
    reflectance, _ = scene
    whole = predict_classes(tiny_card, reflectance, BANDS, tile=320, overlap=0)
    tiled = predict_classes(tiny_card, reflectance, BANDS, tile=128, overlap=32, batch=3)
    assert tiled.shape == reflectance.shape[1:] and tiled.dtype == np.uint8
    assert set(np.unique(tiled)) <= {0, 1, 2, 3}
    assert (tiled == whole).mean() > 0.97


def test_nodata_and_odd_sizes(tiny_card, scene):
    reflectance, _ = scene
    part = reflectance[:, :70, :90].copy()
    part[:, 5, 7] = np.nan
    classes = predict_classes(tiny_card, part, BANDS, tile=64, overlap=16)
    assert classes.shape == (70, 90)
    assert classes[5, 7] == NO_DATA and (classes != NO_DATA).sum() == 70 * 90 - 1


def test_other_bands_are_refused(tiny_card, scene):
    reflectance, _ = scene
    with pytest.raises(InputDataError, match="trained for bands"):
        predict_classes(tiny_card, reflectance[::-1].copy(), BANDS[::-1])


def test_card_records_and_protects_the_weights(tiny_card):
    card = load_card(tiny_card.checkpoint.parent)
    assert card.band_names == BANDS and card.indices == ["ndvi"] and card.classes == ["soil", "crop", "weed", "shadow"]
    assert len(card.sha256) == 64 and card.channel_std[4] > 0
    saved = json.loads((tiny_card.checkpoint.parent / "model_card.json").read_text())
    assert saved["checkpoint"] == "weights.safetensors" and saved["onnx"] == "network.onnx"
    assert saved["training_data"]["images"] == ["scene"]
    with open(card.checkpoint, "r+b") as f:
        f.seek(-4, 2)
        f.write(b"\0\0\0\1")
    with pytest.raises(InputDataError, match="sha256"):
        load_card(card.checkpoint.parent)


def test_tiny_network_learns_the_scene(tiny_card, scene):
    from models.segmentation.evaluation import confusion_matrix, segmentation_scores

    reflectance, truth = scene
    scores = segmentation_scores(confusion_matrix(predict_classes(tiny_card, reflectance, BANDS, tile=128, overlap=32), truth))
    assert scores["vegetation"]["iou"] > 0.9 and scores["crop"]["iou"] > 0.8


def test_onnx_and_torch_runtimes_agree(tiny_card, scene):
    reflectance, _ = scene
    onnx = predict_classes(tiny_card, reflectance, BANDS, tile=128, overlap=32, runtime="onnx")
    torch = predict_classes(tiny_card, reflectance, BANDS, tile=128, overlap=32, runtime="torch")
    assert (onnx == torch).mean() > 0.999
