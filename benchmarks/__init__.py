"""Benchmarks: each `bench_*.py` module exposes `run(quick: bool) -> list[dict]`.

A row is {"benchmark", "case", "figure", "unit", "baseline", "baseline_figure", "ratio",
"target", "met"}: every figure is measured beside its baseline in the same run and judged as a
ratio, because this machine is shared and noisy.
"""
import statistics
import time


def median_seconds(fn, repeats: int, warmup: bool = False) -> float:
    """Median wall time of `repeats` calls of `fn` (after one untimed call when `warmup`)."""
    if warmup:
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)
