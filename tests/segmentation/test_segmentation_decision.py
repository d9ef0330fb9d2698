"""Decision rules, the production recipe, the grouped folds and the fallback's row split."""
from __future__ import annotations

import numpy as np
import pytest
import shapely
from affine import Affine
from segmentation_scenes import BANDS, row_scene

from models.segmentation.classes import CROP, NO_DATA, SHADOW, SOIL, WEED
from models.segmentation.decision import RULE_GRID, DecisionRule, SegmentationRecipe, decide, load_recipe, segment
from models.segmentation.evaluation import confusion_matrix, segmentation_scores


def _probabilities(*pixels):
    """(4, 1, n) probabilities from (soil, crop, weed, shadow) tuples."""
    return np.array(pixels, np.float32).T[:, None, :]


def test_margin_and_weed_factor_by_hand():
    p = _probabilities((0.5, 0.3, 0.2, 0.0), (0.3, 0.4, 0.3, 0.0), (0.1, 0.3, 0.6, 0.0), (0.2, 0.2, 0.1, 0.5))
    valid = np.array([[True, True, True, False]])
    # margins max(crop, weed) - max(soil, shadow): -0.2, +0.1, +0.5, -0.3
    assert decide(p, valid, DecisionRule(margin=0.0)).tolist() == [[SOIL, CROP, WEED, NO_DATA]]
    assert decide(p, valid, DecisionRule(margin=-0.25)).tolist() == [[CROP, CROP, WEED, NO_DATA]]
    assert decide(p, valid, DecisionRule(margin=0.2)).tolist() == [[SOIL, SOIL, WEED, NO_DATA]]
    # weed when factor x p_weed > p_crop: pixel 2 (0.3 vs 0.4) turns weed at factor 1.5, pixel 3 crop at 0.5
    assert decide(p, valid, DecisionRule(weed_factor=1.5)).tolist() == [[SOIL, WEED, WEED, NO_DATA]]
    assert decide(p, valid, DecisionRule(weed_factor=0.45)).tolist() == [[SOIL, CROP, CROP, NO_DATA]]
    shade = decide(p, np.ones((1, 4), bool), DecisionRule())
    assert shade[0, 3] == SHADOW


def test_otsu_guard_by_hand():
    """Guard 0.1: the centred NDVI decides beyond +-0.1 (vegetation above, ground below), the margin
    between; NaN leaves the margin's verdict; the crop / weed split stays the network's."""
    p = _probabilities((0.6, 0.3, 0.1, 0.0), (0.1, 0.2, 0.7, 0.0), (0.6, 0.3, 0.1, 0.0), (0.1, 0.7, 0.2, 0.0),
                       (0.2, 0.1, 0.2, 0.5))
    valid = np.ones((1, 5), bool)
    centred = np.array([[0.25, -0.15, 0.05, np.nan, -0.3]], np.float32)
    rule = DecisionRule(flips=False, margin=0.0, guard=0.1)
    assert rule.id == "plain-margin+0.00-guard0.10-weed1.00"
    assert decide(p, valid, rule, centred=centred).tolist() == [[CROP, SOIL, SOIL, CROP, SHADOW]]
    assert decide(p, valid, DecisionRule(margin=0.0)).tolist() == [[SOIL, WEED, SOIL, CROP, SHADOW]]
    with pytest.raises(ValueError, match="centred vegetation index"):
        decide(p, valid, rule)


def test_calibrated_rule_matches_the_images_own_otsu_share(scene):
    """The calibrated threshold takes the share of the image's cleaned Otsu mask: no label is read."""
    from models.segmentation.labels.pseudo import vegetation_of

    reflectance, _ = scene
    index, vegetation, _ = vegetation_of(reflectance, BANDS)
    share = float(vegetation[np.isfinite(index)].mean())
    rng = np.random.default_rng(0)
    p = rng.dirichlet(np.ones(4), size=reflectance.shape[1:]).transpose(2, 0, 1).astype(np.float32)
    classes = decide(p, np.ones(reflectance.shape[1:], bool), DecisionRule(vegetation="calibrated"), reflectance, BANDS)
    assert np.isin(classes, (CROP, WEED)).mean() == pytest.approx(share, abs=0.002)
    with pytest.raises(ValueError, match="needs the image"):
        decide(p, np.ones(reflectance.shape[1:], bool), DecisionRule(vegetation="calibrated"))


