"""`saqi farm generate`: write the sample farm's synthetic season of flights and their truth."""
from __future__ import annotations

import argparse
from pathlib import Path

from pipelines.cli import farm_argument


def _generate(args: argparse.Namespace) -> int:
    from pipelines.core.config import load_farm
    from pipelines.synthetic import generate_farm_flights

    seed = {} if args.seed is None else {"seed": args.seed}
    flights = generate_farm_flights(load_farm(args.farm), args.landing, args.truth, **seed)
    for flight in flights:
        print(f"{flight.flight}: {flight.orthomosaic}  truth: {flight.classes.parent}")
    return 0


def register(subparsers) -> None:
    farm = subparsers.add_parser("farm", help="sample-farm tools")
    actions = farm.add_subparsers(dest="action", required=True)
    generate = actions.add_parser("generate",
                                  help="write the synthetic orthomosaics of a farm's season and their ground truth")
    generate.add_argument("--farm", default="chtouka", type=farm_argument,
                          help="farm id in configs/farms (default: chtouka)")
    generate.add_argument("--landing", type=Path, required=True,
                          help="landing folder: <landing>/<farm>/<yyyymmdd>/orthomosaic.tif")
    generate.add_argument("--truth", type=Path, required=True,
                          help="truth folder: <truth>/<farm>-<yyyymmdd>/{classes,stress,reflectance}.tif")
    generate.add_argument("--seed", type=int, help="random seed (default: the generator's; same seed, same files)")
    generate.set_defaults(handler=_generate)
