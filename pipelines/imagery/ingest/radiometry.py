"""DN → radiance → reflectance for raw captures, per vendor model, with irradiance sensor and/or panel.

Models (units in each function's docstring):
- MicaSense (RedEdge, Altum): L = V(x,y)·(a1/g)·(p − p_BL)/(t_e + a2·y − a3·t_e·y), p normalised by
  2^16, g = ISO/100, V = 1/(1 + Σ k_i r^(i+1)) about the vignetting centre (MicaSense "Radiometric
  Calibration Model", imageprocessing docs); L in W m⁻² sr⁻¹ nm⁻¹; ρ = π L / E with E the DLS
  horizontal spectral irradiance (W m⁻² nm⁻¹, `dls`: DLS 2 HorizontalIrradiance or DLS 1 sun-angle
  corrected).
- Parrot Sequoia: I = f²·(p/V − B)/(A·ε·γ + C), V the 2-D vignetting polynomial over x/width,
  y/height, A,B,C = SensorModel, ε exposure (s), γ ISO (Parrot SEQ-AN-01 "Pixel value to
  irradiance using the sensor calibration model"); sunshine irradiance = CH0 /(gain·t_int) of the
  IrradianceList record nearest the capture, gains from IrradianceCalibrationMeasurement (`sunshine`):
  arbitrary unit per band, so the ratio is *relative* reflectance unless a
  panel fixes the scale.
- DJI P4 Multispectral / Mavic 3M (DJI "P4 Multispectral Image Processing Guide" v1.0 2020.07,
  Eq. 6–9, and "Mavic 3M Image Processing Guide" v1.0 2023.08): camera signal X = (p − p_BL)/N
  / (SensorGain · t_e), N = 65535 (P4M, Eq. 7) or 2^BitsPerSample (M3M), t_e = XMP ExposureTime
  µs / 1e6 (black level EXIF BlackLevel, 4096 on the P4M, XMP BlackLevel/BlackCurrent 3200 on the
  M3M), times the vignetting factor
  1 + Σ k_i r^(i+1), r the distance in pixels to CalibratedOpticalCenterX/Y (M3M:
  VignettingCenter), k = VignettingData (Eq. 8–9); ρ ∝ X · pCam / LS with pCam =
  SensorGainAdjustment and LS = Irradiance, the sunlight-sensor value (Eq. 6). LS has no
  absolute unit: the result is relative reflectance unless a panel fixes the scale.
Panel: ρ = ρ_panel · L / L_panel (mean radiance on the panel), scaled by E_panel/E when an
irradiance sensor is present too (light changes between the panel shot and the flight).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from pipelines.core.errors import InputDataError
from pipelines.imagery.ingest.captures import BandImage, Capture
from pipelines.imagery.ingest.dls import dls_irradiance
from pipelines.imagery.ingest.panel import panel_reflectance as panel_reflectance_of
from pipelines.imagery.ingest.panel import panel_region
from pipelines.imagery.ingest.sunshine import sunshine_irradiance
from pipelines.imagery.ingest.xmp import numbers


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
    if image.f_number is None:
        raise InputDataError(image.path, "has no EXIF FNumber",
                             "the Sequoia model scales by f²; use the camera's original files")
    f = image.f_number
    return (f ** 2 * (dn / vignette - b) / (a * image.exposure_s * image.iso + c)).astype(np.float32)


DJI_FULL_SCALE = {"dji_p4_multispectral": 65535.0}
"""Normalisation of p and p_BL: 65535 in the P4M guide (Eq. 7); 2^BitsPerSample in the M3M guide."""


def _dji_number(image: BandImage, keys: tuple[str, ...], what: str) -> list[float]:
    """The first of `keys` present in the file's drone-dji XMP, as numbers; a named error when none is."""
    for key in keys:
        if image.xmp.get(key) not in (None, ""):
            return numbers(image.xmp[key])
    raise InputDataError(image.path, f"has no {what} (XMP drone-dji {' / '.join(keys)})",
                         "use the camera's original band files: DJI's radiometric model needs it")


