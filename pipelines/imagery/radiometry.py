"""DN → radiance → reflectance for raw captures, per vendor model, with irradiance sensor and/or panel.

Models (units in each function's docstring):
- MicaSense (RedEdge, Altum): L = V(x,y)·(a1/g)·(p − p_BL)/(t_e + a2·y − a3·t_e·y), p normalised by
  2^16, g = ISO/100, V = 1/(1 + Σ k_i r^(i+1)) about the vignetting centre (MicaSense "Radiometric
  Calibration Model", imageprocessing docs); L in W m⁻² sr⁻¹ nm⁻¹; ρ = π L / E with E the DLS
  spectral irradiance (W m⁻² nm⁻¹).
- Parrot Sequoia: I = f²·(p/V − B)/(A·ε·γ + C), V the 2-D vignetting polynomial over x/width,
  y/height, A,B,C = SensorModel, ε exposure (s), γ ISO (Parrot SEQ-AN-01 "Pixel value to
  irradiance using the sensor calibration model"); sunshine irradiance = CH0 /(gain·t_int) from
  IrradianceList: same arbitrary unit per flight, so the ratio is *relative* reflectance unless a
  panel fixes the scale.
- DJI P4 Multispectral / Mavic 3M: X = (p − BlackLevel)/65535 · vignetting(r) /(SensorGain ·
  t_e), with vignetting from VignettingData about CalibratedOpticalCenterX/Y; ρ ∝ X ·
  SensorGainAdjustment / Irradiance (DJI P4M and M3M Image Processing Guides); relative without a panel.
Panel: ρ = ρ_panel · L / L_panel (mean radiance on the panel), scaled by E_panel/E when an
irradiance sensor is present too (light changes between the panel shot and the flight).
"""
from __future__ import annotations

import base64
import struct
from dataclasses import dataclass, field

import numpy as np
from scipy import ndimage

from pipelines.errors import InputDataError
from pipelines.imagery.captures import BandImage, Capture
from pipelines.imagery.xmp import numbers

SEQUOIA_GAINS = (1.0, 2.0, 4.0, 8.0)  # sunshine-sensor gain index → gain (Parrot SEQ-AN-01)


def _radius(shape: tuple[int, int], cx: float, cy: float) -> np.ndarray:
    rows, cols = np.indices(shape, dtype=np.float32)
    return np.hypot(cols - cx, rows - cy)


def micasense_radiance(image: BandImage, dn: np.ndarray) -> np.ndarray:
    """Spectral radiance W m⁻² sr⁻¹ nm⁻¹ (MicaSense calibration model, with row gradient)."""
    a1, a2, a3 = numbers(image.xmp.get("RadiometricCalibration"))[:3]
    cx, cy = numbers(image.xmp.get("VignettingCenter"))[:2]
    k = numbers(image.xmp.get("VignettingPolynomial"))
    r = _radius(dn.shape, cx, cy)
    vignette = 1.0 / (1.0 + sum(coef * r ** (i + 1) for i, coef in enumerate(k)))
    rows = np.arange(dn.shape[0], dtype=np.float32)[:, None]
    gain, te = image.iso / 100.0, image.exposure_s
    signal = (dn - image.black_level) / 65536.0
    return vignette * a1 / gain * signal / (te + a2 * rows - a3 * te * rows)


def sequoia_irradiance_image(image: BandImage, dn: np.ndarray) -> np.ndarray:
    """Irradiance at the sensor, arbitrary unit per flight (Parrot SEQ-AN-01)."""
    a, b, c = numbers(image.xmp.get("SensorModel"))[:3]
    exponents = numbers(image.xmp.get("VignettingPolynomial2DName"))
    coefs = numbers(image.xmp.get("VignettingPolynomial2D"))
    y, x = np.indices(dn.shape, dtype=np.float64)
    x, y = x / dn.shape[1], y / dn.shape[0]
    vignette = sum(cf * x ** int(exponents[2 * i]) * y ** int(exponents[2 * i + 1]) for i, cf in enumerate(coefs))
    f = image.f_number or 2.2
    return (f ** 2 * (dn / vignette - b) / (a * image.exposure_s * image.iso + c)).astype(np.float32)


def sequoia_sunshine(image: BandImage) -> float:
    """Mean sunshine-sensor irradiance CH0 /(gain · integration time), arbitrary unit (IrradianceList)."""
    raw = base64.b64decode(str(image.xmp.get("IrradianceList", "")))
    records = [struct.unpack_from("<QHHHHfff", raw, i) for i in range(0, len(raw) - 27, 28)]
    if not records:
        raise InputDataError(image.path, "has no sunshine-sensor records (IrradianceList)", "calibrate with a panel")
    return float(np.mean([ch0 / (SEQUOIA_GAINS[min(gi, 3)] * max(t_ms, 1)) for _, ch0, _, gi, t_ms, *_ in records]))


def dji_signal(image: BandImage, dn: np.ndarray) -> np.ndarray:
    """Black-level-, vignetting-, gain- and exposure-normalised signal (DJI image processing guides)."""
    cx = float(image.xmp.get("CalibratedOpticalCenterX", dn.shape[1] / 2))
    cy = float(image.xmp.get("CalibratedOpticalCenterY", dn.shape[0] / 2))
    k = numbers(image.xmp.get("VignettingData"))
    r = _radius(dn.shape, cx, cy)
    vignette = 1.0 + sum(coef * r ** (i + 1) for i, coef in enumerate(k))
    gain = float(image.xmp.get("SensorGain", image.iso / 100.0))
    exposure_s = float(image.xmp["ExposureTime"]) / 1e6 if "ExposureTime" in image.xmp else image.exposure_s
    return ((dn - image.black_level) / 65535.0 * vignette / (gain * exposure_s)).astype(np.float32)


