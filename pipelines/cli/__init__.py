"""The `saqi` console script: one argparse tree, one module per sub-command in `pipelines.cli`.

Sub-command modules are imported when the tree is built; heavy libraries (torch, dagster) are
imported inside the handlers, so `saqi --help` stays fast.

Errors follow docs/errors.md: one line `saqi: error: <input>: <problem>; <fix>` on stderr, exit
code 2 for bad input (argparse's own usage errors too), 1 when the environment failed (disk full,
a product locked by another run) or for an unexpected error; a traceback only with `--debug`
(or SAQI_DEBUG=1). Exceptions of other libraries are translated here with the command's input
paths, as a last resort: inputs are validated where they are read.
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys
from pathlib import Path

from pipelines.core.errors import translate

OUTPUT_ARGUMENTS = ("output", "model_dir", "data_root")

COMMANDS = ("demo", "farm", "reflectance", "irrigation", "indices", "parcels", "segment", "backfill")


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="saqi", description="Drone flights to per-parcel irrigation and yield.")
    root.add_argument("--debug", action="store_true", default=os.environ.get("SAQI_DEBUG") == "1",
                      help="show the Python traceback of an error (for a bug report)")
    sub = root.add_subparsers(dest="command", required=True)
    for name in COMMANDS:
        importlib.import_module(f"pipelines.cli.{name}").register(sub)
    return root


def input_paths(args: argparse.Namespace) -> list[str]:
    """The input paths given on the command line: they name the input when an error does not."""
    found = []
    for name, value in vars(args).items():
        if name not in OUTPUT_ARGUMENTS:
            found += [str(v) for v in (value if isinstance(value, list) else [value]) if isinstance(v, Path)]
    return found


def main(argv: list[str] | None = None) -> int:
    try:
        args = parser().parse_args(argv)
    except SystemExit as usage:          # argparse's usage errors (exit 2) and --help (0), as return codes
        return int(usage.code or 0)
    try:
        return int(args.handler(args) or 0)
    except KeyboardInterrupt:
        print("saqi: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        if args.debug:
            raise
        error = translate(exc, input_paths(args))
        print(f"saqi: error: {error}", file=sys.stderr)
        return error.exit_code


def farm_argument(text: str) -> str:
    """The argparse type of `--farm`: a farm id (`keys.farm_id`), else argparse's usage error (exit 2)
    naming `--farm`, before any configuration is read."""
    from pipelines.core.errors import InputDataError
    from pipelines.core.keys import farm_id

    try:
        return farm_id(text)
    except InputDataError as error:
        raise argparse.ArgumentTypeError(f"{text!r} is not a farm id; {error.fix}") from None


def output_path(path: Path) -> Path:
    """Refuse an output (file or folder) whose parent folder does not exist, before any work is done."""
    from pipelines.core.errors import InputDataError

    if not path.parent.is_dir():
        raise InputDataError(path, f"the output folder {path.parent} does not exist",
                             "create it first or choose another -o")
    return path


def warn(text: str) -> None:
    """A named warning (suspicious but usable input, repaired and flagged) on stderr."""
    print(f"saqi: warning: {text}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
