"""NaN windows, zero denominators and missing bands are handled explicitly (never inf, never a crash)."""
from __future__ import annotations

import numpy as np

from pipelines.imagery.indices.kernel import (
    computable_indices,
    compute_indices,
    out_of_range_fraction,
)

ROLES = ["blue", "green", "red", "rededge", "nir"]


def test_nan_inputs_and_zero_denominators_give_nan_never_inf():
    reflectance = np.full((5, 4, 4), 0.2, np.float32)
    reflectance[4] = 0.5
    reflectance[:, 0, :] = np.nan          # a no-data row in every band
    reflectance[4, 1, 0] = np.nan          # NaN in one band only
    reflectance[2, 2, 0], reflectance[4, 2, 0] = 0.0, 0.0     # 0/0 in NDVI
    reflectance[2, 2, 1], reflectance[4, 2, 1] = -0.1, 0.1    # x/0 in NDVI (noisy dark pixel)
    reflectance[3, 3, 0] = 0.0             # x/0 in CIre
    result = compute_indices(reflectance, ROLES)
    assert not np.isinf(result.values).any()
    assert np.isnan(result.values[:, 0, :]).all()
    ndvi, cire = result["ndvi"], result["cire"]
    assert np.isnan(ndvi[1, 0]) and np.isnan(ndvi[2, 0]) and np.isnan(ndvi[2, 1])
    assert np.isnan(cire[3, 0])
    np.testing.assert_allclose(ndvi[3, 1], 0.3 / 0.7, rtol=1e-6)


def test_all_nan_window_is_all_nan():
    result = compute_indices(np.full((5, 8, 8), np.nan, np.float32), ROLES)
    assert np.isnan(result.values).all() and result.values.shape == (len(result.names), 8, 8)


def test_missing_bands_are_named_in_the_reason():
    ok, skipped = computable_indices(["red", "green", "blue"], ["ndvi", "exg", "vari", "foo"])
    assert ok == ["exg", "vari"]  # the requested ones only
    assert "['nir']" in skipped["ndvi"] and "unknown index" in skipped["foo"]


def test_rgb_flight_computes_only_rgb_indices():
    result = compute_indices(np.full((3, 2, 2), 0.1, np.float32), ["red", "green", "blue"])
    assert result.names == ["exg", "vari", "exgr", "gli", "ngrdi"]  # RGB indices of the catalogue (issue 11)
    assert len(result.skipped) == 12


def test_out_of_range_values_are_kept_and_measured():
    reflectance = np.array([[[0.1, 0.1, 0.1, 0.1]], [[0.5, 0.5, 0.5, 5.0]]], np.float32)  # one nir > 1
    result = compute_indices(reflectance, ["green", "nir"], ["cig", "gndvi"])
    assert result["cig"][0, 3] == np.float32(np.float32(5.0) / np.float32(0.1) - 1)  # 49: kept, above [-1, 20]
    assert out_of_range_fraction(result) == {"cig": 0.25, "gndvi": 0.0}
