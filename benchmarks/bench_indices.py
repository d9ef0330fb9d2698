"""Vegetation-index kernel speed and streaming memory (issue 4), each figure beside its baseline.

Cases: NDVI over a 10 000² float32 pair (GB/s of input+output traffic) for the project kernel,
plain NumPy, numexpr with 2 threads (the baseline), spyndex and xarray-spatial (if installed);
a bundle of 10 indices against a numexpr loop with preallocated float32 outputs; streaming a
20 000² 5-band reflectance mosaic from Zarr to the indices product with peak RSS < 2 GB.
"""
from __future__ import annotations

import subprocess
import sys

import numexpr
import numpy as np

from benchmarks import median_seconds

BUNDLE = ["ndvi", "ndre", "gndvi", "savi", "osavi", "msavi2", "evi2", "cire", "cig", "mcari2"]
ROLES = ["blue", "green", "red", "rededge", "nir"]


def _median_s(fn, repeats: int) -> float:
    return median_seconds(fn, repeats, warmup=True)


def _row(case, figure, unit, baseline, baseline_figure, ratio, target, met):
    return {"benchmark": "indices", "case": case, "figure": figure, "unit": unit, "baseline": baseline,
            "baseline_figure": baseline_figure, "ratio": ratio, "target": target, "met": met}


def _ndvi_rows(n: int, repeats: int) -> list[dict]:
    import spyndex

    from pipelines.imagery.indices.kernel import compute_indices

    rng = np.random.default_rng(0)
    pair = rng.uniform(0.02, 0.6, (2, n, n)).astype(np.float32)
    red, nir = pair
    out = np.zeros((1, n, n), np.float32)
    gigabytes = 3 * pair[0].nbytes / 1e9
    timings = {
        "numexpr 2 threads": lambda: numexpr.evaluate("(nir - red) / (nir + red)", local_dict={"nir": nir, "red": red},
                                                      out=out[0]),
        "project kernel": lambda: compute_indices(pair, ["red", "nir"], ["ndvi"], out=out),
        "numpy plain": lambda: (nir - red) / (nir + red),
        "spyndex": lambda: spyndex.computeIndex("NDVI", params={"N": nir, "R": red}),
    }
    seconds = {name: _median_s(fn, repeats) for name, fn in timings.items()}
    base = gigabytes / seconds["numexpr 2 threads"]
    rows = []
    for name, s in seconds.items():
        rate = gigabytes / s
        target = ">= 0.8" if name == "project kernel" else ""
        met = rate / base >= 0.8 if name == "project kernel" else ""
        rows.append(_row(f"ndvi {n}² {name}", rate, "GB/s", "numexpr 2 threads", base, rate / base, target, met))
    try:
        import xrspatial  # noqa: F401
    except ImportError:
        rows.append(_row(f"ndvi {n}² xarray-spatial", "not measured", "", "numexpr 2 threads", base, "",
                         "", "xarray-spatial not installed"))
    return rows


def _bundle_rows(n: int, repeats: int) -> list[dict]:
    import spyndex

    from pipelines.imagery.indices.catalogue import index_catalogue
    from pipelines.imagery.indices.kernel import compute_indices

    catalogue = index_catalogue()
    rng = np.random.default_rng(1)
    lows, highs = [0.01, 0.03, 0.01, 0.1, 0.25], [0.08, 0.15, 0.12, 0.3, 0.6]
    reflectance = np.stack([rng.uniform(lo, hi, (n, n)) for lo, hi in zip(lows, highs)]).astype(np.float32)
    bands = dict(zip(ROLES, reflectance))
    out = np.zeros((len(BUNDLE), n, n), np.float32)

    def numexpr_loop():
        for k, name in enumerate(BUNDLE):
            spec = catalogue[name]
            local = {b: bands[b] for b in spec.bands} | {c: np.float32(v) for c, v in spec.constants.items()}
            numexpr.evaluate(_float32_literals(spec.formula, local), local_dict=local, out=out[k])

    letters = {"blue": "B", "green": "G", "red": "R", "rededge": "RE1", "nir": "N"}
    params = {letters[r]: a for r, a in bands.items()} | {"L": 1.0, "g": 2.5}
    seconds = {"numexpr loop": _median_s(numexpr_loop, repeats),
               "project bundle": _median_s(lambda: compute_indices(reflectance, ROLES, BUNDLE, out=out), repeats),
               "spyndex": _median_s(lambda: spyndex.computeIndex([catalogue[b].spyndex for b in BUNDLE], params=params),
                                    1)}
    base = seconds["numexpr loop"]
    return [_row(f"10-index bundle {n}² {name}", s, "s", "numexpr loop, float32 constants", base, s / base,
                 "<= 1.2" if name == "project bundle" else "", (s / base <= 1.2) if name == "project bundle" else "")
            for name, s in seconds.items()]


