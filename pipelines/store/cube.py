"""The one Zarr writer and reader of the farm stores (DESIGN: Zarr contract).

A farm has one store, `<data_root>/<farm>.zarr`, a local folder or any fsspec URL (`s3://…`).
Each product is a group holding one data variable of the same name plus its coordinates
(`flights/<flight>/reflectance` holds `reflectance`, `x`, `y`, `band`, `spatial_ref`). A product
is written whole into a staging group and published (`pipelines.store.publish`): a reader
never sees half a flight, a killed writer leaves the product absent or complete, and a re-run
replaces instead of duplicating. Every published product carries a `saqi_version` stamp;
`load_product` uses it to return a consistent copy even while the product is being replaced.
"""
from __future__ import annotations

import contextlib
import time
import uuid
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import numpy as np
import xarray as xr
import zarr
from zarr.codecs import BloscCodec

from pipelines.core.grid import FarmGrid
from pipelines.core.keys import farm_id as valid_farm_id
from pipelines.store import geotiff, publish
from pipelines.store.publish import STAGING, Store, is_remote, join

__all__ = ["STAGING", "Store", "farm_store", "flight_group", "raster", "zarr_encoding", "staged_product",
           "write_product", "read_product", "load_product", "has_product", "flights_in_store", "cleanup"]
CHUNK_PX = 512
VERSION_ATTR = "saqi_version"
LOAD_ATTEMPTS = 5


def farm_store(data_root: str | Path, farm_id: str) -> Store:
    """`<data_root>/<farm>.zarr`: a Path for a local root, a URL string for an fsspec URL root."""
    name = f"{valid_farm_id(farm_id)}.zarr"
    return join(str(data_root), name) if is_remote(data_root) else Path(data_root) / name


def flight_group(flight, product: str) -> str:
    """`flights/<flight>/<product>` for a flight key (FlightKey or its string form)."""
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
    """Zarr v3 encoding of every variable: chunks (512 px in y/x, one band or index per chunk, other
    dims whole, unless `chunks` says otherwise) and zstd Blosc compression."""
    encoding = {}
    for name, var in dataset.data_vars.items():
        chunks_ = tuple(_chunk(d, n, chunks) for d, n in zip(var.dims, var.shape))
        codec = BloscCodec(cname="zstd", clevel=3, shuffle="bitshuffle" if var.dtype.itemsize > 1 else "shuffle")
        encoding[name] = {"chunks": chunks_, "compressors": [codec]}
        if "spatial_ref" in dataset.coords and var.ndim >= 2:
            encoding[name]["grid_mapping"] = "spatial_ref"
    return encoding


def _ensure_groups(store: Store, group: str) -> None:
    parts = group.split("/")[:-1]
    zarr.open_group(str(store), mode="a", zarr_format=3)
    for i in range(1, len(parts) + 1):
        zarr.open_group(str(store), path="/".join(parts[:i]), mode="a", zarr_format=3)


def _stamp(staging: Store) -> str:
    version = f"{time.time_ns()}-{uuid.uuid4().hex[:12]}"
    root = zarr.open_group(str(staging), mode="a", zarr_format=3)
    root.attrs[VERSION_ATTR] = version
    return version


def _consolidate(location: Store) -> None:
    """Write the consolidated metadata of the group at `location` (every child's metadata in its
    `zarr.json`), so `xr.open_zarr` opens it in one read and without a warning."""
    with warnings.catch_warnings():
        # zarr 3 notes that consolidated metadata is not yet part of the v3 spec; xarray reads it.
        warnings.filterwarnings("ignore", message="Consolidated metadata is currently not part", category=UserWarning)
        # `_staging` and lock files are not part of the hierarchy, and are left out.
        warnings.filterwarnings("ignore", message="Object at .* is not recognized as a component", category=UserWarning)
        zarr.consolidate_metadata(str(location), zarr_format=3)


def consolidate_store(store: Store) -> None:
    """Rebuild the root's consolidated metadata from every published product (xarray looks for it
    at the store's root, whatever group it is asked for). Writers take turns (`store_lock`), and the
    root `zarr.json` is replaced in one atomic write, so a reader sees the old or the new catalogue."""
    with publish.store_lock(store, "consolidated"):
        _consolidate(store)


