"""`saqi backfill`: (re)materialise the daily irrigation assets or the flight assets of some farms
over a date range, through Dagster against the instance in $DAGSTER_HOME.

By default the backfill is recorded in the instance and run by the Dagster daemon (`make ui` or
`dagster-daemon run`), visible and retryable in the UI. `--here` runs the partitions in this
process instead: daily assets as one run per farm over the range (the assets' single-run
backfill policy, as the daemon groups them; `--workers` farms at once, default one per core),
flights one run per flight; a failed partition
does not stop the others, and the command prints how to retry just the failed ones.
"""
from __future__ import annotations

import argparse
import datetime as dt
import os

from pipelines.cli import farm_argument


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a date; use YYYY-MM-DD") from None


def _workers(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number of processes; use a whole number ≥ 1")
    return int(text)


def register(sub: argparse._SubParsersAction) -> None:
    cmd = sub.add_parser("backfill", help="materialise daily or flight assets of farms over a date range")
    cmd.add_argument("--farm", action="append", required=True, type=farm_argument,
                     help="farm id (repeat for several farms)")
    cmd.add_argument("--from", dest="start", type=_date, required=True, metavar="YYYY-MM-DD")
    cmd.add_argument("--to", dest="end", type=_date, required=True, metavar="YYYY-MM-DD")
    cmd.add_argument("--assets", choices=("daily", "flights"), default="daily",
                     help="daily: weather → ET0 → irrigation plan per farm-day; "
                          "flights: every stage of each registered flight")
    cmd.add_argument("--here", action="store_true", help="run the partitions in this process instead of via the daemon")
    cmd.add_argument("--workers", type=_workers, default=os.cpu_count() or 1, metavar="N",
                     help="with --here and daily assets: farms run side by side in N processes (default: the cores)")
    cmd.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from pipelines.core.errors import SaqiError
    from pipelines.orchestration.runs import check_date_range

    check_date_range(args.start, args.end)
    if not os.environ.get("DAGSTER_HOME"):
        raise SaqiError("DAGSTER_HOME is not set: export DAGSTER_HOME=<folder holding dagster.yaml> "
                        "(make ui / make demo use .dagster_home in the project)")
    import dagster as dg

    from pipelines.core.progress import track
    from pipelines.orchestration.definitions import defs
    from pipelines.orchestration.runs import (
        BACKFILL_ASSETS,
        backfill_keys,
        materialize_ranges,
        materialize_stage,
        submit_backfill,
    )

    with dg.DagsterInstance.get() as instance:
        keys = backfill_keys(args.assets, args.farm, args.start, args.end, instance)
        if not keys:
            print(f"nothing to backfill: no {args.assets} partition of {', '.join(args.farm)} "
                  f"in {args.start}..{args.end}")
            return 0
        title = f"{args.assets} {','.join(args.farm)} {args.start}..{args.end}"
        if not args.here:
            backfill_id = submit_backfill(defs, instance, args.assets, keys, title)
            print(f"backfill {backfill_id}: {len(keys)} partitions of {', '.join(BACKFILL_ASSETS[args.assets])} "
                  f"queued for the Dagster daemon (UI: /overview/backfills/{backfill_id})")
            return 0
        if args.assets == "daily":
            outcome = materialize_ranges(defs, f"backfill {title}", BACKFILL_ASSETS["daily"], keys, instance,
                                         progress=track, workers=args.workers)
        else:
            outcome = materialize_stage(defs, f"backfill {title}", BACKFILL_ASSETS["flights"], keys, instance,
                                        progress=track)
    print(f"{len(outcome.succeeded)} partitions succeeded, {len(outcome.failed)} failed")
    for key, reason in outcome.failed.items():
        print(f"  FAILED {key}: {reason}")
    if outcome.failed:
        print("retry one alone with the same command over its single day (--from D --to D), or re-execute it in the UI")
    return 1 if outcome.failed else 0
