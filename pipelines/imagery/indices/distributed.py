"""Vegetation indices of a flight computed on a Dask `distributed` cluster, chunk by chunk.

Each task reads one 512 × 512 chunk of every band from the farm store, computes the indices with
the same kernel as the in-process path (`pipelines.imagery.indices.kernel.compute_indices`) and writes
its chunk of the staged product; the product is then published like any other
(`cube.staged_product`). The workers must reach the store: a shared folder or an object store URL.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from pipelines.core.errors import InputDataError
from pipelines.imagery.indices.catalogue import index_catalogue
from pipelines.imagery.indices.kernel import computable_indices, compute_indices
from pipelines.imagery.indices.product import (
    PRODUCT,
    IndexProductSummary,
    _attrs,
    _grid_of,
)
from pipelines.imagery.indices.rgb import index_inputs
from pipelines.store import cube


def _index_block(block: np.ndarray, band_names: Sequence[str], names: Sequence[str], calibrated: bool) -> np.ndarray:
    block = np.ascontiguousarray(block, dtype=np.float32)
    inputs, _ = index_inputs(block, band_names, calibrated)  # chromatic coordinates for RGB DN, as in-process
    return compute_indices(inputs, band_names, names).values


def write_index_product_distributed(store: cube.Store, flight: str, client,
                                    names: Sequence[str] | None = None) -> IndexProductSummary:
    """Publish `flights/<flight>/indices` computed on the cluster behind `client` (a
    `distributed.Client`); values equal `index_product.write_index_product` bit for bit."""
    source_group = cube.flight_group(flight, "reflectance")
    if not cube.has_product(store, source_group):
        raise InputDataError(cube.join(str(store), source_group), "no reflectance product for this flight",
                             "run the reflectance step for the flight first")
    dataset = cube.read_product(store, source_group)
    band_names = [str(b) for b in dataset["band"].values]
    catalogue = index_catalogue()
    ok, skipped = computable_indices(band_names, names, catalogue)
    if not ok:
        raise InputDataError(cube.join(str(store), source_group), f"no requested index can be computed: {skipped}",
                             "request indices the flight's bands allow or add the missing bands")
    calibrated = bool(dataset["reflectance"].attrs.get("calibrated", True))
    _, computed_on = index_inputs(np.zeros((len(band_names), 1, 1), np.float32), band_names, calibrated)
    bands = dataset["reflectance"].data.rechunk({0: -1})
    values = bands.map_blocks(_index_block, band_names, ok, calibrated, dtype=np.float32,
                              chunks=((len(ok),), *bands.chunks[1:])).rechunk({0: 1})
    product = cube.raster(values, _grid_of(dataset), PRODUCT, layer_dim="index", layers=ok,
                          attrs=_attrs(ok, skipped, catalogue, computed_on)).to_dataset()
    group = cube.flight_group(flight, PRODUCT)
    cube.write_product(store, group, product, compute=lambda writes: client.compute(writes, sync=True))
    return IndexProductSummary(group, ok, skipped, computed_on)
