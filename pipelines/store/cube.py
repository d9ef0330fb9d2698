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

from pipelines.core.errors import StoreError, disk_full
from pipelines.core.grid import FarmGrid
from pipelines.core.keys import farm_id as valid_farm_id
from pipelines.store import publish
from pipelines.store.lock import product_lock, writer_active
from pipelines.store.publish import STAGING, Store, is_remote, join
from pipelines.store.templated import Template

__all__ = ["STAGING", "Store", "farm_store", "flight_group", "raster", "zarr_encoding", "staged_product",
           "write_product", "read_product", "load_product", "has_product", "flights_in_store", "cleanup"]
CHUNK_PX = 512
VERSION_ATTR = "saqi_version"
LOAD_ATTEMPTS = 5
READ_WAIT_S = 5.0
"""How long a reader waits for a product that is absent while its writer holds the lock (publishing)."""


def farm_store(data_root: str | Path, farm_id: str) -> Store:
    """`<data_root>/<farm>.zarr`: a Path for a local root, a URL string for an fsspec URL root."""
    name = f"{valid_farm_id(farm_id)}.zarr"
    return join(str(data_root), name) if is_remote(data_root) else Path(data_root) / name


def flight_group(flight, product: str) -> str:
    """`flights/<flight>/<product>` for a flight key (FlightKey or its string form)."""
    return f"flights/{flight}/{product}"


def raster(data: np.ndarray, grid: FarmGrid, name: str, layer_dim: str | None = None,
           layers: Sequence[str] | None = None, attrs: dict | None = None) -> xr.DataArray:
    """Wrap a (y, x) or (layer, y, x) array on the farm grid with CF and rioxarray coordinates.

    The result holds `data` itself, as `xr.DataArray(data)` does: the CRS and transform are written
    in place on the new DataArray (rioxarray's default copies it deeply at each of the three writes,
    three copies of a 400 MB rank raster at 20 000²)."""
    import rioxarray  # noqa: F401  (registers the .rio accessor)

    coords = {"y": ("y", grid.y_coords(), {"units": "m", "standard_name": "projection_y_coordinate"}),
              "x": ("x", grid.x_coords(), {"units": "m", "standard_name": "projection_x_coordinate"})}
    dims: tuple[str, ...] = ("y", "x")
    if layer_dim is not None:
        dims = (layer_dim, "y", "x")
        coords[layer_dim] = (layer_dim, np.array(list(layers or []), dtype=object))
    array = xr.DataArray(data, dims=dims, coords=coords, name=name, attrs=dict(attrs or {}))
    array.rio.write_crs(grid.crs.to_wkt(), inplace=True).rio.write_transform(grid.transform, inplace=True)
    return array.rio.write_coordinate_system(inplace=True)


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


def _ensure_group(store: Store, path: str) -> None:
    """Open or create the group at `path`; another writer creating it at the same moment is fine
    (zarr's mode "a" checks, then creates: the loser of that race sees ContainsGroupError)."""
    try:
        zarr.open_group(str(store), path=path or None, mode="a", zarr_format=3)
    except zarr.errors.ContainsGroupError:
        zarr.open_group(str(store), path=path or None, mode="r", zarr_format=3)


def _ensure_groups(store: Store, group: str) -> None:
    parts = group.split("/")[:-1]
    _ensure_group(store, "")
    for i in range(1, len(parts) + 1):
        _ensure_group(store, "/".join(parts[:i]))


def _new_version() -> str:
    return f"{time.time_ns()}-{uuid.uuid4().hex[:12]}"


def _stamp(staging: Store) -> str:
    version = _new_version()
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
def staged_product(store: Store, group: str, *, locked: bool = False, catalogue: bool = True,
                   version: str | None = None, on_staged: Callable[[Store], None] | None = None) -> Iterator[Store]:
    """Yield a private location (Path, or URL for a remote store) to write a product's Zarr group
    into; on success stamp it with a fresh version and publish it in place of the old product.

    The product's exclusive write lock (`pipelines.store.lock`) is held from staging to publication
    (`locked=True`: the caller already holds it, e.g. for a read-modify-write).
    On success the staged group's metadata is consolidated, the group is moved into place, and the
    root's consolidated metadata is rebuilt. (The GIS copies of flight rasters are exported from
    the published product afterwards: `geotiff.export_flight`, the `flight_geotiffs` asset.)
    `catalogue=False`: the parent groups exist already and the caller rebuilds the root's
    consolidated metadata itself (`write_products`, once for many products).
    `version`: the caller staged the group already stamped with it and consolidated (`templated`).
    `on_staged`: called with the staging location of the finished group, just before publication.
    On an exception the staging group is removed and the published product is untouched. A
    SIGKILLed writer leaves only staging debris, removed by the next write or `cleanup`.
    On a full disk the error is a named `StoreError`.
    """
    with contextlib.nullcontext() if locked else product_lock(store, group), publish.staging_area(store) as staging:
        try:
            yield staging
            if version is None:
                version = _stamp(staging)
                _consolidate(staging)
            if on_staged is not None:
                on_staged(staging)
            if catalogue:
                _ensure_groups(store, group)
            publish.publish(store, staging, group)
            if catalogue:
                consolidate_store(store)
        except Exception as exc:   # a full disk reaches us as OSError(ENOSPC), or wrapped by a library
            if disk_full(exc, None if is_remote(store) else Path(store), _staged_bytes(staging)):
                raise StoreError(join(str(store), group), "no space left on the device while writing; the published "
                                 "product is unchanged and the staging folder is removed",
                                 "free disk space (or raise the quota) and run again") from exc
            raise