def test_rule_grid_and_frozen_recipe():
    ids = [r.id for r in RULE_GRID]
    # 2 flips x 6 weed factors x (15 margins x 5 guards + the calibrated rule): the sixth look's grid
    assert len(ids) == len(set(ids)) == 912 and "plain-margin+0.00-weed1.00" in ids  # the plain argmax is a candidate
    assert "plain-margin+0.90-guard0.30-weed3.00" in ids
    # every rule of the earlier runs on record (docs/results) is still in the grid, under the same id
    earlier = {f"{f}-margin{m / 10:+.2f}-weed{w:.2f}" for f in ("plain", "flips") for m in range(-5, 6)
               for w in (0.5, 0.75, 1.0, 1.5, 2.0, 3.0)}
    assert earlier <= set(ids)
    # what `saqi segment cross-validate` scores: 456 one-pass rules with the recipe's channels (the sixth
    # look's run), the 96 unguarded ones for an NDVI-only model (`--indices ndvi`)
    from models.segmentation.decision import candidate_rules

    assert len(candidate_rules(True, ["ndvi", "ndvi-otsu"])) == 456 and len(candidate_rules(False, None)) == 192
    unguarded = candidate_rules(True, ["ndvi"])
    assert len(unguarded) == 96 and not any(r.flips or r.guard for r in unguarded)
    recipe = load_recipe()
    assert recipe.rule.strip_local and recipe.chosen_by  # production windows need a strip-local rule
    assert recipe.rule.id in ids


def test_a_guarded_recipe_runs_strip_by_strip_and_only_with_a_centred_ndvi(tiny_card, scene, tmp_path):
    """A guarded rule over 128 px strips gives the whole tile's decision with its centred NDVI; a
    model without an `ndvi-otsu` channel (tiny_card: NDVI only) runs the recipe without the guard."""
    from models.segmentation.decision import guardable, tile_probabilities
    from models.segmentation.labels.pseudo import scene_pseudo_labels
    from models.segmentation.training import LabelledImage, TrainingSettings, train_segmentation_model

    reflectance, _ = scene
    card = train_segmentation_model([LabelledImage("scene", reflectance, scene_pseudo_labels(reflectance, BANDS))],
                                    BANDS, tmp_path / "centred", TrainingSettings(
                                        steps=3, batch=2, crop_px=64, validation_fraction=0.0,
                                        indices=["ndvi", "ndvi-otsu"]))
    rule = DecisionRule(flips=False, margin=0.3, guard=0.1, weed_factor=1.5)
    recipe = SegmentationRecipe(rule=rule, tile_px=128, overlap_px=32, indices=["ndvi", "ndvi-otsu"])
    classes = segment(card, reflectance, BANDS, recipe)
    probability, valid, centred = tile_probabilities(card, reflectance, BANDS, False, 128, 32)
    assert (classes == decide(probability, valid, rule, centred=centred)).mean() > 0.999
    guarded = np.abs(centred) > 0.1
    assert guarded.mean() > 0.3 and (np.isin(classes, (CROP, WEED)) == (centred > 0.1))[guarded].all()
    assert recipe.rule_for(card) == rule and guardable(card.indices) and not guardable(tiny_card.indices)
    assert recipe.rule_for(tiny_card) == rule.model_copy(update={"guard": None})
    unguarded = recipe.model_copy(update={"rule": recipe.rule_for(tiny_card)})
    assert (segment(tiny_card, reflectance, BANDS, recipe) == segment(tiny_card, reflectance, BANDS, unguarded)).all()
    # the flight's metadata (`crop_segmentation`) names the rule that ran
    from models.segmentation.flight_classes import flight_classes

    out = np.zeros(reflectance.shape[1:], np.uint8)
    assert flight_classes(out, reflectance, BANDS, card, recipe).endswith("recipe plain-margin+0.30-guard0.10-weed1.50")
    assert (out == classes).all()
    assert flight_classes(out, reflectance, BANDS, tiny_card, recipe).endswith("recipe plain-margin+0.30-weed1.50")