def dji_signal(image: BandImage, dn: np.ndarray) -> np.ndarray:
    """X · pCam: black-level-, vignetting-, gain- and exposure-normalised signal, 1/s (DJI guides Eq. 6–9).

    Tags as DJI's "P4 Multispectral Image Processing Guide" (v1.0 2020.07) and "Mavic 3M Image
    Processing Guide" (v1.0 2023.08) name them, all in XMP drone-dji: vignetting VignettingData
    k0…k5 about CalibratedOpticalCenterX/Y (the M3M also writes VignettingPolynomial /
    VignettingCenter, read second), SensorGain, ExposureTime in µs (EXIF ExposureTime in s when the
    XMP lacks it), SensorGainAdjustment (pCam). Black level: EXIF BlackLevel (P4M 4096), XMP
    BlackLevel / BlackCurrent (M3M 3200) — `captures._black_level`. p and p_BL are normalised by
    65535 (P4M) or 2^BitsPerSample (M3M). Any missing value is an `InputDataError`, never a default.
    """
    if image.xmp.get("CalibratedOpticalCenterX") not in (None, ""):
        centre = [_dji_number(image, (f"CalibratedOpticalCenter{axis}",), "vignetting centre")[0] for axis in "XY"]
    else:
        centre = _dji_number(image, ("CalibratedOpticalCenterX", "VignettingCenter"), "vignetting centre")[:2]
    k = _dji_number(image, ("VignettingData", "VignettingPolynomial"), "vignetting coefficients")
    gain = _dji_number(image, ("SensorGain",), "sensor gain")[0]
    p_cam = _dji_number(image, ("SensorGainAdjustment",), "sensor gain adjustment (pCam)")[0]
    exposure_s = (float(numbers(image.xmp["ExposureTime"])[0]) / 1e6 if image.xmp.get("ExposureTime")
                  else image.exposure_s)
    bits = image.exif.get("BitsPerSample", 16)
    full_scale = DJI_FULL_SCALE.get(image.sensor.id, float(2 ** int(bits[0] if isinstance(bits, tuple) else bits)))
    r = _radius(dn.shape, *centre)
    vignette = 1.0 + sum(coef * r ** (i + 1) for i, coef in enumerate(k))
    return ((dn - image.black_level) / full_scale * vignette / (gain * exposure_s) * p_cam).astype(np.float32)


def band_irradiance(image: BandImage) -> tuple[float | None, str]:
    """(irradiance-sensor value or None, how it was read) for one band file, per its vendor's tags.

    MicaSense: DLS 2 HorizontalIrradiance, else DLS 1 sun-angle corrected (`dls`); Sequoia: the
    sunshine record nearest the capture (`sunshine`); DJI: XMP `Irradiance` (sunlight sensor, no unit).
    """
    layout = image.sensor.metadata_layout
    if layout == "micasense":
        reading = dls_irradiance(image.xmp, str(image.exif.get("Model", "")).strip(),
                                 str(image.exif.get("Software", "")),
                                 image.position, image.captured, image.path)
        return (reading.value, reading.method) if reading else (None, "none")
    if layout == "sequoia":
        if "IrradianceList" not in image.xmp:
            return None, "none"
        reading = sunshine_irradiance(image.xmp, image.exif, image.path)
        return reading.value, reading.method
    if "Irradiance" in image.xmp:
        return float(image.xmp["Irradiance"]), "DJI sunlight sensor XMP Irradiance"
    return None, "none"


def band_signal(image: BandImage, dn: np.ndarray | None = None) -> tuple[np.ndarray, float | None, bool]:
    """(radiance-like image, irradiance or None, absolute?) for one band file, per its vendor layout."""
    dn = image.dn() if dn is None else dn
    layout = image.sensor.metadata_layout
    if layout not in ("micasense", "sequoia", "dji"):
        raise InputDataError(image.path, f"sensor '{image.sensor.id}' has no radiometric model ({layout!r})",
                             "set metadata_layout in its configs/sensors profile to micasense, sequoia or dji")
    irradiance, _ = band_irradiance(image)
    if layout == "micasense":
        return micasense_radiance(image, dn), irradiance, True
    if layout == "sequoia":
        return sequoia_irradiance_image(image, dn), irradiance, False
    return dji_signal(image, dn), irradiance, False


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
    temperature_c: np.ndarray | None = None   # LWIR surface temperature (y, x) °C at the thermal band's size
    irradiance_method: dict[str, str] = field(default_factory=dict)   # how each band's sensor irradiance was read
    panel_irradiance: dict[str, float] = field(default_factory=dict)  # π·L̄_panel/ρ_panel per band


