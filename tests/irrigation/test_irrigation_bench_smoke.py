"""The water-balance benchmark's quick mode runs and its vectorised result equals pyfao56's."""
from __future__ import annotations

from benchmarks import bench_water_balance


def test_quick_benchmark_rows():
    rows = bench_water_balance.run(quick=True)
    assert len(rows) == 2
    for row in rows:
        assert row["figure"] > 0 and row["baseline_figure"] > 0
        assert float(row["case"].split("ΔDr vs pyfao56 ")[1].split()[0]) < 0.1