def band_signal(image: BandImage, dn: np.ndarray | None = None) -> tuple[np.ndarray, float | None, bool]:
    """(radiance-like image, irradiance or None, absolute?) for one band file, per its vendor layout."""
    dn = image.dn() if dn is None else dn
    layout = image.sensor.metadata_layout
    if layout == "micasense":
        irradiance = float(image.xmp["Irradiance"]) if "Irradiance" in image.xmp else None
        return micasense_radiance(image, dn), irradiance, True
    if layout == "sequoia":
        irradiance = sequoia_sunshine(image) if "IrradianceList" in image.xmp else None
        return sequoia_irradiance_image(image, dn), irradiance, False
    if layout == "dji":
        irradiance = float(image.xmp["Irradiance"]) if "Irradiance" in image.xmp else None
        if irradiance is not None:
            irradiance /= float(image.xmp.get("SensorGainAdjustment", 1.0))
        return dji_signal(image, dn), irradiance, False
    raise InputDataError(image.path, f"sensor '{image.sensor.id}' has no radiometric model ({layout!r})",
                         "set metadata_layout in its configs/sensors profile to micasense, sequoia or dji")


def panel_region(signal: np.ndarray, size_px: int | None = None) -> tuple[slice, slice]:
    """The brightest uniform square (coefficient of variation < 3 %) — the calibration panel."""
    size = size_px or max(8, min(signal.shape) // 8)
    mean = ndimage.uniform_filter(signal.astype(np.float64), size)
    sq = ndimage.uniform_filter(signal.astype(np.float64) ** 2, size)
    cv = np.sqrt(np.maximum(sq - mean ** 2, 0)) / np.maximum(mean, 1e-12)
    half = size // 2
    score = np.where(cv < 0.03, mean, -np.inf)
    score[:half], score[-half:], score[:, :half], score[:, -half:] = -np.inf, -np.inf, -np.inf, -np.inf
    if not np.isfinite(score).any():
        raise InputDataError("<panel>", "no uniform bright panel found in the panel image",
                             "fill a larger part of the frame with the panel, in full sun, without shadow")
    row, col = np.unravel_index(np.argmax(score), score.shape)
    return slice(row - half + 1, row + half - 1), slice(col - half + 1, col + half - 1)


@dataclass
class CalibratedCapture:
    """Reflectance (band, y, x) float32 of one capture with how it was obtained."""

    reflectance: np.ndarray
    bands: list[str]
    method: str
    relative: bool
    irradiance: dict[str, float | None]
    panel_radiance: dict[str, float] = field(default_factory=dict)
    saturation_fraction: dict[str, float] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def _panel_reflectance(panel: Capture, given: float | dict | None) -> dict[str, float]:
    if isinstance(given, dict):
        return {b: float(given[b]) for b in panel.bands}
    if given is not None:
        return {b: float(given) for b in panel.bands}
    albedo = {im.band: im.xmp.get("Albedo") or im.xmp.get("PanelAlbedo") for im in panel.images}
    if any(v is None for v in albedo.values()):
        raise InputDataError(panel.images[0].path, "panel capture carries no panel albedo in its XMP",
                             "pass the panel's reflectance per band (--panel-reflectance, from its calibration sheet)")
    return {b: float(v) for b, v in albedo.items()}


def calibrate_capture(capture: Capture, panel: Capture | None = None,
                      panel_reflectance: float | dict[str, float] | None = None) -> CalibratedCapture:
    """Reflectance of a capture from the irradiance sensor, a panel capture, or both (see module doc)."""
    signals, irradiance, absolute, saturation = [], {}, True, {}
    for image in capture.images:
        dn = image.dn()
        saturation[image.band] = round(float(np.mean(dn >= 65535)), 6)
        signal, e, is_absolute = band_signal(image, dn)
        signals.append(signal)
        irradiance[image.band] = e
        absolute &= is_absolute
    warnings = list(capture.warnings)
    have_irradiance = all(v is not None for v in irradiance.values())
    panel_l: dict[str, float] = {}
    if panel is not None:
        rho = _panel_reflectance(panel, panel_reflectance)
        factors = []
        for i, image in enumerate(panel.images):
            sig, e_panel, _ = band_signal(image)
            rows, cols = panel_region(sig)
            panel_l[image.band] = float(np.mean(sig[rows, cols]))
            light = (e_panel / irradiance[image.band]) if have_irradiance and e_panel else 1.0
            factors.append(rho[image.band] / panel_l[image.band] * light)
        reflectance = np.stack([s * f for s, f in zip(signals, factors)])
        method, relative = "panel" + (" + irradiance sensor" if have_irradiance else ""), False
    elif have_irradiance:
        scale = np.pi if absolute else 1.0
        reflectance = np.stack([scale * s / irradiance[b] for s, b in zip(signals, capture.bands)])
        method, relative = "irradiance sensor", not absolute
        if relative:
            warnings.append(f"{capture.sensor.name}: irradiance-sensor reflectance is relative (no absolute "
                            f"calibration); fly a calibration panel for absolute reflectance")
    else:
        reflectance = np.stack(signals)
        method, relative = "none (radiance only)", True
        warnings.append(f"capture {capture.capture_id}: no irradiance data and no panel; values are relative "
                        f"radiance, not reflectance")
    return CalibratedCapture(reflectance.astype(np.float32), capture.bands, method, relative, irradiance, panel_l,
                             saturation, warnings)
