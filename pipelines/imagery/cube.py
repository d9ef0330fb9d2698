"""The one Zarr writer and reader of the farm stores (DESIGN: Zarr contract).

A farm has one store, `<data_root>/<farm>.zarr`. Each product is a group holding one data
variable of the same name plus its coordinates (`flights/<flight>/reflectance` holds the
`reflectance` variable, `x`, `y`, `band`, `spatial_ref`). A product is written whole into a
staging folder and moved into place with a rename, so a reader never sees half a flight and a
re-run replaces instead of duplicating.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import xarray as xr
import zarr
from zarr.codecs import BloscCodec

from pipelines.imagery.grid import FarmGrid

STAGING = "_staging"
CHUNK_PX = 512


def farm_store(data_root: str | Path, farm_id: str) -> Path:
    return Path(data_root) / f"{farm_id}.zarr"


def flight_group(flight: str, product: str) -> str:
    return f"flights/{flight}/{product}"


def raster(data: np.ndarray, grid: FarmGrid, name: str, layer_dim: str | None = None,
           layers: Sequence[str] | None = None, attrs: dict | None = None) -> xr.DataArray:
    """Wrap a (y, x) or (layer, y, x) array on the farm grid with CF and rioxarray coordinates."""
    import rioxarray  # noqa: F401  (registers the .rio accessor)

    coords = {"y": ("y", grid.y_coords(), {"units": "m", "standard_name": "projection_y_coordinate"}),
              "x": ("x", grid.x_coords(), {"units": "m", "standard_name": "projection_x_coordinate"})}
    dims: tuple[str, ...] = ("y", "x")
    if layer_dim is not None:
        dims = (layer_dim, "y", "x")
        coords[layer_dim] = (layer_dim, np.array(list(layers or []), dtype=object))
    array = xr.DataArray(data, dims=dims, coords=coords, name=name, attrs=dict(attrs or {}))
    array = array.rio.write_crs(grid.crs.to_wkt()).rio.write_transform(grid.transform)
    return array.rio.write_coordinate_system()


LAYER_DIMS = ("band", "index")


def _chunk(dim: str, size: int, chunks: dict[str, int] | None) -> int:
    if chunks and dim in chunks:
        return min(chunks[dim], size)
    if dim in ("y", "x"):
        return min(CHUNK_PX, size)
    return 1 if dim in LAYER_DIMS else size


def zarr_encoding(dataset: xr.Dataset, chunks: dict[str, int] | None = None) -> dict:
    encoding = {}
    for name, var in dataset.data_vars.items():
        chunks_ = tuple(_chunk(d, n, chunks) for d, n in zip(var.dims, var.shape))
        codec = BloscCodec(cname="zstd", clevel=3, shuffle="bitshuffle" if var.dtype.itemsize > 1 else "shuffle")
        encoding[name] = {"chunks": chunks_, "compressors": [codec]}
        if "spatial_ref" in dataset.coords and var.ndim >= 2:
            encoding[name]["grid_mapping"] = "spatial_ref"
    return encoding


def _ensure_groups(store: Path, group: str) -> None:
    parts = group.split("/")[:-1]
    zarr.open_group(str(store), mode="a", zarr_format=3)
    for i in range(1, len(parts) + 1):
        zarr.open_group(str(store), path="/".join(parts[:i]), mode="a", zarr_format=3)


@contextlib.contextmanager
def staged_product(store: str | Path, group: str) -> Iterator[Path]:
    """Yield a private folder to write a product's Zarr group into, then move it into place.

    On an exception the staging folder is removed and the published product is untouched.
    """
    store = Path(store)
    staging = store / STAGING / uuid.uuid4().hex
    staging.parent.mkdir(parents=True, exist_ok=True)
    try:
        yield staging
        _ensure_groups(store, group)
        target = store / group
        trash = store / STAGING / f"old-{uuid.uuid4().hex}"
        if target.exists():
            os.rename(target, trash)
        os.rename(staging, target)
        shutil.rmtree(trash, ignore_errors=True)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def write_product(store: str | Path, group: str, product: xr.DataArray | xr.Dataset,
                  chunks: dict[str, int] | None = None) -> None:
    """Write one product group atomically (replace, never append or duplicate).

    Chunks: 512 px along y/x, one layer along band/index, whole along other dims unless `chunks`
    says otherwise.
    """
    dataset = product.to_dataset() if isinstance(product, xr.DataArray) else product
    with staged_product(store, group) as staging:
        dataset.to_zarr(str(staging), mode="w", consolidated=False, zarr_format=3, encoding=zarr_encoding(dataset, chunks))


def read_product(store: str | Path, group: str) -> xr.Dataset:
    """Open a product group lazily (dask-backed)."""
    return xr.open_zarr(str(store), group=group, consolidated=False, decode_coords="all")


def has_product(store: str | Path, group: str) -> bool:
    return (Path(store) / group / "zarr.json").is_file()


def flights_in_store(store: str | Path) -> list[str]:
    root = Path(store) / "flights"
    return sorted(p.name for p in root.iterdir() if (p / "zarr.json").is_file()) if root.is_dir() else []
