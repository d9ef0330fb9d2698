"""`saqi demo`: generate the embedded sample farm's flights and materialise the whole graph."""
from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import time
from pathlib import Path

from pipelines.cli import farm_argument

DEMO_FARM = "chtouka"
DEMO_DAYS = 7


def register(sub: argparse._SubParsersAction) -> None:
    cmd = sub.add_parser("demo", help="generate the sample farm and materialise every asset for it")
    cmd.add_argument("--data-root", type=Path, default=Path(os.environ.get("SAQI_DATA_ROOT", "data")))
    cmd.add_argument("--farm", default=DEMO_FARM, type=farm_argument)
    cmd.add_argument("--days", type=int, default=DEMO_DAYS, help="daily irrigation partitions after the last flight")
    cmd.set_defaults(handler=run)


def _instance_home(project: Path) -> Path:
    home = Path(os.environ.setdefault("DAGSTER_HOME", str(project / ".dagster_home")))
    home.mkdir(parents=True, exist_ok=True)
    if not (home / "dagster.yaml").exists():
        shutil.copy(project / "configs" / "dagster" / "dagster.yaml", home / "dagster.yaml")
    return home


def run(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    project = Path(__file__).resolve().parents[2]
    data_root = args.data_root.resolve()
    os.environ["SAQI_DATA_ROOT"] = str(data_root)
    os.environ.setdefault("SAQI_LANDING_DIR", str(data_root / "landing"))
    home = _instance_home(project)

    from pipelines.core.config import load_farm
    from pipelines.core.keys import FlightKey
    from pipelines.synthetic import generate_farm_flights

    farm = load_farm(args.farm)
    generated = generate_farm_flights(farm, Path(os.environ["SAQI_LANDING_DIR"]), data_root / "truth")
    flights = [FlightKey.parse(g.flight) for g in generated]
    last = max(f.date for f in flights)
    days = [last + dt.timedelta(days=i) for i in range(1, args.days + 1)]
    print(f"generated {len(flights)} flights of {farm.id} in {time.perf_counter() - started:.1f} s")

    import dagster as dg

    from pipelines.core.progress import track
    from pipelines.orchestration.definitions import defs
    from pipelines.orchestration.runs import run_farm

    with dg.DagsterInstance.get() as instance:
        outcomes = run_farm(defs, instance, farm.id, flights, days, progress=track)
    failed = False
    for outcome in outcomes:
        print(f"  {outcome.stage:<20} ok: {', '.join(outcome.succeeded) or '-'}")
        for key, reason in outcome.failed.items():
            failed = True
            print(f"  {outcome.stage:<20} FAILED {key}: {reason}")
    print(f"\nZarr store : {data_root / (farm.id + '.zarr')}   "
          "(xr.open_zarr(..., group='flights/<flight>/indices', decode_coords='all'))")
    print(f"Reports    : {data_root / 'reports' / farm.id}")
    print(f"Instance   : {home}")
    print("Dagster UI : make ui   (then open http://127.0.0.1:3000)")
    print(f"demo finished in {time.perf_counter() - started:.0f} s")
    return 1 if failed else 0
