"""The `saqi` console script: one argparse tree, one module per sub-command in `pipelines.cli`.

Sub-command modules are imported when the tree is built; heavy libraries (torch, dagster) are
imported inside the handlers, so `saqi --help` stays fast.
"""
from __future__ import annotations

import argparse
import importlib
import sys

from pipelines.core.errors import SaqiError

COMMANDS = ("demo", "farm", "reflectance", "irrigation", "indices", "parcels", "segment", "backfill")


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="saqi", description="Drone flights to per-parcel irrigation and yield.")
    sub = root.add_subparsers(dest="command", required=True)
    for name in COMMANDS:
        importlib.import_module(f"pipelines.cli.{name}").register(sub)
    return root


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except SaqiError as exc:
        print(f"saqi: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
