"""Staging many small products of one layout as copies of the first one's files (`cube.write_products`).

A backfill writes a season of daily groups (`zone_plans/<date>`, one (zone, variable) array each)
that differ only in the data and in the data variable's attributes. xarray's `to_zarr` builds every
array and its metadata anew and zarr's consolidation reads them back (~25 ms a group, most of a
backfill's write). Here the first product, staged by `to_zarr` and consolidated, is the template:
a later product of the same layout is staged as the template's files with the data variable's
attributes and the version stamp set in its `zarr.json` and in the group's consolidated metadata,
and its data chunk encoded with the template's codecs (bytes, little endian, then Blosc: the
encoder is checked to give the template's own chunk bytes; else zarr writes the data). It is
published as any product is (`cube.staged_product`: lock, private staging, atomic swap).

Same layout: one float data variable with string attributes, the same dimensions, shape and
coordinate values (coordinates are written once, in the template), no Dataset attributes.
"""
from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import xarray as xr
import zarr
from numcodecs import Blosc

ZARR_JSON = "zarr.json"


def _layout(dataset: xr.Dataset) -> tuple | None:
    """What two products must share, besides their coordinate values, for one to be staged from the
    other's files; None when the product is not one this module copies (`to_zarr` writes it)."""
    if len(dataset.data_vars) != 1 or dataset.attrs:
        return None
    name, variable = next(iter(dataset.data_vars.items()))
    if variable.dtype.kind != "f" or variable.encoding or not all(isinstance(v, str) for v in variable.attrs.values()):
        return None
    coords = list(dataset.coords)
    if set(coords) != set(variable.dims) or any(dataset[c].encoding or dataset[c].attrs for c in coords):
        return None
    coords = tuple((c, dataset[c].dtype.str) for c in variable.dims)
    return name, variable.dims, variable.shape, variable.dtype.str, tuple(variable.attrs), coords


@dataclass
class Template:
    """A staged product's files (relative path -> bytes), the layout and coordinate values they were
    written for, and its two metadata documents as text with a marker in place of each attribute
    value that changes (the version stamp, the data variable's attributes)."""

    layout: tuple
    coords: dict[str, np.ndarray]
    files: dict[str, bytes]
    texts: dict[str, str]
    marks: dict[str, str]
    encode: Callable[[np.ndarray], bytes] | None = None

    @classmethod
    def of(cls, staging: Path, dataset: xr.Dataset, version_attr: str) -> Template | None:
        """The template of `dataset` as staged, stamped (`version_attr`) and consolidated at `staging`, or None."""
        layout = _layout(dataset)
        if layout is None:
            return None
        files = {path.relative_to(staging).as_posix(): path.read_bytes()
                 for path in sorted(staging.rglob("*")) if path.is_file()}
        name = layout[0]
        array_key = f"{name}/{ZARR_JSON}"
        if ZARR_JSON not in files or array_key not in files:
            return None
        token = uuid.uuid4().hex
        marks = {key: f"@@{token}-{k}@@" for k, key in enumerate([version_attr, *dataset[name].attrs])}
        array_meta, root = json.loads(files[array_key]), json.loads(files[ZARR_JSON])
        array_meta["attributes"].update({key: marks[key] for key in dataset[name].attrs})
        root["attributes"][version_attr] = marks[version_attr]
        root["consolidated_metadata"]["metadata"][name]["attributes"] = array_meta["attributes"]
        texts = {array_key: _json(array_meta), ZARR_JSON: _json(root)}
        return cls(layout, {c: dataset[c].values for c in dataset.coords}, files, texts, marks,
                   _checked_encoder(files, name, dataset[name].values))

    def fits(self, dataset: xr.Dataset) -> bool:
        """Whether `dataset` has the template's layout and coordinate values."""
        return _layout(dataset) == self.layout and all(np.array_equal(dataset[c].values, values)
                                                       for c, values in self.coords.items())

    def stage(self, staging: Path, dataset: xr.Dataset, version: str) -> None:
        """Write `dataset` (fitting the template) at `staging`, stamped with `version`."""
        name = self.layout[0]
        variable = dataset[name]
        chunks = f"{name}/c/"
        kept = {relative: content for relative, content in self.files.items()
                if not relative.startswith(chunks) and relative not in self.texts}
        for folder in sorted({os.path.dirname(relative) for relative in [*kept, _chunk_key(name, variable.ndim)]}):
            os.makedirs(staging / folder, exist_ok=True)
        for relative, content in kept.items():
            (staging / relative).write_bytes(content)
        values = dict(zip(self.marks.values(), [version, *variable.attrs.values()]))
        array_key = f"{name}/{ZARR_JSON}"
        (staging / array_key).write_bytes(_filled(self.texts[array_key], values))
        data = np.asarray(variable.values)
        if self.encode is None:
            zarr.open_array(str(staging), path=name, mode="r+", zarr_format=3)[...] = data
        elif not np.isnan(data).all():  # an all-fill chunk is not stored (zarr's write_empty_chunks=False)
            (staging / _chunk_key(name, data.ndim)).write_bytes(self.encode(data))
        (staging / ZARR_JSON).write_bytes(_filled(self.texts[ZARR_JSON], values))   # last, as zarr consolidates


def _json(document: dict) -> str:
    """zarr's own serialisation of a metadata document (2-space indent, NaN allowed)."""
    return json.dumps(document, indent=2, allow_nan=True)


def _filled(text: str, values: dict[str, str]) -> bytes:
    """`text` with each marker's JSON string replaced by its value's (the bytes `_json` gives the document)."""
    for mark, value in values.items():
        text = text.replace(json.dumps(mark), json.dumps(value))
    return text.encode()


def _chunk_key(name: str, ndim: int) -> str:
    """The key of a one-chunk array's chunk (default chunk key encoding, '/' separator)."""
    return "/".join([name, "c", *["0"] * ndim])


def _checked_encoder(files: dict[str, bytes], name: str, values: np.ndarray) -> Callable[[np.ndarray], bytes] | None:
    """An encoder of the data variable's one chunk (bytes codec, little endian, then Blosc, the
    template's configuration) when it gives the template's own chunk bytes; else None."""
    meta = json.loads(files[f"{name}/{ZARR_JSON}"])
    codecs = [c["name"] for c in meta["codecs"]]
    one_chunk = meta["chunk_grid"]["configuration"]["chunk_shape"] == meta["shape"]
    key = _chunk_key(name, len(meta["shape"]))
    if (codecs != ["bytes", "blosc"] or meta["codecs"][0]["configuration"].get("endian") != "little"
            or not one_chunk or meta["fill_value"] != "NaN" or meta["chunk_key_encoding"]["name"] != "default"
            or meta["chunk_key_encoding"]["configuration"].get("separator") != "/" or key not in files):
        return None
    config = dict(meta["codecs"][1]["configuration"])
    config["shuffle"] = {"noshuffle": Blosc.NOSHUFFLE, "shuffle": Blosc.SHUFFLE,
                         "bitshuffle": Blosc.BITSHUFFLE}[config["shuffle"]]
    blosc = Blosc.from_config(config)
    dtype = np.dtype(meta["data_type"]).newbyteorder("<")

    def encode(data: np.ndarray) -> bytes:
        return bytes(blosc.encode(np.ascontiguousarray(data, dtype=dtype).view(np.uint8)))
    return encode if encode(values) == files[key] else None
