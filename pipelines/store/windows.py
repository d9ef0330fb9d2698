"""Windowed access to raster products: read a parcel's window or a row strip straight from the
Zarr store, write a product strip by strip, so no stage holds a whole 20 000² mosaic in memory.

- `stored_array(store, flight, product)`: the product's Zarr array (as `ChunkWindows`); slicing it
  (`a[:, r0:r1, c0:c1]`) reads only the chunks the window touches and returns a NumPy array.
- `LayerStack(array, layers)`: a (layer, y, x) view on some layers of a 3-D product (e.g. NDVI
  only) with the same slicing (`[:, rows, cols]`, or `[k, rows, cols]` for its k-th layer);
  `plane(array, layer)` a (y, x) view on one layer.
- `staged_raster(...)`: a context manager yielding a writable Zarr array with the layout of
  `cube.raster` + `cube.write_product` (same coordinates, CRS, chunks, codec); on success the
  product is published atomically like `cube.write_product`.
"""
from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from pathlib import Path

import dask.array as da
import numcodecs
import numpy as np
import xarray as xr
import zarr
from zarr.codecs import BloscCodec, BytesCodec
from zarr.storage import LocalStore

from pipelines.core.grid import FarmGrid
from pipelines.store import cube

STRIP_PX = 1024
"""Rows per strip (a multiple of cube.CHUNK_PX, so a strip covers whole chunks)."""


def stored_array(store: cube.Store, flight, product: str) -> ChunkWindows:
    """The Zarr array of `flights/<flight>/<product>` (lazy; slices return NumPy arrays)."""
    return ChunkWindows(zarr.open_group(str(store), path=cube.flight_group(flight, product), mode="r")[product])


class ChunkWindows:
    """A read-only Zarr array whose rectangular windows (`a[k, r0:r1, c0:c1]`, ints and unit-step
    slices) are decoded chunk by chunk in the calling thread, straight from a local store's files.

    Why: the products are Blosc-compressed chunks of a `LocalStore` (the layout `cube.zarr_encoding`
    writes), and zarr-python 3 routes every chunk of a window through its asyncio loop and thread
    pool: at 5 cm a parcel window decoded at ~0.5 GB/s on 2 cores that way, ~0.9 GB/s in one thread
    with `numcodecs.Blosc` on the chunk files (Blosc frames carry their own parameters). Values are
    the same bytes: missing chunks take the array's fill value, as zarr gives them. Any other
    layout, selection or attribute goes to the Zarr array itself.
    """

    def __init__(self, array: zarr.Array):
        self.array = array
        self.shape, self.ndim, self.dtype, self.chunks = array.shape, array.ndim, array.dtype, array.chunks
        self._root, self._fill = _chunk_root(array), array.fill_value
        self._codec = numcodecs.Blosc()

    def __getattr__(self, name):
        if name == "array":  # not yet set (unpickling)
            raise AttributeError(name)
        return getattr(self.array, name)

    def __array__(self, dtype=None, copy=None):
        return np.asarray(self.array[...], dtype=dtype)

    def __getitem__(self, key):
        window = _window(key, self.shape) if self._root is not None else None
        if window is None:
            return self.array[key]
        bounds, squeeze = window
        out = np.empty([hi - lo for lo, hi in bounds], self.dtype)
        for index, chunk_box in _chunks_touched(bounds, self.chunks):
            _copy_chunk(out, bounds, chunk_box, self._read(index), self._fill)
        return out.reshape([n for n, drop in zip(out.shape, squeeze) if not drop])

    def _read(self, index: tuple[int, ...]) -> np.ndarray | None:
        """Chunk `index` decoded ((chunk shape) array), or None when it was never written (fill value)."""
        path = self._root / self.array.metadata.encode_chunk_key(index)
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return None
        return np.frombuffer(self._codec.decode(raw), self.dtype).reshape(self.chunks)


def _chunk_root(array: zarr.Array) -> Path | None:
    """Folder of the array's chunk files when they can be decoded directly: Zarr v3 on a local store,
    a regular chunk grid and the codecs [bytes (little-endian or 1 byte), blosc]; else None."""
    metadata = array.metadata
    store = array.store_path.store
    codecs = getattr(metadata, "codecs", ())
    simple = (getattr(metadata, "zarr_format", 2) == 3 and isinstance(store, LocalStore) and len(codecs) == 2
              and isinstance(codecs[0], BytesCodec) and isinstance(codecs[1], BloscCodec)
              and array.dtype.isnative and (array.dtype.itemsize == 1 or array.dtype.byteorder in "=<"))
    return Path(store.root) / array.store_path.path if simple else None


def _window(key, shape: tuple[int, ...]) -> tuple[list[tuple[int, int]], list[bool]] | None:
    """(lo, hi) per axis and which axes an int index drops; None unless `key` is ints and unit-step slices."""
    key = key if isinstance(key, tuple) else (key,)
    if len(key) > len(shape):
        return None
    key = key + (slice(None),) * (len(shape) - len(key))
    bounds, squeeze = [], []
    for k, n in zip(key, shape):
        if isinstance(k, (int, np.integer)) and not isinstance(k, bool) and -n <= k < n:
            bounds.append((int(k) % n, int(k) % n + 1))
            squeeze.append(True)
        elif isinstance(k, slice) and k.step in (None, 1):
            lo, hi, _ = k.indices(n)
            bounds.append((lo, max(lo, hi)))
            squeeze.append(False)
        else:
            return None
    return bounds, squeeze


