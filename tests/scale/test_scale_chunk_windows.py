"""`windows.ChunkWindows` decodes a window's chunks itself: its windows must equal zarr's own,
unwritten chunks (fill value) and partial edge chunks included; other selections go to zarr."""
from __future__ import annotations

import numpy as np
import pytest
import zarr
from zarr.codecs import BloscCodec

from pipelines.store import windows


def _array(tmp_path, dtype, fill, shape):
    array = zarr.create_array(store=str(tmp_path / "a.zarr"), shape=shape, chunks=(1, 16, 16)[-len(shape):],
                              dtype=dtype, fill_value=fill, zarr_format=3,
                              compressors=BloscCodec(cname="zstd", clevel=3, shuffle="bitshuffle"))
    rng = np.random.default_rng(7)
    values = (rng.normal(size=shape) * 50).astype(dtype)
    if values.dtype.kind == "f":
        values[rng.random(shape) < 0.1] = np.nan
    array[...] = values
    array[..., 16:32, 32:48] = fill  # a chunk equal to the fill value is not written
    return zarr.open_array(str(tmp_path / "a.zarr"), mode="r")


@pytest.mark.parametrize("dtype, fill, shape", [("float32", np.nan, (3, 50, 70)), ("uint8", 0, (50, 70)),
                                                ("uint16", 7, (50, 70))])
def test_windows_equal_zarr_reads(tmp_path, dtype, fill, shape):
    stored = _array(tmp_path, dtype, fill, shape)
    view = windows.ChunkWindows(stored)
    assert view._root is not None  # the direct path is taken
    rng = np.random.default_rng(0)
    keys = [(slice(None),) * len(shape), (Ellipsis,), (-1,), (slice(16, 32), slice(32, 48)), (slice(45, 80),)]
    for _ in range(40):
        r0, c0 = rng.integers(-5, 55), rng.integers(-5, 75)
        rows, cols = slice(max(r0, 0), r0 + rng.integers(0, 40)), slice(max(c0, 0), c0 + rng.integers(0, 40))
        keys += [(rows, cols), (int(rng.integers(0, 50)), cols)] if len(shape) == 2 else \
            [(slice(None), rows, cols), (int(rng.integers(0, 3)), rows, cols), (slice(1, 3), rows, int(c0) % 70)]
    for key in keys:
        found, expected = view[key], stored[key]
        assert found.dtype == expected.dtype and found.shape == expected.shape, key
        np.testing.assert_array_equal(found, expected, err_msg=str(key))
    np.testing.assert_array_equal(np.asarray(view), stored[...])
    assert view.attrs == stored.attrs and view.chunks == stored.chunks


def test_out_of_range_and_fancy_selections_go_to_zarr(tmp_path):
    stored = _array(tmp_path, "float32", np.nan, (2, 40, 40))
    with pytest.raises(IndexError):
        windows.ChunkWindows(stored)[5, 0:3, 0:3]
    np.testing.assert_array_equal(windows.ChunkWindows(stored)[0, [1, 3], 2:5], stored.oindex[0, [1, 3], 2:5])
