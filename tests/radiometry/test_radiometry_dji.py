"""DJI P4 Multispectral / Mavic 3M captures built to the drone-dji XMP layout of DJI's image processing guides.

DN are generated forward from a known reflectance with the guides' model (Eq. 6–9: black level,
65535 normalisation, SensorGain × exposure, vignetting 1 + Σ k_i r^(i+1) about the optical
centre, SensorGainAdjustment, sunlight-sensor Irradiance), so the reader must invert it exactly.
"""
from __future__ import annotations

import numpy as np
import pytest
import tifffile
from scipy import ndimage

from pipelines.imagery.ingest.alignment import co_register, optical_centre_priors
from pipelines.imagery.ingest.captures import group_captures
from pipelines.imagery.ingest.radiometry import calibrate_capture

SHAPE = (260, 320)
CENTRE = (163.0, 128.0)                        # CalibratedOpticalCenterX/Y, px
VIGNETTING = [1.2e-3, 2.0e-6, -1.0e-9, 0, 0, 0]  # VignettingData k0…k5
K_CAMERA = 0.3                                  # relative reflectance = K × true reflectance (unknown to the reader)
RHO = {"blue": 0.04, "green": 0.08, "red": 0.05, "rededge": 0.28, "nir": 0.46}
# band: (file digit or M3M suffix, BandName, SensorGain, exposure µs, SensorGainAdjustment, Irradiance, disparity x, y)
P4M = {"blue": ("1", "Blue", 2.0, 1500, 1.012, 1650.0, 4.2, -2.8),
       "green": ("2", "Green", 1.0, 1000, 0.987, 1980.0, -3.1, 1.6),
       "red": ("3", "Red", 4.0, 800, 1.004, 1730.0, 2.4, 3.3),
       "rededge": ("4", "RedEdge", 1.0, 1200, 0.995, 1240.0, -1.7, -3.9),
       "nir": ("5", "NIR", 1.0, 1000, 1.0, 2000.0, 0.0, 0.0)}
M3M = {"green": ("G", "Green", 2.0, 900, 1.021, 1510.0, 3.0, 1.0),
       "red": ("R", "Red", 4.0, 700, 0.978, 1620.0, -2.0, 2.5),
       "rededge": ("RE", "RedEdge", 1.0, 1100, 1.006, 1180.0, 1.5, -2.0),
       "nir": ("NIR", "NIR", 1.0, 1000, 1.0, 1900.0, 0.0, 0.0)}


def _xmp(attrs: dict) -> bytes:
    body = " ".join(f'drone-dji:{k}="{v}"' for k, v in attrs.items())
    return ('<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
            f'<rdf:Description xmlns:drone-dji="http://www.dji.com/drone-dji/1.0/" {body}/>'
            '</rdf:RDF></x:xmpmeta>').encode()


def _dn(rho: np.ndarray, gain: float, exposure_us: float, p_cam: float, irradiance: float, black: int) -> np.ndarray:
    rows, cols = np.indices(SHAPE)
    r = np.hypot(cols - CENTRE[0], rows - CENTRE[1])
    vignette = 1 + sum(k * r ** (i + 1) for i, k in enumerate(VIGNETTING))
    camera = rho * K_CAMERA * irradiance / p_cam                # Eq. 6 solved for the camera signal
    normalised = camera * gain * exposure_us / 1e6 / vignette   # Eq. 7–8 backwards
    return np.round(normalised * 65535 + black).astype(np.uint16)


def write_capture(folder, model: str, scene: dict[str, np.ndarray], number: int = 1, light: float = 1.0,
                  shift: bool = False, extra: dict | None = None) -> list:
    """Band files of one capture; `light` scales the sunlight (sensor readings and scene radiance);
    `extra` adds drone-dji XMP attributes (GPS, altitude, gimbal angles)."""
    table, m3m = (M3M, True) if model == "M3M" else (P4M, False)
    black = 3200 if m3m else 4096
    paths = []
    for band, (code, name, gain, exposure_us, p_cam, irradiance, dx, dy) in table.items():
        rho = scene[band]
        if shift:  # the band's lens sees NIR's pixel (x, y) at (x + dx, y + dy)
            rho = ndimage.shift(rho, (dy, dx), order=3, mode="nearest")
        attrs = {"BandName": name, "SensorGain": gain, "ExposureTime": exposure_us, "SensorGainAdjustment": p_cam,
                 "Irradiance": irradiance * light, "RelativeOpticalCenterX": dx, "RelativeOpticalCenterY": dy,
                 "DewarpData": "2020-02-04;1949.45,1939.77,28,-17,-0.4082,0.3418,0.00068,0.00068,-0.354",
                 "VignettingData": ", ".join(map(str, VIGNETTING)), "CalibratedFocalLength": 1913.3333, **(extra or {})}
        if m3m:
            attrs.update(BlackCurrent=black, VignettingCenter=f"{CENTRE[0]},{CENTRE[1]}",
                         CaptureUUID=f"6b1c3e52-0d2f-4d3a-9a51-{number:012d}")
            path = folder / f"DJI_20260115103000_{number:04d}_MS_{code}.TIF"
        else:
            attrs.update(CalibratedOpticalCenterX=CENTRE[0], CalibratedOpticalCenterY=CENTRE[1])
            path = folder / f"DJI_{number:03d}{code}.TIF"
        tags = [(271, "s", 0, "DJI", True), (272, "s", 0, model, True), (306, "s", 0, "2026:01:15 10:30:00", True),
                (700, "B", 0, _xmp(attrs), True), (33434, "2I", 1, (exposure_us, 1_000_000), True),
                (34855, "H", 1, int(gain * 100), True)]
        if not m3m:
            tags.append((50714, "H", 1, black, True))
        tifffile.imwrite(path, _dn(rho, gain, exposure_us, p_cam, irradiance * light, black), extratags=tags)
        paths.append(path)
    return paths


