"""Benchmarks: each `bench_*.py` module exposes `run(quick: bool) -> list[dict]`.

A row is {"benchmark", "case", "figure", "unit", "baseline", "baseline_figure", "ratio",
"target", "met"}: every figure is measured beside its baseline in the same run and judged as a
ratio, because this machine is shared and noisy.
"""