def thermal_celsius(image: BandImage) -> np.ndarray:
    """MicaSense LWIR band → surface temperature °C: DN are centi-kelvin (T = DN/100 − 273.15)."""
    return (image.dn() / 100.0 - 273.15).astype(np.float32)


def _split_bands(capture: Capture) -> tuple[list[BandImage], list[BandImage], list[str]]:
    """(reflective band images, LWIR images, warnings): panchromatic bands are reported as not used."""
    reflective, thermal, warnings = [], [], []
    for image in capture.images:
        if image.band == "lwir":
            thermal.append(image)
            warnings.append(f"{image.path.name}: LWIR band read as surface temperature (°C, {image.shape[1]}×"
                            f"{image.shape[0]} px), kept apart from reflectance")
        elif image.band == "panchro":
            warnings.append(f"{image.path.name}: panchromatic band not used ({image.shape[1]}×{image.shape[0]} px, "
                            f"other resolution than the narrow bands; pan-sharpening is not implemented)")
        else:
            reflective.append(image)
    return reflective, thermal, warnings


def calibrate_capture(capture: Capture, panel: Capture | None = None,
                      panel_reflectance: float | list[float] | dict[str, float] | None = None) -> CalibratedCapture:
    """Reflectance of a capture from the irradiance sensor, a panel capture, or both (see module doc).

    Narrow bands only: an LWIR band becomes `temperature_c`, a panchromatic band is left out
    (both said in `warnings`).
    """
    images, thermal, warnings = _split_bands(capture)
    bands = [image.band for image in images]
    signals, irradiance, absolute, saturation, irradiance_method = [], {}, True, {}, {}
    for image in images:
        dn = image.dn()
        saturation[image.band] = round(float(np.mean(dn >= 65535)), 6)
        signal, e, is_absolute = band_signal(image, dn)
        irradiance_method[image.band] = band_irradiance(image)[1]
        signals.append(signal)
        irradiance[image.band] = e
        absolute &= is_absolute
    warnings = list(capture.warnings) + warnings
    have_irradiance = all(v is not None for v in irradiance.values())
    panel_l: dict[str, float] = {}
    panel_e: dict[str, float] = {}
    if panel is not None:
        panel_images = [im for im in panel.images if im.band in bands]
        if sorted(im.band for im in panel_images) != sorted(bands):
            raise InputDataError(panel.images[0].path, f"panel capture has bands {[im.band for im in panel_images]}, "
                                 f"the capture {bands}", "give the panel capture of the same camera, all bands")
        rho = panel_reflectance_of(panel_images, panel_reflectance)
        factors = {}
        for image in panel_images:
            dn = image.dn()
            sig, e_panel, _ = band_signal(image, dn)
            region = panel_region(sig, dn, path=image.path)
            if region.saturated_skipped:
                warnings.append(f"{image.path.name}: a brighter uniform but saturated square was skipped; if it was "
                                f"the panel, shoot it again with a shorter exposure")
            panel_l[image.band] = float(np.mean(sig[region.rows, region.cols]))
            panel_e[image.band] = float(np.pi * panel_l[image.band] / rho[image.band])
            light = (e_panel / irradiance[image.band]) if have_irradiance and e_panel else 1.0
            factors[image.band] = rho[image.band] / panel_l[image.band] * light
        reflectance = np.stack([s * factors[b] for s, b in zip(signals, bands)])
        method, relative = "panel" + (" + irradiance sensor" if have_irradiance else ""), False
    elif have_irradiance:
        scale = np.pi if absolute else 1.0
        reflectance = np.stack([scale * s / irradiance[b] for s, b in zip(signals, bands)])
        method, relative = "irradiance sensor", not absolute
        if relative:
            warnings.append(f"{capture.sensor.name}: irradiance-sensor reflectance is relative (no absolute "
                            f"calibration; each band has its own arbitrary unit, so band ratios and indices such as "
                            f"NDVI are not calibrated either); fly a calibration panel for absolute reflectance")
    else:
        reflectance = np.stack(signals)
        method, relative = "none (radiance only)", True
        warnings.append(f"capture {capture.capture_id}: no irradiance data and no panel; values are relative "
                        f"radiance, not reflectance")
    return CalibratedCapture(reflectance.astype(np.float32), bands, method, relative, irradiance, panel_l,
                             saturation, warnings, thermal_celsius(thermal[0]) if thermal else None,
                             irradiance_method, panel_e)
