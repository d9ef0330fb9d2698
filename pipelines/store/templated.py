"""Staging many small products of one layout as copies of the first one's files (`cube.write_products`).

A backfill writes a season of daily groups (`zone_plans/<date>`, one (zone, variable) array each)
that differ only in the data and in the data variable's attributes. xarray's `to_zarr` builds every
array and its metadata anew and zarr's consolidation reads them back (~25 ms a group, most of a
backfill's write). Here the first product, staged by `to_zarr` and consolidated, is the template:
a later product of the same layout is staged as the template's files with the data variable's
attributes and the version stamp set in its `zarr.json` and in the group's consolidated metadata,
and its data chunks written by zarr (the template's codecs). It is published as any product is
(`cube.staged_product`: lock, private staging, atomic swap).

Same layout: one float data variable with string attributes, the same dimensions, shape and
coordinate values (coordinates are written once, in the template), no Dataset attributes.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import xarray as xr
import zarr

ZARR_JSON = "zarr.json"


def _layout(dataset: xr.Dataset) -> tuple | None:
    """What two products must share for one to be staged from the other's files; None when the
    product is not one this module copies (it is then written by `to_zarr`)."""
    if len(dataset.data_vars) != 1 or dataset.attrs:
        return None
    name, variable = next(iter(dataset.data_vars.items()))
    if variable.dtype.kind != "f" or variable.encoding or not all(isinstance(v, str) for v in variable.attrs.values()):
        return None
    coords = list(dataset.coords)
    if set(coords) != set(variable.dims) or any(dataset[c].encoding or dataset[c].attrs for c in coords):
        return None
    coords = tuple((c, dataset[c].dtype.str, tuple(dataset[c].values.tolist())) for c in variable.dims)
    return name, variable.dims, variable.shape, variable.dtype.str, tuple(variable.attrs), coords


@dataclass
class Template:
    """A staged product's files (relative path -> bytes) and the layout they were written for."""

    layout: tuple
    files: dict[str, bytes]

    @classmethod
    def of(cls, staging: Path, dataset: xr.Dataset) -> Template | None:
        """The template of `dataset` as staged, stamped and consolidated at `staging`, or None."""
        layout = _layout(dataset)
        if layout is None:
            return None
        files = {path.relative_to(staging).as_posix(): path.read_bytes()
                 for path in sorted(staging.rglob("*")) if path.is_file()}
        name = layout[0]
        if ZARR_JSON not in files or f"{name}/{ZARR_JSON}" not in files:
            return None
        return cls(layout, files)

    def fits(self, dataset: xr.Dataset) -> bool:
        """Whether `dataset` has the template's layout."""
        return _layout(dataset) == self.layout

    def stage(self, staging: Path, dataset: xr.Dataset, version_attr: str, version: str) -> None:
        """Write `dataset` (fitting the template) at `staging`, stamped with `version`."""
        name = self.layout[0]
        variable = dataset[name]
        chunks = f"{name}/c/"
        for relative, content in self.files.items():
            if not relative.startswith(chunks):
                target = staging / relative
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(content)
        array_meta = json.loads(self.files[f"{name}/{ZARR_JSON}"])
        array_meta["attributes"].update(variable.attrs)
        root = json.loads(self.files[ZARR_JSON])
        root["attributes"][version_attr] = version
        root["consolidated_metadata"]["metadata"][name]["attributes"] = array_meta["attributes"]
        _write_json(staging / name / ZARR_JSON, array_meta)
        zarr.open_array(str(staging), path=name, mode="r+", zarr_format=3)[...] = np.asarray(variable.values)
        _write_json(staging / ZARR_JSON, root)   # the group's metadata last, as zarr's consolidation does


def _write_json(path: Path, document: dict) -> None:
    """zarr's own serialisation of a metadata document (2-space indent, NaN allowed)."""
    path.write_bytes(json.dumps(document, indent=2, allow_nan=True).encode())
