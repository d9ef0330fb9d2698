"""Windowed access to raster products: read a parcel's window or a row strip straight from the
Zarr store, write a product strip by strip, so no stage holds a whole 20 000² mosaic in memory.

- `stored_array(store, flight, product)`: the product's Zarr array; slicing it (`a[:, r0:r1, c0:c1]`)
  reads only the chunks the window touches and returns a NumPy array.
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

import dask.array as da
import numpy as np
import xarray as xr
import zarr

from pipelines.core.grid import FarmGrid
from pipelines.store import cube

STRIP_PX = 1024
"""Rows per strip (a multiple of cube.CHUNK_PX, so a strip covers whole chunks)."""


def stored_array(store: cube.Store, flight, product: str) -> zarr.Array:
    """The Zarr array of `flights/<flight>/<product>` (lazy; slices return NumPy arrays)."""
    return zarr.open_group(str(store), path=cube.flight_group(flight, product), mode="r")[product]


def layer_names(store: cube.Store, flight, product: str, dim: str) -> list[str]:
    """Names along the product's layer dimension (`band` or `index`)."""
    group = zarr.open_group(str(store), path=cube.flight_group(flight, product), mode="r")
    return [str(v) for v in group[dim][:]]


class LayerStack:
    """(layer, y, x) view on `layers` (positions) of a 3-D array; `view[:, rows, cols]` reads a window."""

    def __init__(self, array, layers: Sequence[int]):
        self.array, self.layers = array, list(layers)
        self.shape = (len(self.layers), *array.shape[1:])
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
