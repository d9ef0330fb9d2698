"""Altum, Altum-PT and RedEdge-P: detected from their own EXIF Model; LWIR read as temperature, panchro reported.

Files follow MicaSense's layout: IMG_<capture>_<n>.tif, bands 1–5 blue/green/red/NIR/red edge,
band 6 LWIR on the Altum (160 × 120, DN in centi-kelvin), band 6 panchromatic and band 7 LWIR on the
Altum-PT, band 6 panchromatic on the RedEdge-P (about twice the narrow bands' resolution).
"""
from __future__ import annotations

import numpy as np
import pytest
from test_radiometry_micasense import SHAPE, _xmp, write_band_file, write_capture

from pipelines.imagery.ingest.captures import group_captures
from pipelines.imagery.ingest.radiometry import calibrate_capture

TRUTH = {"blue": 0.05, "green": 0.08, "red": 0.06, "rededge": 0.25, "nir": 0.45}
LWIR_C = 31.4  # surface temperature of the synthetic field, °C


def _extra_bands(folder, model: str, pan: int | None, lwir: int | None) -> list:
    paths = []
    if pan:
        dn = np.full((SHAPE[0] * 2, SHAPE[1] * 2), 21000, np.uint16)
        paths.append(write_band_file(folder / f"IMG_0001_{pan}.tif", dn, model, _xmp("Panchro", "cap1", 1.2)))
    if lwir:
        dn = np.full((120, 160), round((LWIR_C + 273.15) * 100), np.uint16)
        dn[:, :80] += 150  # west half 1.5 K warmer
        paths.append(write_band_file(folder / f"IMG_0001_{lwir}.tif", dn, model, _xmp("LWIR", "cap1", 1.2)))
    return paths


@pytest.mark.parametrize("model, sensor_id, pan, lwir", [
    ("Altum", "micasense_altum", None, 6), ("Altum-PT", "micasense_altum_pt", 6, 7),
    ("RedEdge-P", "micasense_rededge_p", 6, None)])
def test_family_member_detected_and_extra_bands_handled(tmp_path, model, sensor_id, pan, lwir):
    files = write_capture(tmp_path, 1, np.ones((5, *SHAPE)), model=model) + _extra_bands(tmp_path, model, pan, lwir)
    capture = group_captures(files)[0]
    assert capture.sensor.id == sensor_id
    expected_bands = ["blue", "green", "red", "rededge", "nir"]
    if pan:
        expected_bands.insert(2, "panchro")  # 634.5 nm centre: wavelength order
    if lwir:
        expected_bands.append("lwir")
    assert capture.bands == expected_bands
    result = calibrate_capture(capture)
    assert result.bands == ["blue", "green", "red", "rededge", "nir"] and result.reflectance.shape == (5, *SHAPE)
    for band, layer in zip(result.bands, result.reflectance):
        assert np.median(layer) == pytest.approx(TRUTH[band], rel=0.01)
    panchro_note = [w for w in result.warnings if "panchromatic band not used" in w]
    assert len(panchro_note) == (1 if pan else 0)
    if pan:
        assert f"IMG_0001_{pan}.tif" in panchro_note[0] and f"{SHAPE[1] * 2}×{SHAPE[0] * 2}" in panchro_note[0]
    if lwir:
        assert result.temperature_c.shape == (120, 160)
        assert float(result.temperature_c[:, 100:].mean()) == pytest.approx(LWIR_C, abs=0.01)
        assert float(result.temperature_c[:, :80].mean()) == pytest.approx(LWIR_C + 1.5, abs=0.01)
        assert any("LWIR band read as surface temperature" in w for w in result.warnings)
    else:
        assert result.temperature_c is None


def test_altum_without_its_thermal_file_still_calibrates(tmp_path):
    capture = group_captures(write_capture(tmp_path, 1, np.ones((5, *SHAPE)), model="Altum"))[0]
    result = calibrate_capture(capture)
    assert capture.sensor.id == "micasense_altum" and result.temperature_c is None
    assert np.median(result.reflectance[4]) == pytest.approx(0.45, rel=0.01)