def _staged_bytes(staging: Store) -> int:
    """Bytes of a local staged product (the room another copy of it needs); 0 for object stores."""
    staged = Path(staging) if not is_remote(staging) else None
    return sum(f.stat().st_size for f in staged.rglob("*") if f.is_file()) if staged and staged.is_dir() else 0


def write_product(store: Store, group: str, product: xr.DataArray | xr.Dataset, chunks: dict[str, int] | None = None,
                  compute: Callable | None = None, *, locked: bool = False, catalogue: bool = True,
                  on_staged: Callable[[Store], None] | None = None) -> None:
    """Write one product group atomically (replace, never append or duplicate).

    Chunks: 512 px along y/x, one layer along band/index, whole along other dims unless `chunks`
    says otherwise. `compute`, when given, receives the delayed writes of a dask-backed product
    (e.g. `lambda writes: client.compute(writes, sync=True)` to run them on a cluster).
    """
    dataset = product.to_dataset() if isinstance(product, xr.DataArray) else product
    with staged_product(store, group, locked=locked, catalogue=catalogue, on_staged=on_staged) as staging:
        writes = dataset.to_zarr(str(staging), mode="w", consolidated=False, zarr_format=3,
                                 encoding=zarr_encoding(dataset, chunks), compute=compute is None)
        if compute is not None:
            compute(writes)


def write_products(store: Store, products: dict[str, xr.DataArray | xr.Dataset]) -> None:
    """Write many small product groups (e.g. a backfill's daily zone plans), each replaced atomically
    as `write_product` does, with the parent groups made once and the root's consolidated metadata
    rebuilt once after the last (also when one fails): a store-wide rebuild per product made a
    season of daily groups quadratic in time. On a local store, a product with the layout of the
    first one is staged as a copy of its files with its own data and attributes (`templated`)."""
    for parent in {g.rpartition("/")[0] for g in products}:
        _ensure_groups(store, f"{parent}/product")  # the groups above any product under `parent`
    templates: list[Template] = []
    try:
        for group, product in products.items():
            dataset = product.to_dataset() if isinstance(product, xr.DataArray) else product
            if templates and templates[0].fits(dataset):
                _write_templated(store, group, dataset, templates[0])
            elif templates or is_remote(store):
                write_product(store, group, dataset, catalogue=False)
            else:  # the first product: its staged files are the template of the next ones
                write_product(store, group, dataset, catalogue=False, on_staged=_keep_template(dataset, templates))
    finally:
        if products:
            consolidate_store(store)


def _keep_template(dataset: xr.Dataset, templates: list[Template]) -> Callable[[Store], None]:
    """A `staged_product` hook appending the template of `dataset`'s staged group (if it has one) to `templates`."""
    def keep(staging: Store) -> None:
        templates.extend(filter(None, [Template.of(Path(staging), dataset, VERSION_ATTR)]))
    return keep


def _write_templated(store: Store, group: str, dataset: xr.Dataset, template: Template) -> None:
    """Stage `dataset` from `template`'s files, stamped with a fresh version, and publish it."""
    version = _new_version()
    with staged_product(store, group, catalogue=False, version=version) as staging:
        template.stage(Path(staging), dataset, version)


def read_product(store: Store, group: str, **open_options) -> xr.Dataset:
    """Open a product group lazily (dask-backed). An open that finds the product absent while its
    writer holds the lock (the instant of the swap) is retried for up to READ_WAIT_S. A lazy view
    is not protected against a later replacement; use `load_product` when another run may be
    rewriting it."""
    deadline = time.monotonic() + READ_WAIT_S
    while True:
        try:
            return xr.open_zarr(str(store), group=group, consolidated=False, **{"decode_coords": "all", **open_options})
        except (FileNotFoundError, KeyError, zarr.errors.BaseZarrError):
            if time.monotonic() >= deadline or not writer_active(store, group):
                raise
            time.sleep(0.02)


def product_version(store: Store, group: str) -> str | None:
    """The published product's version stamp (None if absent or written before stamps existed)."""
    if not has_product(store, group):
        return None
    return zarr.open_group(str(store), path=group, mode="r", zarr_format=3).attrs.get(VERSION_ATTR)


def load_product(store: Store, group: str, **open_options) -> xr.Dataset:
    """Read a whole product into memory, consistent even while another process replaces it.

    Optimistic read: the version stamp is read before and after loading; a change means the
    product was swapped mid-read and the read is repeated (bounded attempts). `open_options` go to
    `xarray.open_zarr` (e.g. decode_times=False to rewrite a product as stored).
    """
    for _ in range(LOAD_ATTEMPTS):
        before = product_version(store, group)
        try:
            dataset = read_product(store, group, **open_options).load()
        except (FileNotFoundError, KeyError, OSError, zarr.errors.BaseZarrError):
            continue
        if before == dataset.attrs.get(VERSION_ATTR) == product_version(store, group) and has_product(store, group):
            return dataset
    raise StoreError(join(str(store), group), f"the product kept changing during {LOAD_ATTEMPTS} reads",
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
