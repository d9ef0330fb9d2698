"""The unguarded fast kernel gives exactly the guarded formula's result (NaN for 0 denominators)."""
from __future__ import annotations

import numexpr
import numpy as np

from pipelines.imagery.indices.catalogue import index_catalogue
from pipelines.imagery.indices.kernel import compute_indices

ROLES = ["blue", "green", "red", "rededge", "nir", "swir"]


def test_fast_path_matches_the_guarded_formula_with_zeros_negatives_and_nan():
    rng = np.random.default_rng(21)
    reflectance = rng.uniform(-0.05, 0.7, (len(ROLES), 64, 300)).astype(np.float32)
    reflectance[:, rng.random((64, 300)) < 0.05] = 0.0               # dark pixels: 0/0 and x/0
    red, nir = reflectance[2], reflectance[4]
    nir[:, :7] = -red[:, :7]                                          # nir + red == 0 with nir != 0
    reflectance[rng.random(reflectance.shape) < 0.01] = np.nan       # scattered no data
    catalogue = index_catalogue()
    result = compute_indices(reflectance, ROLES)
    fast = [n for n in result.names if catalogue[n].program.fast is not None]
    assert {"ndvi", "savi", "evi2", "mcari2", "vari"} <= set(fast) and "tcari_osavi" not in fast
    bands = dict(zip(ROLES, reflectance))
    for name in result.names:
        program = catalogue[name].program
        local = {b: bands[b] for b in catalogue[name].bands} | program.constants
        guarded = numexpr.evaluate(program.expression, local_dict=local)
        guarded[np.isinf(guarded)] = np.nan
        np.testing.assert_array_equal(result[name], guarded, err_msg=name)
    assert not np.isinf(result.values).any()
    assert np.isnan(result["ndvi"][:, :7]).all()


def test_a_division_that_an_outer_division_could_absorb_keeps_the_guard(tmp_path):
    extra = tmp_path / "indices.yaml"
    extra.write_text("indices:\n  inverse_ratio:\n    long_name: inverse ratio\n    formula: red / (1 / nir)\n"
                     "    bands: [red, nir]\n"
                     "    valid_range: [0, 1]\n    reference: test\n", encoding="utf-8")
    catalogue = index_catalogue([extra])
    assert catalogue["inverse_ratio"].program.fast is None  # 1/0 = inf, red/inf = 0: must stay NaN
    out = compute_indices(np.array([[[0.3]], [[0.0]]], np.float32), ["red", "nir"], ["inverse_ratio"],
                          catalogue=catalogue)
    assert np.isnan(out["inverse_ratio"][0, 0])
