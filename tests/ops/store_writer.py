"""Subprocess helper for the crash-safety tests: writes flight products into a farm store.

usage: store_writer.py STORE FLIGHT VALUE [--repeat N] [--slow SECONDS_PER_STRIP]
--slow writes the reflectance strip by strip through `cube.staged_product`, printing
"writing" after the first strip, so the parent can SIGKILL it mid-write.
"""
from __future__ import annotations

import argparse
import sys
import time

import numpy as np
import zarr

from pipelines.core.config import load_farm
from pipelines.core.grid import FarmGrid
from pipelines.store import cube

BANDS = ["red", "nir"]
WIDTH_PX, HEIGHT_PX = 1024, 768  # a corner of the farm grid: 2 x 2 chunks of 512 px, 6 MB per product


def product(grid: FarmGrid, value: float):
    return cube.raster(np.full((len(BANDS), *grid.shape), value, dtype="float32"), grid, "reflectance", "band", BANDS)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("store")
    parser.add_argument("flight")
    parser.add_argument("value", type=float)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--slow", type=float, default=0.0)
    args = parser.parse_args()
    farm = FarmGrid.of_farm(load_farm("chtouka"))
    grid = FarmGrid(farm.crs, farm.transform, WIDTH_PX, HEIGHT_PX)
    group = cube.flight_group(args.flight, "reflectance")
    if not args.slow:
        for i in range(args.repeat):
            cube.write_product(args.store, group, product(grid, args.value + (i % 2) * 0.1))
        return 0
    dataset = product(grid, args.value).to_dataset()
    with cube.staged_product(args.store, group) as staging:
        dataset.to_zarr(str(staging), mode="w", compute=False, consolidated=False, zarr_format=3,
                        encoding=cube.zarr_encoding(dataset))
        target = zarr.open_array(str(staging), path="reflectance", mode="r+", zarr_format=3)
        for top in range(0, grid.height, cube.CHUNK_PX):
            target[:, top:top + cube.CHUNK_PX, :] = args.value
            print("writing", flush=True)
            time.sleep(args.slow)
    return 0


if __name__ == "__main__":
    sys.exit(main())