def test_farm_model_trains_with_the_recipes_budget_and_channels():
    """The `segmentation_model` asset's default steps and its channels are the evaluated recipe's
    (production = evaluated); a camera without the recipe's bands gets the default for its bands."""
    from assets.segmentation import TrainingConfig
    from models.segmentation.flights import farm_settings

    recipe = load_recipe()
    assert TrainingConfig().steps == recipe.steps
    settings = farm_settings(TrainingConfig().steps, None, ["blue", "green", "red", "rededge", "nir"])
    assert settings.indices == recipe.indices == ["ndvi", "ndvi-otsu"] and settings.steps == recipe.steps
    assert recipe.indices_for(["NIR", "Green", "Red"]) == recipe.indices
    assert farm_settings(100, None, ["green", "rededge", "nir"]).indices is None  # no red: no NDVI


def test_segment_strip_by_strip_equals_one_pass(tiny_card, scene):
    """The farm-scale recipe (strips of 128 px) gives the same classes as the whole-tile decision."""
    from models.segmentation.decision import tile_probabilities

    reflectance, truth = scene
    rule = DecisionRule(flips=True, margin=0.1, weed_factor=1.5)
    recipe = SegmentationRecipe(rule=rule, tile_px=128, overlap_px=32)
    classes = segment(tiny_card, reflectance, BANDS, recipe)
    probability, valid, _ = tile_probabilities(tiny_card, reflectance, BANDS, True, 128, 32)
    assert (classes == decide(probability, valid, rule)).mean() > 0.999
    scores = segmentation_scores(confusion_matrix(classes, truth))
    assert scores["vegetation"]["iou"] > 0.85 and scores["crop"]["iou"] > 0.8


