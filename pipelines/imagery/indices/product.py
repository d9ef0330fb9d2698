"""Stream `flights/<flight>/reflectance` to `flights/<flight>/indices` window by window.

Windows are full-width row strips aligned to the reflectance chunks, so peak memory is one
strip of input bands plus one strip of indices (about 0.8 GB for a 20 000-px-wide 5-band mosaic
and 14 indices), whatever the mosaic's height. The product is written into a staging group and
moved into place (`cube.staged_product`): a reader never sees half the indices.

A flight stored as camera DN (`calibrated: false`, an uncalibrated RGB camera) goes through
`rgb.index_inputs` strip by strip, as `saqi parcels stats` does: RGB indices on chromatic
coordinates; the definition used is the product's `computed_on` attribute.
"""
from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import dask.array as da
import numpy as np

from pipelines.core.errors import InputDataError
from pipelines.core.grid import FarmGrid
from pipelines.imagery.indices.catalogue import IndexSpec, index_catalogue
from pipelines.imagery.indices.kernel import computable_indices, compute_indices
from pipelines.imagery.indices.rgb import CHROMATIC, REFLECTANCE, index_inputs
from pipelines.store import cube, windows

PRODUCT = "indices"


@dataclass(frozen=True)
class IndexProductSummary:
    """What was written: index names in layer order, the skipped ones with their reason, what the
    formulas ran on (reflectance, or chromatic coordinates of camera DN) and each index's mean
    over its finite pixels (NaN if none), summed strip by strip in float64 as they were written."""

    group: str
    names: list[str]
    skipped: dict[str, str]
    computed_on: str = REFLECTANCE
    means: dict[str, float] = field(default_factory=dict)


def _grid_of(dataset) -> FarmGrid:
    import rioxarray  # noqa: F401  (registers the .rio accessor)

    return FarmGrid(dataset.rio.crs, dataset.rio.transform(), dataset.rio.width, dataset.rio.height)


def _attrs(names: Sequence[str], skipped: Mapping[str, str], catalogue: Mapping[str, IndexSpec],
           computed_on: str) -> dict:
    return {"long_name": "vegetation indices", "units": "1", "computed_on": computed_on,
            "index_long_names": [catalogue[n].long_name for n in names],
            "index_formulas": [catalogue[n].formula for n in names],
            "index_valid_ranges": [list(catalogue[n].valid_range) for n in names],
            "index_references": [catalogue[n].reference for n in names],
            "skipped_indices": json.dumps(dict(skipped))}


def write_index_product(store: str | Path, flight: str, names: Sequence[str] | None = None,
                        catalogue: Mapping[str, IndexSpec] | None = None) -> IndexProductSummary:
    """Compute every requested index the flight's bands allow and publish `flights/<flight>/indices`."""
    catalogue = catalogue if catalogue is not None else index_catalogue()
    source_group = cube.flight_group(flight, "reflectance")
    if not cube.has_product(store, source_group):
        raise InputDataError(Path(store) / source_group, "no reflectance product for this flight",
                             "run the reflectance step for the flight first")
    dataset = cube.read_product(store, source_group)
    band_names = [str(b) for b in dataset["band"].values]
    ok, skipped = computable_indices(band_names, names, catalogue)
    if not ok:
        raise InputDataError(Path(store) / source_group, f"no requested index can be computed: {skipped}",
                             "request indices the flight's bands allow or add the missing bands")
    calibrated = bool(dataset["reflectance"].attrs.get("calibrated", True))
    _, computed_on = index_inputs(np.zeros((len(band_names), 1, 1), np.float32), band_names, calibrated)
    grid = _grid_of(dataset)
    source = windows.stored_array(store, flight, "reflectance")
    step = source.chunks[1]
    lazy = da.zeros((len(ok), grid.height, grid.width), dtype=np.float32,
                    chunks=(1, min(cube.CHUNK_PX, grid.height), min(cube.CHUNK_PX, grid.width)))
    template = cube.raster(lazy, grid, PRODUCT, layer_dim="index", layers=ok,
                           attrs=_attrs(ok, skipped, catalogue, computed_on)).to_dataset()
    group = cube.flight_group(flight, PRODUCT)
    with windows.staged_template(store, group, template, PRODUCT) as target:
        strip = np.empty((len(ok), step, grid.width), dtype=np.float32)
        sums, counts = np.zeros(len(ok)), np.zeros(len(ok))
        for top in range(0, grid.height, step):
            bottom = min(grid.height, top + step)
            window = np.asarray(source[:, top:bottom, :], dtype=np.float32)
            if computed_on == CHROMATIC:
                window, _ = index_inputs(window, band_names, calibrated)
            result = compute_indices(window, band_names, ok, out=strip[:, : bottom - top], catalogue=catalogue)
            target[:, top:bottom, :] = result.values
            finite = np.isfinite(result.values)
            sums += np.where(finite, result.values, 0).sum(axis=(1, 2), dtype=np.float64)
            counts += finite.sum(axis=(1, 2))
    means = {name: float(total / n) if n else float("nan") for name, total, n in zip(ok, sums, counts)}
    return IndexProductSummary(group, ok, skipped, computed_on, means)