@contextlib.contextmanager
def staged_product(store: Store, group: str) -> Iterator[Store]:
    """Yield a private location (Path, or URL for a remote store) to write a product's Zarr group
    into; on success stamp it with a fresh version and publish it in place of the old product.

    On success the staged group's metadata is consolidated, a flight raster product (reflectance,
    indices, classes) is also published as a Cloud-Optimized GeoTIFF from the staged group
    (`geotiff`), the group is moved into place, and the root's consolidated metadata is rebuilt.
    On an exception the staging group is removed and the published product is untouched. A
    SIGKILLed writer leaves only staging debris, removed by the next write or `cleanup`.
    """
    with publish.staging_area(store) as staging:
        yield staging
        version = _stamp(staging)
        _consolidate(staging)
        cog = geotiff.geotiff_target(group)
        if cog is not None:
            staged = xr.open_zarr(str(staging), consolidated=True, decode_coords="all")
            geotiff.write_geotiff(staged[cog[1]], geotiff.geotiff_path(store, *cog), version)
        _ensure_groups(store, group)
        publish.publish(store, staging, group)
        consolidate_store(store)


def write_product(store: Store, group: str, product: xr.DataArray | xr.Dataset,
                  chunks: dict[str, int] | None = None, compute: Callable | None = None) -> None:
    """Write one product group atomically (replace, never append or duplicate).

    Chunks: 512 px along y/x, one layer along band/index, whole along other dims unless `chunks`
    says otherwise. `compute`, when given, receives the delayed writes of a dask-backed product
    (e.g. `lambda writes: client.compute(writes, sync=True)` to run them on a cluster).
    """
    dataset = product.to_dataset() if isinstance(product, xr.DataArray) else product
    with staged_product(store, group) as staging:
        writes = dataset.to_zarr(str(staging), mode="w", consolidated=False, zarr_format=3,
                                 encoding=zarr_encoding(dataset, chunks), compute=compute is None)
        if compute is not None:
            compute(writes)


def read_product(store: Store, group: str) -> xr.Dataset:
    """Open a product group lazily (dask-backed). A lazy view is not protected against a concurrent
    replacement of the same product; use `load_product` when another run may be rewriting it."""
    return xr.open_zarr(str(store), group=group, consolidated=False, decode_coords="all")


def product_version(store: Store, group: str) -> str | None:
    """The published product's version stamp (None if absent or written before stamps existed)."""
    if not has_product(store, group):
        return None
    return zarr.open_group(str(store), path=group, mode="r", zarr_format=3).attrs.get(VERSION_ATTR)


def load_product(store: Store, group: str) -> xr.Dataset:
    """Read a whole product into memory, consistent even while another process replaces it.

    Optimistic read: the version stamp is read before and after loading; a change means the
    product was swapped mid-read and the read is repeated (bounded attempts).
    """
    for _ in range(LOAD_ATTEMPTS):
        before = product_version(store, group)
        try:
            dataset = read_product(store, group).load()
        except (FileNotFoundError, KeyError, OSError, zarr.errors.BaseZarrError):
            continue
        if before == dataset.attrs.get(VERSION_ATTR) == product_version(store, group) and has_product(store, group):
            return dataset
    raise RuntimeError(f"{join(str(store), group)}: product kept changing during {LOAD_ATTEMPTS} reads; "
                       "retry when the run rewriting it has finished")


def has_product(store: Store, group: str) -> bool:
    """True when the product `group` is published in the store (its zarr.json exists)."""
    return publish.exists(join(str(store), group, "zarr.json"))


def flights_in_store(store: Store) -> list[str]:
    """Flights holding at least one published product."""
    root = join(str(store), "flights")
    return sorted(name for name in publish.children(root)
                  if any(has_product(store,
                                     f"flights/{name}/{product}") for product in publish.children(join(root, name))))


def cleanup(store: Store, stale_after_s: float = publish.REMOTE_STALE_S) -> list[str]:
    """Remove staging debris of dead writers (local: exact, by lock; remote: older than
    `stale_after_s`). Returns what was removed."""
    return publish.cleanup(store, stale_after_s)