def test_folds_keep_colour_groups_together():
    from models.segmentation.protocol.cross_validation import tile_groups
    from models.segmentation.protocol.tiles import LabelledTile

    rng = np.random.default_rng(1)
    colours = rng.uniform(0.1, 0.9, (8, 3))
    tiles = [LabelledTile(f"{k}", np.broadcast_to(colours[k % 8][:, None, None] + 0.001 * (k // 8), (3, 8, 8)).copy(),
                          np.zeros((8, 8), np.uint8)) for k in range(40)]
    folds = tile_groups(tiles)
    assert sorted(np.bincount(folds).tolist()) == [10, 10, 10, 10]
    for c in range(8):
        assert len({folds[k] for k in range(40) if k % 8 == c}) == 1  # a colour group never straddles two folds
    assert folds == tile_groups(tiles)


def test_fallback_splits_weeds_off_the_rows():
    from models.segmentation.flight_classes import RowParcel, split_weeds_by_rows

    reflectance, truth = row_scene(shape=(256, 320), spacing_px=16.0, weeds=20, seed=3)
    classes = np.where(np.isin(truth, (CROP, WEED)), CROP, SOIL).astype(np.uint8)
    transform = Affine(0.1, 0, 0, 0, -0.1, 25.6)  # 0.1 m pixels: 16 px = 1.6 m rows
    parcel = RowParcel(shapely.box(0, 0, 32.0, 25.6), "row", 1.6)
    changed = split_weeds_by_rows(classes, [parcel], transform)
    weed = classes == WEED
    assert changed == weed.sum() > 0
    assert (truth[weed] == WEED).mean() > 0.9 and (weed[truth == WEED]).mean() > 0.8
    cereal = np.where(np.isin(truth, (CROP, WEED)), CROP, SOIL).astype(np.uint8)
    assert split_weeds_by_rows(cereal, [RowParcel(parcel.geometry, "cereal", None)], transform) == 0


def test_frozen_rule_is_the_cv_best_under_the_declared_speed_constraint():
    """configs/segmentation.yaml: the best CV rule (docs/results/segmentation_cv_labels_480.json, development
    tiles only) among the strip-local rules with one network pass per pixel (no flips)."""
    import json
    from pathlib import Path

    ranking = json.loads((Path(__file__).parents[2] / "docs/results/segmentation_cv_labels_480.json")
                         .read_text())["ranking"]
    strip_local = {r.id for r in RULE_GRID if r.strip_local and not r.flips}
    best = max((r for r in ranking if r["rule"] in strip_local), key=lambda r: r["selection"][0])
    assert best["rule"] == "plain-margin+0.50-weed1.50"  # the third freeze (the rule until the sixth)
    assert best["selection"][0] > 0.76


def test_recipe_rule_is_the_sixth_looks_tie_break():
    """configs/segmentation.yaml's rule: in the sixth look's one-pass CV run (docs/results, development
    tiles only, the recipe's channels), the rule tied with the best score (within a fold sd) that falls
    below Otsu on the fewest held-out tiles (docs/segmentation.md, declared before the run)."""
    import json
    from pathlib import Path

    from models.segmentation.protocol.cross_validation import summary, tiles_below_otsu

    result = json.loads((Path(__file__).parents[2] / "docs/results/segmentation_cv_labels_480_onepass_guard.json")
                        .read_text())
    from models.segmentation.decision import candidate_rules

    assert set(result["folds"]["labels"]) == {r.id for r in candidate_rules(True, load_recipe().indices)}
    table = summary(result)
    choice = table["choice"]["labels"]
    assert load_recipe().rule.id == choice["rule"] == "plain-margin+0.60-guard0.10-weed1.00"
    assert choice["tiles_below_otsu"] == [4, 57]
    best = table["ranking"][0]
    assert best["rule"] != choice["rule"] and best["selection"][0] - choice["selection"][0] <= best["selection"][1]
    assert tiles_below_otsu(result, best["rule"])[0] > 4
    # every tied rule without a guard falls below Otsu on more held-out tiles
    unguarded = [r["rule"] for r in table["ranking"] if "guard" not in r["rule"]
                 and best["selection"][0] - r["selection"][0] <= max(best["selection"][1], r["selection"][1])]
    assert unguarded and min(tiles_below_otsu(result, r)[0] for r in unguarded) > 4


def test_band_gains_scale_the_bands_and_shift_ndvi_as_a_brighter_nir_would():
    """Photometric augmentation: bands × gains, NDVI recomputed from the scaled bands (hand value:
    nir 0.40, red 0.08 is NDVI 0.667; nir × 1.25 and red × 0.8 make 0.5/0.064, NDVI 0.773)."""
    from models.segmentation.training import _gained

    bands = ["nir", "green", "red"]
    reflectance = np.broadcast_to(np.array([0.40, 0.10, 0.08], np.float32)[:, None, None], (3, 2, 2)).copy()
    mean, std = [0.0] * 4, [1.0] * 4  # identity normalisation: the channels as computed
    plain = _gained(reflectance, np.ones(3, np.float32), bands, ["ndvi"], mean, std)
    gained = _gained(reflectance, np.array([1.25, 1.0, 0.8], np.float32), bands, ["ndvi"], mean, std)
    assert plain[3, 0, 0] == pytest.approx((0.40 - 0.08) / (0.40 + 0.08), abs=1e-6)
    np.testing.assert_allclose(gained[:3, 0, 0], [0.5, 0.10, 0.064], rtol=1e-6)
    assert gained[3, 0, 0] == pytest.approx((0.5 - 0.064) / (0.5 + 0.064), abs=1e-6)


def test_training_with_band_gains_draws_other_batches_and_records_the_setting(scene, tmp_path):
    """band_gain_sd > 0 changes what the network sees: training is deterministic (same weights twice
    without gains), and other weights come out with them; the card records the setting."""
    from models.segmentation.labels.pseudo import scene_pseudo_labels
    from models.segmentation.training import LabelledImage, TrainingSettings, train_segmentation_model

    reflectance, _ = scene
    image = [LabelledImage("scene", reflectance, scene_pseudo_labels(reflectance, BANDS))]
    cards = [train_segmentation_model(image, BANDS, tmp_path / f"run{k}", TrainingSettings(
        steps=3, batch=2, crop_px=64, validation_fraction=0.0, band_gain_sd=sd))
        for k, sd in enumerate((0.0, 0.0, 0.2))]
    assert [c.settings["band_gain_sd"] for c in cards] == [0.0, 0.0, 0.2]
    assert cards[0].sha256 == cards[1].sha256 != cards[2].sha256


_TRAIN_ONCE = """
import sys
from pathlib import Path
sys.path.insert(0, sys.argv[2])
from segmentation_scenes import BANDS, row_scene
from models.segmentation.labels.pseudo import scene_pseudo_labels
from models.segmentation.training import LabelledImage, TrainingSettings, train_segmentation_model
reflectance, _ = row_scene()
settings = TrainingSettings(steps=4, batch=2, crop_px=64, validation_fraction=0.0, indices=["ndvi", "ndvi-otsu"])
image = LabelledImage("scene", reflectance, scene_pseudo_labels(reflectance, BANDS))
card = train_segmentation_model([image], BANDS, Path(sys.argv[1]), settings)
print(card.sha256)
"""


def test_training_is_the_same_in_two_processes(tmp_path):
    """Two fresh processes (other hash seeds) train the same checkpoint, bit for bit: a model depends
    on its data, settings and the CPU's floating-point paths only (docs/segmentation.md, sixth look)."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    here = str(Path(__file__).parent)
    digests = []
    for seed in ("1", "2"):
        done = subprocess.run([sys.executable, "-c", _TRAIN_ONCE, str(tmp_path / seed), here], capture_output=True,
                              text=True, timeout=300, env={**os.environ, "PYTHONHASHSEED": seed})
        assert done.returncode == 0, done.stderr[-2000:]
        digests.append(done.stdout.split()[-1])
    assert digests[0] == digests[1] and len(digests[0]) == 64


def test_training_with_a_centred_ndvi_channel_records_it_and_predicts(scene, tmp_path):
    """A model trained with `ndvi-otsu` (and band gains, whose gained images take their own
    threshold) has 7 input channels, the centred channel's training mean is the NDVI mean less the
    scene's Otsu threshold, and it predicts a whole scene."""
    from skimage.filters import threshold_otsu

    from models.segmentation.inference import predict_classes
    from models.segmentation.labels.pseudo import scene_pseudo_labels
    from models.segmentation.training import LabelledImage, TrainingSettings, train_segmentation_model

    reflectance, _ = scene
    image = [LabelledImage("scene", reflectance, scene_pseudo_labels(reflectance, BANDS))]
    card = train_segmentation_model(image, BANDS, tmp_path / "centred", TrainingSettings(
        steps=3, batch=2, crop_px=64, validation_fraction=0.0, band_gain_sd=0.1, indices=["ndvi", "ndvi-otsu"]))
    assert card.indices == ["ndvi", "ndvi-otsu"] and card.in_channels == len(BANDS) + 2
    nir, red = reflectance[BANDS.index("nir")], reflectance[BANDS.index("red")]
    ndvi = (nir - red) / (nir + red)
    otsu = threshold_otsu(ndvi[np.isfinite(ndvi)])
    assert card.channel_mean[-1] == pytest.approx(card.channel_mean[-2] - otsu, abs=1e-4)
    classes = predict_classes(card, reflectance, BANDS, tile=128, overlap=32)
    assert classes.shape == reflectance.shape[1:] and set(np.unique(classes)) <= {0, 1, 2, 3}


def test_recipe_channels_are_the_fourth_freezes_tie_break():
    """configs/segmentation.yaml's channels: the one-pass CV runs of 2026-12-01 (docs/results, development
    tiles only) within a fold sd of each other are tied, and the tie goes to fewer held-out tiles below
    Otsu (docs/segmentation.md, fourth freeze); gains of sd 0.2 are not tied."""
    import json
    from pathlib import Path

    from models.segmentation.protocol.cross_validation import summary, tie_break, tiles_below_otsu

    results = Path(__file__).parents[2] / "docs/results"
    runs = {("ndvi",): "segmentation_cv_labels_480_onepass.json",
            ("ndvi", "ndvi-otsu"): "segmentation_cv_labels_480_onepass_ndvi_otsu.json",
            ("ndvi", "gains 0.2"): "segmentation_cv_labels_480_onepass_gain0.2.json"}
    scored = {}
    for channels, name in runs.items():
        result = json.loads((results / name).read_text())
        best = summary(result)["ranking"][0]
        scored[channels] = (best["selection"], best["rule"], tiles_below_otsu(result, best["rule"]))
    assert scored[("ndvi",)][2] == (11, 57) and scored[("ndvi", "ndvi-otsu")][2] == (5, 57)
    candidates = {c: (s[0], s[2][0]) for c, s in scored.items()}
    chosen = tie_break(candidates)
    # gains of sd 0.2 are not tied: even with no tile below Otsu they would not be chosen
    assert tie_break({**candidates, ("ndvi", "gains 0.2"): (scored[("ndvi", "gains 0.2")][0], 0)}) == chosen
    assert tuple(load_recipe().indices) == chosen == ("ndvi", "ndvi-otsu")
    assert scored[chosen][1] == "plain-margin+0.50-weed1.50"
