"""Every catalogue index agrees with spyndex (Awesome Spectral Indices) to 1e-6; formulas are safe."""
from __future__ import annotations

import numpy as np
import pytest
import spyndex

from pipelines.core.errors import ConfigError
from pipelines.imagery.indices.catalogue import index_catalogue
from pipelines.imagery.indices.kernel import compute_indices

ROLES = ["blue", "green", "red", "rededge", "nir", "swir"]
SPYNDEX_BAND = {"blue": "B", "green": "G", "red": "R", "rededge": "RE1", "nir": "N", "swir": "S1"}
RANGES = {"blue": (0.01, 0.04), "green": (0.06, 0.15), "red": (0.02, 0.12), "rededge": (0.10, 0.30),
          "nir": (0.25, 0.60), "swir": (0.08, 0.30)}


@pytest.fixture(scope="module")
def reflectance() -> np.ndarray:
    rng = np.random.default_rng(11)
    return np.stack([rng.uniform(*RANGES[r], (64, 64)) for r in ROLES]).astype(np.float32)


def test_catalogue_has_the_issue_indices():
    assert {"ndvi", "ndre", "gndvi", "savi", "osavi", "msavi2", "evi2", "cire", "cig", "mcari2",
            "tcari_osavi", "ndwi", "exg", "vari"} <= set(index_catalogue())


@pytest.mark.parametrize("name", sorted(index_catalogue()))
def test_index_agrees_with_spyndex(name, reflectance):
    spec = index_catalogue()[name]
    ours = compute_indices(reflectance, ROLES, [name]).values[0]
    assert ours.dtype == np.float32
    params = {SPYNDEX_BAND[b]: reflectance[ROLES.index(b)].astype(np.float64) for b in spec.bands}
    params.update(spec.constants)  # the catalogue's constants (e.g. SAVI L = 0.5), spyndex's own letters
    theirs = spyndex.computeIndex(spec.spyndex, params=params)
    np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-6)


def test_ndvi_of_known_canopy_and_soil_spectra():
    # dense irrigated wheat: red 0.04, nir 0.45; dry sandy soil of the Souss: red 0.25, nir 0.30
    reflectance = np.array([[[0.04, 0.25]], [[0.45, 0.30]]], np.float32)
    ndvi = compute_indices(reflectance, ["red", "nir"], ["ndvi"])["ndvi"][0]
    np.testing.assert_allclose(ndvi, [0.41 / 0.49, 0.05 / 0.55], rtol=1e-6)


def test_user_formula_is_merged_and_overrides(tmp_path, reflectance):
    user = tmp_path / "indices.yaml"
    user.write_text("indices:\n  sr:\n    long_name: Simple Ratio\n    formula: nir / red\n    bands: [nir, red]\n"
                    "    valid_range: [0, 30]\n    reference: Jordan 1969, Ecology 50:663-666\n"
                    "  savi:\n    long_name: SAVI L=1\n    formula: (1 + L) * (nir - red) / (nir + red + L)\n"
                    "    constants: {L: 1.0}\n    bands: [nir, red]\n    valid_range: [-2, 2]\n"
                    "    reference: Huete 1988\n")
    catalogue = index_catalogue([user])
    result = compute_indices(reflectance, ROLES, ["sr", "savi"], catalogue=catalogue)
    nir, red = reflectance[4].astype(np.float64), reflectance[2].astype(np.float64)
    np.testing.assert_allclose(result["sr"], nir / red, rtol=1e-6)
    np.testing.assert_allclose(result["savi"], 2 * (nir - red) / (nir + red + 1), rtol=1e-6)
    assert "ndvi" in catalogue


@pytest.mark.parametrize("formula, problem", [
    ("__import__('os').system('true')", "unsupported function"),
    ("nir.__class__", "Attribute"),
    ("[nir, red]", "List"),
    ("nir + blue", "neither bands nor constants"),
    ("nir +", "not a valid expression"),
])
def test_unsafe_or_wrong_formulas_are_rejected_with_the_file_and_entry(tmp_path, formula, problem):
    user = tmp_path / "indices.yaml"
    user.write_text(f'indices:\n  bad:\n    long_name: x\n    formula: "{formula}"\n    bands: [nir, red]\n'
                    "    valid_range: [0, 1]\n    reference: none\n")
    with pytest.raises(ConfigError, match=problem) as info:
        index_catalogue([user])
    assert info.value.field == "indices.bad" and info.value.path == str(user.resolve())
