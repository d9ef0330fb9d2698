"""The decision rule from class probabilities to a class map, and the one production recipe.

A rule has three parts, all chosen by grouped cross-validation on development tiles
(`cross_validation`, docs/segmentation.md) and frozen in `configs/segmentation.yaml`:
- `flips`: average the probabilities over the four horizontal / vertical flips of each tile
  (test-time augmentation, 4x the inference time);
- vegetation: a pixel is vegetation when its margin max(p_crop, p_weed) - max(p_soil, p_shadow)
  exceeds `margin` ("margin"; margin 0 is the plain argmax), or when it is among the
  image's top share of margins, the share being that of the image's own cleaned Otsu mask
  ("calibrated", the former recipe; needs the whole image, so not strip-local);
- Otsu guard (`guard`, optional): where the image's centred vegetation index (the card's first
  `<index>-otsu` channel: NDVI less the whole image's Otsu (1979) threshold) exceeds +guard the
  pixel is vegetation, below -guard it is ground; in between the vegetation rule above decides
  (sixth look, docs/segmentation.md). Strip-local: the threshold is the whole image's;
- crop or weed: weed when `weed_factor` x p_weed > p_crop (1 = the larger probability).
Non-vegetated pixels are soil or shadow by the larger probability.

`segment` runs the recipe strip by strip over a whole (lazy) mosaic: it is the function the
`crop_segmentation` asset, `saqi segment evaluate` and the benchmarks call.
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import yaml
from pydantic import BaseModel, Field

from models.segmentation.classes import CROP, NO_DATA, SHADOW, SOIL, WEED


class DecisionRule(BaseModel):
    """How class probabilities become classes (see the module docstring)."""

    flips: bool = True
    vegetation: str = Field(default="margin", pattern="^(margin|calibrated)$")
    margin: float = Field(default=0.0, ge=-1.0, le=1.0)
    weed_factor: float = Field(default=1.0, gt=0.0)
    guard: float | None = Field(default=None, gt=0.0, description="Otsu guard on the centred vegetation "
                                "index (its units: NDVI for `ndvi-otsu`); None: the network decides everywhere")

    @property
    def id(self) -> str:
        """Readable rule name, e.g. `flips-margin+0.40-weed1.50`, `plain-margin+0.60-guard0.10-weed1.50`."""
        veg = f"margin{self.margin:+.2f}" if self.vegetation == "margin" else "calibrated"
        guard = f"-guard{self.guard:.2f}" if self.guard is not None else ""
        return f"{'flips' if self.flips else 'plain'}-{veg}{guard}-weed{self.weed_factor:.2f}"

    @property
    def strip_local(self) -> bool:
        """True when a strip's classes depend on that strip only (farm-scale windows)."""
        return self.vegetation == "margin"


MARGINS = tuple(float(round(m, 2)) + 0.0 for m in np.arange(-0.5, 0.91, 0.1))  # + 0.0: no "-0.00"
"""Vegetation margins of the grid: -0.5 ... 0.5 until the sixth look, which extended them to 0.9."""
GUARDS = (None, 0.05, 0.1, 0.2, 0.3)
"""Otsu guards of the grid (sixth look, declared 2026-12-01 06:10; None: no guard)."""
WEED_FACTORS = (0.5, 0.75, 1.0, 1.5, 2.0, 3.0)
RULE_GRID = tuple(DecisionRule(flips=f, vegetation=v, margin=m, weed_factor=w, guard=g)
                  for f in (False, True) for w in WEED_FACTORS
                  for v, m, g in [("margin", m, g) for g in GUARDS for m in MARGINS] + [("calibrated", 0.0, None)])


def guardable(indices: Sequence[str] | None) -> bool:
    """True when a model with these index channels can run a guarded rule: its first centred channel
    is `ndvi-otsu` (the guard's units are NDVI)."""
    from models.segmentation.features import centred_bases

    return centred_bases(indices or [])[:1] == ["ndvi"]


def candidate_rules(one_pass: bool, indices: Sequence[str] | None) -> list[DecisionRule]:
    """The rules a cross-validation scores: `RULE_GRID`, without the flips when `one_pass` and without
    the guarded rules when a model with these `indices` cannot run them (`guardable`)."""
    return [rule for rule in RULE_GRID if not (one_pass and rule.flips) and (rule.guard is None or guardable(indices))]


def decide(probability: np.ndarray, valid: np.ndarray, rule: DecisionRule, image: np.ndarray | None = None,
           band_names: Sequence[str] | None = None, centred: np.ndarray | None = None) -> np.ndarray:
    """(y, x) uint8 classes from (class, y, x) probabilities (any positive scale) by `rule`.

    `image` and `band_names` are needed by the "calibrated" rule only (its Otsu vegetation share);
    `centred` (y, x), the image's centred vegetation index (`inference.Strip.centred`), by a guarded
    rule only (NaN: no guard on that pixel).
    """
    p = probability / np.maximum(probability.sum(axis=0), 1e-12)
    margin = np.maximum(p[CROP], p[WEED]) - np.maximum(p[SOIL], p[SHADOW])
    if rule.vegetation == "calibrated":
        from models.segmentation.labels.pseudo import vegetation_of

        if image is None or band_names is None:
            raise ValueError("the calibrated rule needs the image and its band names")
        index, vegetation, _ = vegetation_of(image, band_names)
        fraction = float(vegetation[np.isfinite(index)].mean()) if np.isfinite(index).any() else 0.0
        threshold = np.quantile(margin[valid], 1.0 - fraction) if valid.any() else np.inf
    else:
        threshold = rule.margin
    vegetation = margin > threshold
    if rule.guard is not None:
        if centred is None:
            raise ValueError(f"rule {rule.id} needs the image's centred vegetation index (a model with an "
                             "`<index>-otsu` channel)")
        vegetation = np.where(np.abs(centred) > rule.guard, centred > 0, vegetation)  # NaN: not guarded
    plant = np.where(rule.weed_factor * p[WEED] > p[CROP], WEED, CROP)
    ground = np.where(p[SHADOW] > p[SOIL], SHADOW, SOIL)
    out = np.where(vegetation, plant, ground).astype(np.uint8)
    out[~valid] = NO_DATA
    return out


