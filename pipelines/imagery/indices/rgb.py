"""Indices from uncalibrated RGB camera DN: chromatic coordinates.

An RGB orthomosaic of camera DN is not reflectance: brightness changes with exposure, light and
the camera's tone curve. Woebbecke et al. (1995, Trans. ASAE 38:259-269) and Meyer & Neto (2008,
Comput. Electron. Agric. 63:282-293) compute ExG = 2g − r − b and ExGR = ExG − ExR with
ExR = 1.3r − g as Meyer & Neto (2008) and spyndex define it (Meyer et al. 1998 had 1.4r − g)
on chromatic coordinates r = R/(R+G+B), g = G/(R+G+B), b = B/(R+G+B), which removes overall
brightness. Ratio indices (VARI, GLI, NGRDI) are unchanged by that normalisation, so computing
every RGB index on r, g, b gives the published definitions. Reflectance inputs are left as they are.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

CHROMATIC = "chromatic coordinates r=R/(R+G+B), g=G/(R+G+B), b=B/(R+G+B) (Woebbecke et al. 1995; Meyer & Neto 2008)"
REFLECTANCE = "reflectance bands as given"


def index_inputs(values: np.ndarray, band_names: Sequence[str], calibrated: bool) -> tuple[np.ndarray, str]:
    """(bands the index formulas run on, definition used): chromatic r, g, b for uncalibrated RGB DN.

    Args: values (band, y, x) float32; band roles; `calibrated` False for camera DN.
    A pixel with R+G+B = 0 (black) has no chromatic coordinates and becomes NaN.
    """
    names = [b.lower() for b in band_names]
    if calibrated or not {"red", "green", "blue"} <= set(names):
        return values, REFLECTANCE
    rgb = [names.index(b) for b in ("red", "green", "blue")]
    total = values[rgb].sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        scale = np.where(total > 0, 1.0 / total, np.nan).astype(np.float32)
    out = values.copy()
    for i in rgb:
        out[i] = values[i] * scale
    return out, CHROMATIC


VIGOUR_INDICES = ("ndvi", "exg")
"""Indices that stand for canopy vigour, in order of preference: NDVI, else ExG for RGB flights."""


def vigour_index(names: Sequence[str]) -> str | None:
    """The vigour index of a flight with indices `names`: NDVI when computed, else ExG (RGB flights), else None.

    NDVI (Rouse et al. 1974) needs NIR; ExG on chromatic coordinates (Woebbecke et al. 1995) is the
    usual vegetation signal of an RGB camera. The two are not interchangeable in value: NDVI-based
    models (Kcb, fAPAR) never read ExG.
    """
    present = {str(n).lower() for n in names}
    return next((name for name in VIGOUR_INDICES if name in present), None)
