"""`python -m benchmarks [--quick] [NAME...]`: run the benchmarks and print a Markdown table."""
from __future__ import annotations

import argparse
import importlib
import json
import pkgutil
from pathlib import Path

import benchmarks

COLUMNS = ("benchmark", "case", "figure", "unit", "baseline", "baseline_figure", "ratio", "target", "met")


def _fmt(value) -> str:
    return f"{value:.3g}" if isinstance(value, float) else str(value)


def main() -> None:
    cli = argparse.ArgumentParser(description=__doc__)
    cli.add_argument("names", nargs="*", help="benchmark modules to run (default: all)")
    cli.add_argument("--quick", action="store_true", help="smaller inputs, for a smoke run")
    cli.add_argument("--json", type=Path, help="also write the rows as JSON here")
    args = cli.parse_args()
    names = args.names or sorted(m.name[6:] for m in pkgutil.iter_modules(benchmarks.__path__)
                                 if m.name.startswith("bench_"))
    rows = []
    for name in names:
        module = importlib.import_module(f"benchmarks.bench_{name}")
        rows.extend(module.run(quick=args.quick))
    print("| " + " | ".join(COLUMNS) + " |")
    print("|" + "---|" * len(COLUMNS))
    for row in rows:
        print("| " + " | ".join(_fmt(row.get(c, "")) for c in COLUMNS) + " |")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1, default=str))


if __name__ == "__main__":
    main()
