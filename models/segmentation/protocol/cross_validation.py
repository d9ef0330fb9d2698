"""Grouped cross-validation of the segmentation recipe on development tiles only.

Protocol (docs/segmentation.md): the development tiles are split into folds by *group*; each
fold's model is trained on the other groups' tiles (hand labels or their own pseudo-labels) and
predicts the held-out group's tiles; every decision rule in `decision.RULE_GRID` is scored on
those held-out predictions. The recipe (training source, decision rule) with the best mean
selection score over folds is the one frozen in `configs/segmentation.yaml`. No tile scored here
may be a test tile.

Groups: the WeedMap repack (viariasv/weedMap `data_reorganize.py`) took its train/valid tiles
from four orthomosaics (fields 000, 001, 002, 004) and its test tiles from a fifth (003), then
shuffled and renumbered the train/valid tiles, so a tile's field is not in its name. The groups
are k-means clusters (8) of each tile's median colour over its valid pixels, dealt whole to
folds of balanced size (`n_folds`; 2 in the runs on record): tiles of one flight share
illumination and soil colour, so a cluster is the closest image-only proxy for a field (no label
is looked at). Leave-one-tile-out would let near-identical neighbours of one field sit on both
sides of a fold (and cost 64 trainings).
"""
from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from pathlib import Path

import numpy as np

from models.segmentation.classes import CROP, NAMES, WEED
from models.segmentation.decision import RULE_GRID, DecisionRule, decide, tile_probabilities
from models.segmentation.evaluation import confusion_matrix
from models.segmentation.protocol.tiles import LabelledTile, otsu_confusion, tile_scores, training_images
from models.segmentation.training import TrainingSettings, train_segmentation_model

SOURCES = ("labels", "pseudo")


def tile_groups(tiles: Sequence[LabelledTile], n_folds: int = 4, n_clusters: int = 8, seed: int = 0) -> list[int]:
    """Fold number of each tile: k-means clusters (k = `n_clusters`) of its median colour over
    finite pixels, whole clusters dealt to `n_folds` folds of balanced size (GroupKFold)."""
    from sklearn.cluster import KMeans
    from sklearn.model_selection import GroupKFold

    colour = np.array([[np.median(c[np.isfinite(c)]) if np.isfinite(c).any() else 0.0 for c in t.image] for t in tiles])
    clusters = KMeans(n_clusters, n_init=10, random_state=seed).fit_predict(colour)
    folds = np.zeros(len(tiles), int)
    for fold, (_, held) in enumerate(GroupKFold(n_folds).split(colour, groups=clusters)):
        folds[held] = fold
    return [int(f) for f in folds]


def scores_of(confusion: np.ndarray) -> dict:
    """`tile_scores` plus the selection score: the mean of the three targets, vegetation IoU,
    crop F1 and weed F1 (pooled pixels)."""
    out = tile_scores(confusion)
    out["selection"] = round((out["vegetation"]["iou"] + out["crop"]["f1"] + out["weed"]["f1"]) / 3, 4)
    return out


def cross_validate(tiles: Sequence[LabelledTile], band_names: Sequence[str], out_dir: Path,
                   sources: Sequence[str] = SOURCES, settings: TrainingSettings | None = None,
                   rules: Sequence[DecisionRule] = RULE_GRID, n_folds: int = 4, log=print,
                   only_folds: Sequence[int] | None = None) -> dict:
    """Fold table: for each training source and decision rule, confusion matrices per held-out tile.

    Returns {"groups": {tile: group}, "folds": {source: {rule_id: {tile: confusion (list)}}},
    "otsu": {tile: confusion}} — `summary` turns it into mean ± sd tables. `only_folds` runs
    some folds only (a long run can be split and its parts merged).
    """
    groups = tile_groups(tiles, n_folds)
    result = {"groups": {t.name: g for t, g in zip(tiles, groups)}, "folds": {}, "models": {},
              "otsu": {t.name: otsu_confusion(t, band_names).tolist() for t in tiles}}
    for source in sources:
        per_rule = {rule.id: {} for rule in rules}
        for fold in sorted(set(groups)):
            if only_folds is not None and fold not in only_folds:
                continue
            train = [t for t, g in zip(tiles, groups) if g != fold]
            held = [t for t, g in zip(tiles, groups) if g == fold]
            card = train_segmentation_model(training_images(train, band_names, source), band_names,
                                            Path(out_dir) / f"{source}-fold{fold}", settings,
                                            {"source": source, "cross_validation_fold": fold})
            result["models"][f"{source}-fold{fold}"] = card.metrics
            for tile in held:
                cache = {}
                for rule in rules:
                    if rule.flips not in cache:
                        cache[rule.flips] = tile_probabilities(card, tile.image, band_names, rule.flips)
                    probability, valid, centred = cache[rule.flips]
                    predicted = decide(probability, valid, rule, tile.image, band_names, centred)
                    per_rule[rule.id][tile.name] = confusion_matrix(predicted, tile.truth).tolist()
            log(f"{source} fold {fold}: {len(train)} training tiles, {len(held)} held out")
        result["folds"][source] = per_rule
    return result