def _chunks_touched(bounds: list[tuple[int, int]], chunks: tuple[int, ...]):
    """(chunk index, [(lo, hi) of that chunk per axis]) of every chunk a window touches."""
    ranges = [range(lo // c, -(-hi // c)) for (lo, hi), c in zip(bounds, chunks)]
    for index in np.ndindex(*[len(r) for r in ranges]):
        chunk = tuple(r[i] for r, i in zip(ranges, index))
        yield chunk, [(i * c, (i + 1) * c) for i, c in zip(chunk, chunks)]


def _copy_chunk(out: np.ndarray, bounds, chunk_box, values: np.ndarray | None, fill) -> None:
    """Copy the part of a decoded chunk (None: never written) that lies in the window into `out`."""
    inner = tuple(slice(max(lo, clo) - clo, min(hi, chi) - clo) for (lo, hi), (clo, chi) in zip(bounds, chunk_box))
    outer = tuple(slice(max(lo, clo) - lo, min(hi, chi) - lo) for (lo, hi), (clo, chi) in zip(bounds, chunk_box))
    out[outer] = values[inner] if values is not None else fill


def layer_names(store: cube.Store, flight, product: str, dim: str) -> list[str]:
    """Names along the product's layer dimension (`band` or `index`)."""
    group = zarr.open_group(str(store), path=cube.flight_group(flight, product), mode="r")
    return [str(v) for v in group[dim][:]]


class LayerStack:
    """(layer, y, x) view on `layers` (positions) of a 3-D array; `view[:, rows, cols]` reads a window."""

    def __init__(self, array, layers: Sequence[int]):
        self.array, self.layers = array, list(layers)
        self.shape = (len(self.layers), *array.shape[1:])
        self.chunks = (1, *array.chunks[1:]) if getattr(array, "chunks", None) else None
        self.ndim = 3
        self.dtype = array.dtype

    def __getitem__(self, key):
        if isinstance(key, tuple) and len(key) == 3 and isinstance(key[0], (int, np.integer)):
            return np.asarray(self.array[self.layers[key[0]], key[1], key[2]])
        if not (isinstance(key, tuple) and len(key) == 3 and key[0] == slice(None)):
            raise IndexError("LayerStack supports [:, rows, cols] and [layer, rows, cols] windows only")
        return np.stack([np.asarray(self.array[i, key[1], key[2]]) for i in self.layers])

    def __iter__(self):
        return (plane(self.array, i) for i in self.layers)


class plane:  # noqa: N801  (reads like a function: plane(array, 3))
    """(y, x) view on one layer of a 3-D array; `view[rows, cols]` reads a window."""

    def __init__(self, array, layer: int):
        self.array, self.layer = array, layer
        self.shape = tuple(array.shape[1:])
        self.ndim = 2
        self.dtype = array.dtype

    def __getitem__(self, key):
        return np.asarray(self.array[(self.layer, *key)])


@contextlib.contextmanager
def staged_raster(store: cube.Store, group: str, grid: FarmGrid, name: str, dtype, fill_value=0,
                  layer_dim: str | None = None, layers: Sequence[str] | None = None,
                  attrs: dict | None = None) -> Iterator[zarr.Array]:
    """Yield the writable Zarr array of a new product on `grid` (coordinates and encoding as
    `cube.write_product` writes them); the product is published when the block exits cleanly."""
    shape = (grid.height, grid.width) if layer_dim is None else (len(layers or []), grid.height, grid.width)
    chunks = tuple(1 if i == 0 and layer_dim else min(cube.CHUNK_PX, n) for i, n in enumerate(shape))
    lazy = da.full(shape, fill_value, dtype=dtype, chunks=chunks)
    template = cube.raster(lazy, grid, name, layer_dim=layer_dim, layers=layers, attrs=attrs).to_dataset()
    with staged_template(store, group, template, name) as array:
        yield array


@contextlib.contextmanager
def staged_template(store: cube.Store, group: str, template: xr.Dataset, name: str) -> Iterator[zarr.Array]:
    """Yield the writable Zarr array `name` of a new product laid out as `template` (a Dataset of
    lazy dask arrays giving shape, dtype, coordinates and attributes; its values are not written);
    the product is published (`cube.staged_product`) when the block exits cleanly.

    Args:
        store: the farm store.
        group: the product group, e.g. `flights/<flight>/reflectance`.
        template: the product's layout, e.g. `cube.raster(da.full(...), grid, ...)` plus coordinates.
        name: the data variable to yield, written window by window by the caller.
    """
    with cube.staged_product(store, group) as staging:
        template.to_zarr(str(staging), mode="w", compute=False, consolidated=False, zarr_format=3,
                         encoding=cube.zarr_encoding(template))
        yield zarr.open_group(str(staging), mode="r+")[name]


def value_counts(source, strip_px: int = STRIP_PX) -> np.ndarray:
    """Pixel count of each uint8 value (256 entries) of a (y, x) source, read strip by strip."""
    counts = np.zeros(256, np.int64)
    for top in range(0, source.shape[0], strip_px):
        counts += np.bincount(np.asarray(source[top:top + strip_px, :]).ravel(), minlength=256)
    return counts
