"""`saqi segment cross-validate` and `saqi segment evaluate` (docs/segmentation.md).

- `cross-validate --dev-root DIR --channels nir,green,red`: grouped cross-validation (2 folds by default) of
  every training source and decision rule on the development tiles (`DIR/train`, `DIR/valid`);
  prints the ranking (mean ± sd over folds) as JSON, writes the per-tile fold table with `--out`.
  The best row is what `configs/segmentation.yaml` freezes.
- `evaluate --dev-root DIR --images DIR --labels DIR --channels ... [--train-on pseudo|labels]`:
  trains on the development tiles (hand labels or their pseudo-labels), predicts the test tiles
  by the frozen recipe (`models.segmentation.decision.segment`, as the `crop_segmentation` asset
  does) and prints IoU / F1 per class, per tile and overall, beside the Otsu baseline, as JSON.
"""
from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path


def register(subparsers) -> None:
    cmd = subparsers.add_parser("segment", help="crop / weed / soil segmentation tools")
    actions = cmd.add_subparsers(dest="action", required=True)
    cv = actions.add_parser("cross-validate", help="choose the recipe by grouped cross-validation on development tiles")
    cv.add_argument("--dev-root", type=Path, required=True, help="folder with train/ and valid/ labelled tiles")
    cv.add_argument("--channels", required=True, help="band role of each image channel, e.g. nir,green,red")
    cv.add_argument("--steps", type=int, default=200, help="training steps per fold (default 200)")
    cv.add_argument("--band-gain-sd", type=float, default=0.0,
                    help="photometric augmentation of training crops (per-band log-gain sd; default 0: none)")
    cv.add_argument("--indices", help="index channels beside the bands (default: the recipe's; e.g. ndvi,ndvi-otsu: "
                                      "NDVI and NDVI centred on the image's Otsu threshold)")
    cv.add_argument("--one-pass", action="store_true",
                    help="score only the rules of one network pass per pixel (no test-time flips)")
    cv.add_argument("--sources", default="labels,pseudo", help="training sources to compare (labels,pseudo)")
    cv.add_argument("--out", type=Path, help="write the per-tile fold table (JSON) here")
    cv.add_argument("--model-dir", type=Path, help="where to keep the fold models (default: temporary)")
    cv.add_argument("--folds", type=int, default=2,
                    help="grouped folds (default 2: the frozen recipe's run, docs/segmentation.md)")
    cv.set_defaults(handler=run_cross_validate)
    evaluate = actions.add_parser("evaluate", help="train on development tiles, score the frozen recipe on test tiles")
    evaluate.add_argument("--dev-root", type=Path, required=True, help="folder with train/ and valid/ labelled tiles")
    evaluate.add_argument("--images", type=Path, required=True, help="folder of the test image tiles (8-bit PNG)")
    evaluate.add_argument("--labels", type=Path, required=True, help="folder of their colour label masks")
    evaluate.add_argument("--channels", required=True, help="band role of each image channel, e.g. nir,green,red")
    evaluate.add_argument("--train-on", choices=("pseudo", "labels"), help="default: the frozen recipe's source")
    evaluate.add_argument("--recipe", type=Path, help="recipe file (default configs/segmentation.yaml)")
    evaluate.add_argument("--model-dir", type=Path, help="where to keep the trained model (default: temporary)")
    evaluate.add_argument("--model", type=Path, help="score this model (its model card) instead of training one")
    evaluate.set_defaults(handler=run_evaluate)


def _channels(text: str) -> list[str]:
    return [c.strip().lower() for c in text.split(",") if c.strip()]


def run_cross_validate(args: argparse.Namespace) -> int:
    from models.segmentation.decision import candidate_rules, load_recipe
    from models.segmentation.protocol.cross_validation import cross_validate, summary
    from models.segmentation.protocol.tiles import read_development_tiles
    from models.segmentation.training import TrainingSettings

    channels = _channels(args.channels)
    tiles = read_development_tiles(args.dev_root, len(channels))
    indices = _channels(args.indices) if args.indices else load_recipe().indices
    settings = TrainingSettings(steps=args.steps, band_gain_sd=args.band_gain_sd, indices=indices,
                                validation_fraction=0.0)
    rules = candidate_rules(args.one_pass, indices)
    with tempfile.TemporaryDirectory(prefix="saqi-cv-") as scratch:
        result = cross_validate(tiles, channels, args.model_dir or Path(scratch), _channels(args.sources), settings,
                                rules, n_folds=args.folds)
    if args.out:
        args.out.write_text(json.dumps(result), encoding="utf-8")
    print(json.dumps(summary(result), indent=1))
    return 0


def run_evaluate(args: argparse.Namespace) -> int:
    from models.segmentation.card import load_card
    from models.segmentation.decision import load_recipe
    from models.segmentation.protocol.held_out import evaluate_tiles
    from models.segmentation.protocol.tiles import read_development_tiles, read_labelled_tiles

    channels = _channels(args.channels)
    development = read_development_tiles(args.dev_root, len(channels))
    test = read_labelled_tiles(args.images, args.labels, len(channels))
    recipe = load_recipe(args.recipe)
    with tempfile.TemporaryDirectory(prefix="saqi-segment-") as scratch:
        result = evaluate_tiles(development, test, channels, args.model_dir or Path(scratch), recipe, args.train_on,
                                load_card(args.model) if args.model else None)
    print(json.dumps(result, indent=2))
    return 0