def summary(result: dict) -> dict:
    """Mean ± sd over folds of each (source, rule) pooled per fold, ranked by the selection score."""
    groups = result["groups"]
    folds = sorted(set(groups.values()))
    n = len(NAMES)
    rows = []
    for source, per_rule in result["folds"].items():
        for rule_id, per_tile in per_rule.items():
            fold_scores = []
            for fold in folds:
                total = sum((np.asarray(c) for t, c in per_tile.items() if groups[t] == fold),
                            np.zeros((n, n), np.int64))
                fold_scores.append(scores_of(total))
            keys = {"vegetation_iou": ("vegetation", "iou"), "crop_f1": ("crop", "f1"), "weed_f1": ("weed", "f1")}
            row = {"source": source, "rule": rule_id}
            for key, (cls, metric) in keys.items():
                values = np.array([s[cls][metric] for s in fold_scores], float)
                row[key] = [round(float(np.nanmean(values)), 4), round(float(np.nanstd(values)), 4)]
            sel = np.array([s["selection"] for s in fold_scores], float)
            row["selection"] = [round(float(np.nanmean(sel)), 4), round(float(np.nanstd(sel)), 4)]
            row["per_fold_selection"] = [round(float(v), 4) for v in sel]
            rows.append(row)
    rows.sort(key=lambda r: -r["selection"][0])
    otsu = []
    for fold in folds:
        total = sum((np.asarray(c) for t, c in result["otsu"].items() if groups[t] == fold), np.zeros((n, n), np.int64))
        otsu.append(scores_of(total)["vegetation"]["iou"])
    choice = {}
    for source in result["folds"]:
        below = {r["rule"]: tiles_below_otsu(result, r["rule"], source) for r in rows if r["source"] == source}
        scores = {r["rule"]: tuple(r["selection"]) for r in rows if r["source"] == source}
        chosen = tie_break({rule: (scores[rule], below[rule][0]) for rule in scores})
        choice[source] = {"rule": chosen, "selection": list(scores[chosen]), "tiles_below_otsu": list(below[chosen])}
    return {"ranking": rows, "otsu_vegetation_iou": [round(float(np.mean(otsu)), 4), round(float(np.std(otsu)), 4)],
            "fold_sizes": {f: sum(1 for g in groups.values() if g == f) for f in folds}, "choice": choice}


def tie_break(candidates: Mapping[Hashable, tuple[tuple[float, float], int]]) -> Hashable:
    """The candidate chosen by the fourth freeze's rule (docs/segmentation.md; recipes at the fourth
    freeze, rules since the sixth look). `candidates`: {key: ((selection mean, fold sd), held-out
    development tiles below Otsu)}. Those whose mean lies within the larger of its own and the best's
    fold sd of the best are tied; among them the fewest tiles below Otsu wins, then the higher mean."""
    best_mean, best_sd = max((score for score, _ in candidates.values()), key=lambda s: s[0])
    tied = {k: v for k, v in candidates.items() if best_mean - v[0][0] <= max(v[0][1], best_sd)}
    return min(tied, key=lambda k: (tied[k][1], -tied[k][0][0]))


def tiles_below_otsu(result: dict, rule_id: str, source: str = "labels") -> tuple[int, int]:
    """(tiles whose held-out vegetation IoU by `rule_id` is below Otsu's, tiles holding vegetation):
    the issue's "above Otsu on every tile", counted on development tiles (the fourth freeze's tie-break)."""
    below = total = 0
    for tile, confusion in result["folds"][source][rule_id].items():
        ours = tile_scores(np.asarray(confusion))["vegetation"]["iou"]
        otsu = tile_scores(np.asarray(result["otsu"][tile]))["vegetation"]["iou"]
        truth = np.asarray(confusion)[[CROP, WEED], :].sum()
        if truth:
            total += 1
            below += int(ours < otsu)
    return below, total