def _flat(bands) -> dict[str, np.ndarray]:
    return {b: np.full(SHAPE, RHO[b]) for b in bands}


@pytest.mark.parametrize("model, sensor_id", [("FC6360", "dji_p4_multispectral"), ("M3M", "dji_mavic3_multispectral")])
def test_sunlight_sensor_gives_relative_reflectance_with_true_band_ratios(tmp_path, model, sensor_id):
    bands = list((M3M if model == "M3M" else P4M))
    capture = group_captures(write_capture(tmp_path, model, _flat(bands)))[0]
    assert capture.sensor.id == sensor_id and capture.bands == bands  # detected from EXIF Make/Model
    assert len({im.iso for im in capture.images}) >= 3                  # mixed gains in one capture
    result = calibrate_capture(capture)
    assert result.method == "irradiance sensor" and result.relative
    assert any("relative" in w for w in result.warnings) and any("no GPS position" in w for w in result.warnings)
    medians = {b: float(np.median(layer)) for b, layer in zip(result.bands, result.reflectance)}
    for band in bands:  # relative reflectance = K × truth: every band on the same scale (1 %)
        assert medians[band] / medians["nir"] == pytest.approx(RHO[band] / RHO["nir"], rel=0.01)
    for layer in result.reflectance:
        assert np.percentile(layer, 99) / np.percentile(layer, 1) < 1.01  # vignetting removed to the corners
    ndvi = (medians["nir"] - medians["red"]) / (medians["nir"] + medians["red"])
    assert ndvi == pytest.approx((0.46 - 0.05) / (0.46 + 0.05), abs=0.005)


def test_panel_makes_dji_reflectance_absolute_under_changed_light(tmp_path):
    (tmp_path / "panel").mkdir()
    (tmp_path / "flight").mkdir()
    panel_scene = {b: np.full(SHAPE, 0.12) for b in P4M}
    for b in P4M:
        panel_scene[b][90:190, 120:230] = 0.5  # a 50 % panel
    panel = group_captures(write_capture(tmp_path / "panel", "FC6360", panel_scene, number=1))[0]
    flight = group_captures(write_capture(tmp_path / "flight", "FC6360", _flat(P4M), number=2, light=0.8))[0]
    result = calibrate_capture(flight, panel=panel, panel_reflectance=0.5)
    assert result.method == "panel + irradiance sensor" and not result.relative
    for band, layer in zip(result.bands, result.reflectance):
        assert float(np.median(layer)) == pytest.approx(RHO[band], rel=0.01)


def test_relative_optical_centres_seed_band_alignment(tmp_path):
    rng = np.random.default_rng(5)
    texture = ndimage.gaussian_filter(rng.random(SHAPE), 3)
    scene = {b: RHO[b] * (0.6 + 4 * texture) for b in P4M}
    capture = group_captures(write_capture(tmp_path, "FC6360", scene, shift=True))[0]
    priors = optical_centre_priors(capture.images)
    assert priors["blue"] == (4.2, -2.8) and priors["nir"] == (0.0, 0.0)
    result = calibrate_capture(capture)
    aligned, transforms, residuals = co_register(result.reflectance, result.bands, "nir", priors)
    for band, (_, _, _, _, _, _, dx, dy) in P4M.items():
        assert transforms[band]["shift_px"] == pytest.approx([-dy, -dx], abs=0.15)
        assert residuals[band] < 0.2
    interior = np.s_[20:-20, 20:-20]
    truth_ratio = RHO["red"] / RHO["nir"]
    ratio = aligned[2][interior] / aligned[4][interior]  # aligned red / NIR is flat only if pixels match
    assert np.percentile(ratio, 95) / np.percentile(ratio, 5) < 1.05
    assert np.median(ratio) == pytest.approx(truth_ratio, rel=0.01)
