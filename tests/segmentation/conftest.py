"""Fixtures of the segmentation tests: a row scene and a tiny trained network."""
from __future__ import annotations

import pytest
from segmentation_scenes import BANDS, row_scene


@pytest.fixture(scope="session")
def scene():
    return row_scene()


@pytest.fixture(scope="session")
def tiny_card(tmp_path_factory, scene):
    """A network trained for 30 small steps on the scene's pseudo-labels (seconds)."""
    from models.segmentation.labels.pseudo import scene_pseudo_labels
    from models.segmentation.training import (
        LabelledImage,
        TrainingSettings,
        train_segmentation_model,
    )

    reflectance, _ = scene
    labels = scene_pseudo_labels(reflectance, BANDS)
    settings = TrainingSettings(steps=30, batch=4, crop_px=64, validation_fraction=0.0)
    return train_segmentation_model([LabelledImage("scene", reflectance, labels)], BANDS,
                                    tmp_path_factory.mktemp("model"), settings)
