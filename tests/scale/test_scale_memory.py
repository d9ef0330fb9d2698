"""The end-to-end worker stays within a parcel window / row strip of memory on a 4 000² flight."""
from __future__ import annotations

import pytest

WHOLE_INDICES_GB = 13 * 4000 * 4000 * 4 / 1024 ** 3
"""What reading `indices.values` alone would add at 4 000² (13 float32 layers): 0.78 GB."""
UNET_RUNTIME_GB = 0.15
"""Fixed cost of segmenting with the U-Net instead of Otsu (issue 15): ONNX Runtime, its int8 session
and arena, one strip of tile probabilities; the same at any flight size."""


@pytest.mark.slow
def test_quick_scale_run_is_bounded_in_memory_and_complete():
    from benchmarks.bench_scale import run

    rows = {row["case"].split(": ", 1)[1]: row for row in run(quick=True)}
    peak = rows["peak RSS of the worker (VmHWM)"]["figure"]
    assert peak < 0.95 + UNET_RUNTIME_GB, (f"peak RSS {peak} GB: a stage holds more than a strip/window of the "
                                           "4 000² flight")
    assert peak < 0.4 + WHOLE_INDICES_GB
    total = rows["advice path, end to end (25 parcels)"]
    names = ("ingest", "indices", "segmentation", "parcel statistics", "zones", "recommendations", "reports")
    stages = [r for case, r in rows.items() if case in names]
    assert len(stages) == 7 and total["met"] is True
    both = rows[next(case for case in rows if case.startswith("parcels + zones"))]
    assert abs(both["figure"] - rows["parcel statistics"]["figure"] - rows["zones"]["figure"]) < 0.2
    assert abs(sum(r["figure"] for r in stages) - total["figure"]) < 0.5
    assert abs(sum(r["ratio"] for r in stages) - 1.0) < 0.01
    copies = rows["GIS copies (COG export, after the advice; not a stage)"]["figure"]
    assert copies > 0 and abs(rows["whole flight with its GIS copies"]["figure"] - total["figure"] - copies) < 0.2
