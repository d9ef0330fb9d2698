"""`saqi segment evaluate --images DIR --labels DIR --channels nir,red,green [--train-on pseudo|labels]
[--decision calibrated|argmax]`.

Trains a crop/weed/soil network on the tiles (pseudo-labels or hand labels, see
`models.segmentation.labelled_tiles`) and prints IoU / F1 per class, per tile and overall, with
the Otsu baseline's vegetation IoU, as JSON.
"""
from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path


def register(subparsers) -> None:
    cmd = subparsers.add_parser("segment", help="crop / weed / soil segmentation tools")
    actions = cmd.add_subparsers(dest="action", required=True)
    evaluate = actions.add_parser("evaluate", help="train on labelled tiles and score IoU / F1 against their labels")
    evaluate.add_argument("--images", type=Path, required=True, help="folder of 8-bit PNG image tiles")
    evaluate.add_argument("--labels", type=Path, required=True, help="folder of colour label masks (class_dict.csv)")
    evaluate.add_argument("--channels", required=True, help="band role of each image channel, e.g. nir,red,green")
    evaluate.add_argument("--train-on", choices=("pseudo", "labels"), default="pseudo")
    evaluate.add_argument("--model-dir", type=Path, help="where to keep the trained model(s) (default: temporary)")
    evaluate.add_argument("--steps", type=int, help="training steps (default: the TrainingSettings default)")
    evaluate.add_argument("--encoder", help="smp encoder name (default: the TrainingSettings default)")
    evaluate.add_argument("--class-weight-power", type=float, help="class weight = frequency^-power (default 0.5)")
    evaluate.add_argument("--decision", choices=("calibrated", "argmax"), default="calibrated",
                          help="calibrated (default): flips + vegetation threshold matched to each tile's own Otsu "
                          "vegetation share; argmax: the plain network")
    evaluate.add_argument("--seed", type=int, default=0)
    evaluate.set_defaults(handler=run_evaluate)


def run_evaluate(args: argparse.Namespace) -> int:
    from models.segmentation.labelled_tiles import evaluate_tiles, read_labelled_tiles
    from models.segmentation.training import TrainingSettings

    channels = [c.strip().lower() for c in args.channels.split(",") if c.strip()]
    overrides = {k: v for k, v in (("steps", args.steps), ("encoder", args.encoder),
                                   ("class_weight_power", args.class_weight_power)) if v is not None}
    settings = TrainingSettings(seed=args.seed, **overrides)
    tiles = read_labelled_tiles(args.images, args.labels, len(channels))
    with tempfile.TemporaryDirectory(prefix="saqi-segment-") as scratch:
        result = evaluate_tiles(tiles, channels, args.model_dir or Path(scratch), args.train_on, settings,
                                decision=args.decision)
    print(json.dumps(result, indent=2))
    return 0
