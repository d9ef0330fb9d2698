"""Surface reflectance of the synthetic farm's materials in the MicaSense RedEdge-MX bands.

Band centres (nm): blue 475, green 560, red 668, red edge 717, NIR 842 (MicaSense RedEdge-MX
user guide, band table). Endmember values are read off typical laboratory spectra at those
wavelengths: green leaves and canopies from the ECOSTRESS/ASTER spectral library (Baldridge et
al. 2009, Remote Sens. Environ. 113:711-715; Meerdink et al. 2019, RSE 230:111196) and PROSAIL
simulations (Jacquemoud et al. 2009, RSE 113:S56-S66); sandy loam soils of the Souss plain from
the same library's Aridisol spectra; the darkening of moist soil from Lobell & Asner 2002
(Soil Sci. Soc. Am. J. 66:722-727). All values are unitless reflectance factors (0-1).
"""
from __future__ import annotations

import numpy as np

BAND_NAMES = ("blue", "green", "red", "rededge", "nir")
BAND_CENTRES_NM = (475.0, 560.0, 668.0, 717.0, 842.0)

HEALTHY_CANOPY = np.array([0.03, 0.07, 0.04, 0.25, 0.45], dtype=np.float32)
"""Sunlit, dense green canopy: chlorophyll absorption in blue/red, the NIR plateau (NDVI ~0.84)."""

SENESCENT_CANOPY = np.array([0.09, 0.14, 0.19, 0.26, 0.31], dtype=np.float32)
"""Ripe, dry cereal straw and yellowed leaves: chlorophyll gone, NIR plateau lowered (NDVI ~0.24)."""

WEED_CANOPY = np.array([0.035, 0.08, 0.06, 0.22, 0.37], dtype=np.float32)
"""Broadleaf and grass weeds: sparser, paler canopy than the crop, lower NIR, higher red (NDVI ~0.72)."""

DRY_SOIL = np.array([0.12, 0.16, 0.20, 0.23, 0.26], dtype=np.float32)
"""Dry sandy loam (Souss plain): a gently rising, featureless spectrum (NDVI ~0.13)."""

SHADOW_FACTOR = 0.22
"""Fraction of the sunlit signal left in a crown's shadow (diffuse sky light only, 0.15-0.3)."""

STRESS_RESPONSE = np.array([0.10, 0.05, 1.10, -0.12, -0.36], dtype=np.float32)
"""Relative change of canopy reflectance per unit of water stress, per band.

Water stress lowers leaf water and chlorophyll and makes leaves roll: red reflectance rises,
the NIR plateau drops and the red edge moves to shorter wavelengths, so reflectance at 717 nm
falls (Carter 1993, Am. J. Bot. 80:239-243; Horler et al. 1983, Int. J. Remote Sens. 4:273-288).
Full stress (1.0) lowers canopy NDVI by ~0.3; half stress by ~0.15.
"""

MOIST_SOIL_FACTOR = 0.82
"""Reflectance of freshly irrigated soil relative to dry soil (Lobell & Asner 2002, ~0.08 m3/m3)."""


def canopy_reflectance(greenness: np.ndarray | float, stress: np.ndarray | float) -> np.ndarray:
    """Crop canopy reflectance, shape (5, *shape): stressed green leaves mixed with ripe straw.

    greenness: 1 = fully green, 0 = ripe straw (linear mix of the two spectra).
    stress: 0 = well watered, 1 = severe water stress (see STRESS_RESPONSE).
    """
    g = np.asarray(greenness, dtype=np.float32)
    s = np.asarray(stress, dtype=np.float32)
    shape = np.broadcast_shapes(g.shape, s.shape)
    green = HEALTHY_CANOPY.reshape(5, *([1] * len(shape)))
    straw = SENESCENT_CANOPY.reshape(5, *([1] * len(shape)))
    response = STRESS_RESPONSE.reshape(5, *([1] * len(shape)))
    return g * green * (1 + response * s) + (1 - g) * straw


def mix(crop_fraction: np.ndarray, weed_fraction: np.ndarray, canopy: np.ndarray,
        soil_brightness: np.ndarray, shadow: np.ndarray) -> np.ndarray:
    """Linear spectral mixing of crop, weed and soil by sub-pixel cover, then shadowing.

    R = fc·R_canopy + fw·R_weed + (1 − fc − fw)·b·R_soil, multiplied by 1 − (1 − k)·shadow where
    k = SHADOW_FACTOR (linear mixture model: Adams et al. 1986, J. Geophys. Res. 91:8098-8112).
    Fractions and shadow are (y, x) in 0-1; canopy is (5, y, x); returns float32 (5, y, x).
    """
    soil_fraction = np.clip(1.0 - crop_fraction - weed_fraction, 0.0, 1.0)
    out = canopy * crop_fraction
    out += WEED_CANOPY[:, None, None] * weed_fraction
    out += DRY_SOIL[:, None, None] * (soil_fraction * soil_brightness)
    out *= 1.0 - (1.0 - SHADOW_FACTOR) * shadow
    return out.astype(np.float32, copy=False)