def _float32_literals(formula: str, local: dict) -> str:
    """Rewrite number literals as float32 variables (the fair numexpr baseline of issue 4)."""
    import ast

    class Literals(ast.NodeTransformer):
        def visit_BinOp(self, node):
            self.generic_visit(node)
            return node

        def visit_Constant(self, node):
            name = f"k{len(local)}"
            local[name] = np.float32(node.value)
            return ast.Name(name, ast.Load())

    tree = ast.parse(formula, mode="eval")
    for node in ast.walk(tree):
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow):
            node.right = ast.Name(f"POW{node.right.value}", ast.Load()) if isinstance(node.right,
                                                                                      ast.Constant) else node.right
    text = ast.unparse(Literals().visit(tree))
    return text.replace("POW2", "2")


STREAM_SCRIPT = r"""
import sys, time, tempfile
import numpy as np, dask.array as da, zarr
from pipelines.store import cube
from pipelines.core.grid import FarmGrid
from pipelines.imagery.indices.product import write_index_product
from affine import Affine
from rasterio.crs import CRS
n = int(sys.argv[1])
grid = FarmGrid(CRS.from_epsg(32629), Affine(0.25, 0, 400000, 0, -0.25, 3400000), n, n)
roles = ["blue", "green", "red", "rededge", "nir"]
root = sys.argv[2]
store = cube.farm_store(root, "bench")
if sys.argv[3] == "make":
    group = cube.flight_group("f", "reflectance")
    lazy = da.zeros((5, n, n), dtype=np.float32, chunks=(1, 512, 512))
    template = cube.raster(lazy, grid, "reflectance", layer_dim="band", layers=roles).to_dataset()
    with cube.staged_product(store, group) as staging:
        template.to_zarr(str(staging), mode="w", compute=False, consolidated=False, zarr_format=3,
                         encoding=cube.zarr_encoding(template))
        target = zarr.open_group(str(staging), mode="r+")["reflectance"]
        x = np.linspace(0, 40, n, dtype=np.float32)
        base = np.array([0.04, 0.08, 0.06, 0.2, 0.4], np.float32)[:, None, None]
        for top in range(0, n, 512):
            y = np.arange(top, min(n, top + 512), dtype=np.float32)[:, None] / 37.0
            canopy = 0.5 + 0.5 * np.sin(x[None, :] + y)
            target[:, top:top + len(y), :] = base * (0.5 + canopy[None])
else:
    def peak_gb():  # VmHWM: this process's own peak (ru_maxrss keeps the parent's peak across exec)
        line = next(l for l in open("/proc/self/status") if l.startswith("VmHWM:"))
        return int(line.split()[1]) / 1e6
    rss_before = peak_gb()
    start = time.perf_counter()
    summary = write_index_product(store, "f")
    seconds = time.perf_counter() - start
    print(seconds, len(summary.names), peak_gb(), rss_before)
"""


def _stream_rows(n: int) -> list[dict]:
    import tempfile

    with tempfile.TemporaryDirectory() as root:  # input written by one process, streamed by a fresh one
        subprocess.run([sys.executable, "-c", STREAM_SCRIPT, str(n), root, "make"], check=True)
        done = subprocess.run([sys.executable, "-c", STREAM_SCRIPT, str(n), root, "stream"],
                              capture_output=True, text=True, check=True)
    seconds, count, peak_gb, before_gb = done.stdout.split()
    pixels_s = n * n / float(seconds) / 1e6
    return [_row(f"stream {n}² 5-band Zarr -> {count} indices, peak RSS", float(peak_gb), "GB",
                 "RSS after imports", float(before_gb), "", "< 2", float(peak_gb) < 2.0),
            _row(f"stream {n}² 5-band Zarr -> {count} indices, throughput", pixels_s, "Mpx/s", "", "", "", "", "")]


def run(quick: bool = False) -> list[dict]:
    n, repeats = (1000, 3) if quick else (10_000, 5)
    return _ndvi_rows(n, repeats) + _bundle_rows(n // 2 if not quick else n,
                                                 3) + _stream_rows(2000 if quick else 20_000)
