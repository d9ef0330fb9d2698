"""The held-out test of the frozen recipe: train on the development tiles only, predict the test
tiles with `decision.segment`, score them against their labels beside Otsu (docs/segmentation.md)."""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from models.segmentation.protocol.tiles import LabelledTile, score_tiles, training_images


def train_on_development(development: Sequence[LabelledTile], band_names: Sequence[str], out_dir: Path,
                         train_on: str, steps: int, band_gain_sd: float = 0.0, indices: list[str] | None = None):
    """The evaluation's model: trained on the development tiles' hand labels or pseudo-labels
    (`steps`, `band_gain_sd` and `indices` of the recipe, the rest `TrainingSettings`' defaults, no
    image held out: the cross-validation is the validation)."""
    from models.segmentation.training import TrainingSettings, train_segmentation_model

    if train_on not in ("pseudo", "labels"):
        raise ValueError(f"train_on must be 'pseudo' or 'labels', got {train_on!r}")
    images = training_images(development, band_names, train_on)
    return train_segmentation_model(images, band_names, Path(out_dir) / train_on,
                                    TrainingSettings(steps=steps, band_gain_sd=band_gain_sd, indices=indices,
                                                     validation_fraction=0.0),
                                    {"source": f"{train_on} of {len(images)} development tiles"})


def evaluate_tiles(development: Sequence[LabelledTile], test: Sequence[LabelledTile], band_names: Sequence[str],
                   out_dir: Path, recipe=None, train_on: str | None = None, card=None) -> dict:
    """Train on the development tiles (`train_on`: the recipe's by default; or use the trained
    `card`), predict the test tiles by the frozen recipe (`decision.segment`), score them against
    their labels beside Otsu."""
    from models.segmentation.decision import load_recipe, segment

    recipe = recipe or load_recipe()
    train_on = train_on or recipe.train_on
    names = {t.name for t in development} & {t.name for t in test}
    if names:
        raise ValueError(f"tiles {sorted(names)} are both development and test tiles")
    card = card or train_on_development(development, band_names, out_dir, train_on, recipe.steps,
                                            recipe.band_gain_sd, recipe.indices)
    result = score_tiles(lambda image: segment(card, image, band_names, recipe), test, band_names)
    return {"train_on": train_on, "recipe": recipe.model_dump(), "band_names": list(band_names),
            "model": str(card.checkpoint.parent), "training_data": card.training_data.get("source"), **result}