def tile_probabilities(card, image: np.ndarray, band_names: Sequence[str], flips: bool, tile: int = 512,
                       overlap: int = 64, runtime: str = "auto") -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Blended class probabilities (class, y, x), valid mask and centred vegetation index (y, x; None
    when the card has no `<index>-otsu` channel) of one in-memory image."""
    from models.segmentation.inference import FlipAveraged, blended_strips
    from models.segmentation.runtime import runner_for

    runner = runner_for(card, runtime)
    runner = FlipAveraged(runner) if flips else runner
    probability = np.zeros((len(card.classes), *image.shape[1:]), np.float32)
    valid = np.zeros(image.shape[1:], bool)
    centred = None
    for strip in blended_strips(card, image, band_names, tile, overlap, runtime=runtime, runner=runner):
        probability[:, strip.top:strip.done], valid[strip.top:strip.done] = strip.probability, strip.valid
        if strip.centred is not None:
            centred = np.full(image.shape[1:], np.nan, np.float32) if centred is None else centred
            centred[strip.top:strip.done] = strip.centred
    return probability, valid, centred


class SegmentationRecipe(BaseModel):
    """The frozen recipe: which model to train (source, budget) and the decision rule."""

    train_on: str = Field(default="labels", pattern="^(labels|pseudo)$")
    steps: int = 200
    band_gain_sd: float = Field(default=0.0, ge=0, le=1, description="training's photometric augmentation "
                                "(`TrainingSettings.band_gain_sd`)")
    indices: list[str] | None = Field(default=None, description="index channels beside the bands "
                                      "(`TrainingSettings.indices`; None: NDVI, or ExG without NIR)")
    rule: DecisionRule = Field(default_factory=DecisionRule)
    tile_px: int = 512
    overlap_px: int = 64
    chosen_by: str = ""

    def indices_for(self, band_names: Sequence[str]) -> list[str] | None:
        """The recipe's index channels when `band_names` allow them (NDVI needs nir and red), else
        None: the default for those bands (`TrainingSettings.indices`)."""
        from models.segmentation.features import index_bases
        from pipelines.imagery.indices.kernel import computable_indices

        if self.indices is None:
            return None
        _, skipped = computable_indices([b.lower() for b in band_names], index_bases(self.indices))
        return None if skipped else list(self.indices)

    def rule_for(self, card) -> DecisionRule:
        """The recipe's rule for a model `card`: without its guard unless the card's first centred
        channel is `ndvi-otsu` (the guard was chosen in NDVI units; e.g. an RGB flight's ExG model has
        none)."""
        if self.rule.guard is None or guardable(card.indices):
            return self.rule
        return self.rule.model_copy(update={"guard": None})


def load_recipe(path: str | Path | None = None) -> SegmentationRecipe:
    """The recipe frozen in `configs/segmentation.yaml` (or `path`)."""
    from pipelines.core.config import configs_dir

    path = Path(path) if path else configs_dir() / "segmentation.yaml"
    return SegmentationRecipe.model_validate(yaml.safe_load(path.read_text(encoding="utf-8"))["recipe"])


def segment(card, reflectance, band_names: Sequence[str], recipe: SegmentationRecipe | None = None, out=None,
            runtime: str = "auto", runner=None, thresholds: dict[str, float] | None = None) -> np.ndarray:
    """Class map (y, x) uint8 of a whole (lazy) mosaic by the frozen recipe, strip by strip.

    `out` may be a writable (y, x) uint8 target (e.g. `windows.staged_raster`). A rule that is not
    strip-local ("calibrated") keeps the whole probability cube in memory: use it on tiles only.
    `thresholds`: the image's Otsu thresholds of a card's `<index>-otsu` channels when already known
    (`features.image_thresholds`), else taken from `reflectance`.
    """
    from models.segmentation.inference import FlipAveraged, blended_strips
    from models.segmentation.runtime import runner_for

    recipe = recipe or load_recipe()
    rule = recipe.rule_for(card)
    out = np.full(reflectance.shape[1:], NO_DATA, np.uint8) if out is None else out
    if not rule.strip_local:
        image = np.asarray(reflectance)
        probability, valid, centred = tile_probabilities(card, image, band_names, rule.flips, recipe.tile_px,
                                                         recipe.overlap_px, runtime)
        out[:] = decide(probability, valid, rule, image, band_names, centred)
        return out
    runner = runner or runner_for(card, runtime)
    runner = FlipAveraged(runner) if rule.flips else runner
    for strip in blended_strips(card, reflectance, band_names, recipe.tile_px, recipe.overlap_px,
                                runtime=runtime, runner=runner, thresholds=thresholds):
        out[strip.top:strip.done] = decide(strip.probability, strip.valid, rule, centred=strip.centred)
    return out
