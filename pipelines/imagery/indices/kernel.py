"""Vegetation indices from reflectance at memory speed (issue 4).

Formulas come from the catalogue (`configs/indices.yaml`, see `index_catalogue`). The kernel is
numexpr with float32 constants writing into a preallocated (index, y, x) float32 array, in
row blocks so that one block of every input band stays in cache while all the requested indices
are computed from it. Formulas whose unguarded text is equivalent (`IndexProgram.fast`) run
without the zero-denominator guard; each output block is then checked while still in cache (a
BLAS dot product of the block with itself is finite only if every value is: multi-threaded and at
memory speed) and its non-finite values, if any, become NaN.

NaN handling: NaN reflectance gives NaN, a zero denominator gives NaN, never infinity.
Values outside an index's `valid_range` are KEPT, not masked: they flag calibration or
radiometry problems (saturated pixels, wrong reflectance scale) that a mask would hide; the
range travels as an attribute and `out_of_range_fraction` measures it for asset checks.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numexpr
import numpy as np

from pipelines.imagery.indices.catalogue import IndexSpec, index_catalogue

BLOCK_BYTES = 24 << 20
"""Bytes of input bands per row block: reused from cache by every index, output checked in cache."""


@dataclass(frozen=True)
class IndexResult:
    """Computed indices: `values` is (index, y, x) float32; `skipped` maps name -> reason."""

    values: np.ndarray
    names: list[str]
    skipped: dict[str, str] = field(default_factory=dict)

    def __getitem__(self, name: str) -> np.ndarray:
        return self.values[self.names.index(name)]


def computable_indices(band_names: Sequence[str], requested: Sequence[str] | None = None,
                       catalogue: Mapping[str, IndexSpec] | None = None) -> tuple[list[str], dict[str, str]]:
    """Split the requested indices (default: all) into those the bands allow and the rest, with reasons."""
    catalogue = catalogue if catalogue is not None else index_catalogue()
    names = list(catalogue) if requested is None else [n.strip().lower() for n in requested]
    present = {b.lower() for b in band_names}
    ok, skipped = [], {}
    for name in names:
        spec = catalogue.get(name)
        if spec is None:
            skipped[name] = f"unknown index; the catalogue has {sorted(catalogue)} (add yours in an indices.yaml)"
            continue
        missing = [b for b in spec.bands if b not in present]
        if missing:
            skipped[name] = f"needs band(s) {missing}, the raster has {list(band_names)}"
        elif name not in ok:
            ok.append(name)
    return ok, skipped


def _rows_per_block(n_bands: int, width: int) -> int:
    return max(1, BLOCK_BYTES // max(1, n_bands * width * 4))


def _evaluate(program, local: dict, target: np.ndarray) -> None:
    """Evaluate one index into `target`; NaN wherever the guarded formula would give NaN or infinity."""
    if program.fast is None:
        numexpr.evaluate(program.expression, local_dict=local, out=target, casting="safe")
        return
    numexpr.evaluate(program.fast, local_dict=local, out=target, casting="safe")
    flat = target.reshape(-1)
    if not np.isfinite(flat.dot(flat)):
        np.copyto(target, np.float32(np.nan), where=~np.isfinite(target))


def compute_indices(reflectance: np.ndarray, band_names: Sequence[str], names: Sequence[str] | None = None,
                    out: np.ndarray | None = None, catalogue: Mapping[str, IndexSpec] | None = None) -> IndexResult:
    """Compute every requested index the bands allow from (band, y, x) float32 reflectance (0-1).

    Returns values (index, y, x) float32 in `out` when given (shape (n_computable, y, x)), the
    computed names in order, and the skipped names with the reason.
    """
    if reflectance.ndim != 3 or reflectance.shape[0] != len(band_names):
        raise ValueError(f"reflectance has shape {reflectance.shape} but {len(band_names)} band names were given")
    catalogue = catalogue if catalogue is not None else index_catalogue()
    ok, skipped = computable_indices(band_names, names, catalogue)
    _, height, width = reflectance.shape
    if out is None:
        out = np.empty((len(ok), height, width), dtype=np.float32)
    elif out.shape != (len(ok), height, width) or out.dtype != np.float32:
        raise ValueError(f"out must be float32 of shape {(len(ok), height, width)}, got {out.dtype} {out.shape}")
    if not ok:
        return IndexResult(out, ok, skipped)
    source = reflectance if reflectance.dtype == np.float32 else reflectance.astype(np.float32)
    index_of = {b.lower(): i for i, b in enumerate(band_names)}
    programs = [catalogue[n].program for n in ok]
    bands = [[index_of[b] for b in catalogue[n].bands] for n in ok]
    step = height if len(ok) == 1 else _rows_per_block(len({i for needed in bands for i in needed}), width)
    for top in range(0, height, step):
        rows = slice(top, min(height, top + step))
        for k, (program, needed) in enumerate(zip(programs, bands)):
            local = {catalogue[ok[k]].bands[j]: source[i, rows] for j, i in enumerate(needed)}
            _evaluate(program, {**local, **program.constants}, out[k, rows])
    return IndexResult(out, ok, skipped)


def out_of_range_fraction(result: IndexResult, catalogue: Mapping[str, IndexSpec] | None = None) -> dict[str, float]:
    """Fraction of finite pixels outside each index's valid range (for asset checks)."""
    catalogue = catalogue if catalogue is not None else index_catalogue()
    fractions = {}
    for name, layer in zip(result.names, result.values):
        low, high = catalogue[name].valid_range
        finite = numexpr.evaluate("sum(where(layer == layer, 1, 0))", local_dict={"layer": layer})
        outside = numexpr.evaluate("sum(where((layer < low) | (layer > high), 1, 0))",
                                   local_dict={"layer": layer, "low": np.float32(low), "high": np.float32(high)})
        fractions[name] = float(outside) / float(finite) if finite else float("nan")
    return fractions
