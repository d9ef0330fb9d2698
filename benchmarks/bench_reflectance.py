"""Reflectance: calibrate + align one 5-band 1280×960 capture; stream a 5-band orthomosaic onto a farm grid.

Baselines, same run: capture = the calibration alone (alignment's cost shows as the ratio);
orthomosaic = a plain whole-array rasterio read + `reproject` (memory grows with the mosaic).
Peak memory is the process's peak RSS growth measured in a fresh subprocess per case.
"""
from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHILD = r'''
import json, resource, sys, time
import numpy as np, rasterio
from affine import Affine
from rasterio.crs import CRS
from rasterio.warp import reproject, Resampling
from pipelines.core.grid import FarmGrid
from pipelines.imagery.ingest.orthomosaic import ingest_orthomosaic
import dask.array, zarr, rioxarray, xarray  # imports are not the work measured
case, path, n, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
grid = FarmGrid(CRS.from_epsg(32629), Affine(0.25, 0, 464200.0, 0, -0.25, 3342850.0), n * 4 // 5, n * 4 // 5)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t = time.perf_counter()
if case == "stream":
    ingest_orthomosaic(path, grid, out, "flights/b/reflectance", window_px=1024)
else:
    with rasterio.open(path) as src:
        data = src.read()
        dst = np.full((data.shape[0], grid.height, grid.width), np.nan, np.float32)
        reproject(data.astype(np.float32) * 1e-4, dst, src_transform=src.transform, src_crs=src.crs,
                  dst_transform=grid.transform, dst_crs=grid.crs, resampling=Resampling.average, src_nodata=0,
                  dst_nodata=np.nan)
seconds = time.perf_counter() - t
print(json.dumps({"seconds": seconds, "peak_mb": (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024}))
'''


def _mosaic(path: Path, n: int) -> None:
    import numpy as np
    import rasterio
    from affine import Affine

    profile = dict(driver="GTiff", width=n, height=n, count=5, dtype="uint16", crs="EPSG:32629", nodata=0, tiled=True,
                   blockxsize=512, blockysize=512, compress="zstd", zstd_level=1, predictor=2,
                   transform=Affine(0.2, 0, 464200.0, 0, -0.2, 3342850.0))
    rng = np.random.default_rng(0)
    with rasterio.open(path, "w", **profile) as dst:
        for row in range(0, n, 1024):
            h = min(1024, n - row)
            block = rng.integers(200, 6000, (5, h, n), dtype=np.uint16)
            dst.write(block, window=rasterio.windows.Window(0, row, n, h))
        for i, name in enumerate(["blue", "green", "red", "rededge", "nir"]):
            dst.set_band_description(i + 1, name)
        dst.scales = (1e-4,) * 5


def _child(case: str, path: Path, n: int, out: Path) -> dict:
    done = subprocess.run([sys.executable, "-c", CHILD, case, str(path), str(n), str(out)], capture_output=True,
                          text=True,
                          check=True, cwd=Path(__file__).resolve().parents[1], timeout=600)
    return json.loads(done.stdout.strip().splitlines()[-1])


def _capture_rows(folder: Path) -> list[dict]:
    import numpy as np

    from pipelines.imagery.ingest.alignment import co_register
    from pipelines.imagery.ingest.captures import group_captures
    from pipelines.imagery.ingest.radiometry import calibrate_capture

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "radiometry"))
    import test_radiometry_micasense as builder  # the vendor-layout capture builder of the tests

    builder.SHAPE = (960, 1280)
    scene = np.random.default_rng(1).uniform(0.5, 1.5, (5, 960, 1280))
    capture = group_captures(builder.write_capture(folder, 1, scene))[0]
    t = time.perf_counter()
    result = calibrate_capture(capture)
    calibrate_s = time.perf_counter() - t
    co_register(result.reflectance, result.bands)
    total_s = time.perf_counter() - t
    return [{"benchmark": "reflectance", "case": "capture 5×1280×960 calibrate+align", "figure": round(total_s, 3),
             "unit": "s", "baseline": "calibrate only", "baseline_figure": round(calibrate_s, 3),
             "ratio": round(total_s / calibrate_s, 2), "target": "< 5 s", "met": total_s < 5}]


def run(quick: bool = False) -> list[dict]:
    n = 2000 if quick else 10_000
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        rows = _capture_rows(tmp)
        _mosaic(tmp / "ortho.tif", n)
        stream = _child("stream", tmp / "ortho.tif", n, tmp / "farm.zarr")
        whole = _child("whole", tmp / "ortho.tif", n, tmp / "unused")
    mpx = 5 * n * n / 1e6
    rows.append({"benchmark": "reflectance", "case": f"ortho 5×{n}² stream throughput",
                 "figure": round(mpx / stream["seconds"], 1),
                 "unit": "Mpx/s", "baseline": "whole-array read+reproject",
                 "baseline_figure": round(mpx / whole["seconds"], 1),
                 "ratio": round(whole["seconds"] / stream["seconds"], 2), "target": "≥ 0.5× baseline",
                 "met": stream["seconds"] <= 2 * whole["seconds"]})
    rows.append({"benchmark": "reflectance", "case": f"ortho 5×{n}² peak RSS growth",
                 "figure": round(stream["peak_mb"]),
                 "unit": "MB", "baseline": "whole-array read+reproject", "baseline_figure": round(whole["peak_mb"]),
                 "ratio": round(stream["peak_mb"] / max(whole["peak_mb"], 1), 3),
                 "target": "bounded by window (< 600 MB)", "met": stream["peak_mb"] < 600})
    return rows
