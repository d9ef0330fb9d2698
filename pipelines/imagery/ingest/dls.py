"""MicaSense Downwelling Light Sensor (DLS): which irradiance a capture's XMP gives, and how.

Tags as MicaSense's open-source `imageprocessing` metadata module reads them:
- DLS 2 (Altum, RedEdge-MX/-P with DLS 2): `HorizontalIrradiance` (irradiance on the horizontal
  plane, already corrected by the camera), times `IrradianceScaleToSIUnits` (0.01 when the tag is
  absent), in W m⁻² nm⁻¹. Firmware older than RedEdge 5.1.7 / Altum 1.2.3 wrote a wrong horizontal
  value: there it is rebuilt as E_direct · sin(solar elevation) + E_scattered from
  `DirectIrradiance` and `ScatteredIrradiance`.
- DLS 1: `SpectralIrradiance`, the reading on the tilted sensor, scale 1 (a file with only `Irradiance`
  has it used as written, and said so).
  It is corrected for the sun angle with the DLS pose (`Yaw`, `Pitch`, `Roll`, radians) as
  MicaSense documents: the diffuser's Fresnel transmission T(θ) (air 1.000277 → polycarbonate
  1.6 → PTFE 1.38, unpolarised light), a clear sky with direct/diffuse = 6, so
  E_direct = (E_sensor / T(θ)) / (1/6 + cos θ), E_scattered = E_direct / 6 and the horizontal
  irradiance E = E_direct · sin(elevation) + E_scattered; θ is the angle between the sun and the
  sensor normal. Without position or time the reading is used as it is, and said so.

Sun position: NOAA solar position algorithm (Meeus, *Astronomical Algorithms*, ch. 25; NOAA
Global Monitoring Laboratory solar calculator), accurate to about 0.01° for 1950–2050.
"""
from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import numpy as np

from pipelines.core.errors import InputDataError

GOOD_HORIZONTAL_FIRMWARE = {"Altum": (1, 2, 3), "RedEdge": (5, 1, 7), "RedEdge-M": (5, 1, 7)}
DIRECT_TO_DIFFUSE = 6.0
DIFFUSER_INDICES = (1.000277, 1.6, 1.38)


@dataclass(frozen=True)
class DlsIrradiance:
    """Spectral irradiance W m⁻² nm⁻¹ of one band and how it was obtained."""

    value: float
    method: str
    raw: float | None = None
    sun_sensor_angle_rad: float | None = None
    solar_elevation_rad: float | None = None


def solar_position(lat_deg: float, lon_deg: float, when: dt.datetime) -> tuple[float, float]:
    """(elevation, azimuth) of the sun in radians, azimuth clockwise from true north (NOAA/Meeus).

    Args: latitude/longitude in degrees (east positive); `when` in UTC (naive = UTC).
    """
    if when.tzinfo is not None:
        when = when.astimezone(dt.timezone.utc).replace(tzinfo=None)
    day = (when - dt.datetime(2000, 1, 1, 12)).total_seconds() / 86400.0
    t = day / 36525.0
    l0 = (280.46646 + t * (36000.76983 + t * 0.0003032)) % 360.0
    m = math.radians(357.52911 + t * (35999.05029 - 0.0001537 * t))
    e = 0.016708634 - t * (0.000042037 + 0.0000001267 * t)
    centre = (math.sin(m) * (1.914602 - t * (0.004817 + 0.000014 * t)) + math.sin(2 * m) * (0.019993 - 0.000101 * t)
              + math.sin(3 * m) * 0.000289)
    omega = math.radians(125.04 - 1934.136 * t)
    apparent = math.radians(l0 + centre - 0.00569 - 0.00478 * math.sin(omega))
    eps0 = 23.0 + (26.0 + (21.448 - t * (46.815 + t * (0.00059 - t * 0.001813))) / 60.0) / 60.0
    eps = math.radians(eps0 + 0.00256 * math.cos(omega))
    decl = math.asin(math.sin(eps) * math.sin(apparent))
    y, l0r = math.tan(eps / 2) ** 2, math.radians(l0)
    eot_min = 4.0 * math.degrees(y * math.sin(2 * l0r) - 2 * e * math.sin(m)
                                 + 4 * e * y * math.sin(m) * math.cos(2 * l0r)
                                 - 0.5 * y * y * math.sin(4 * l0r) - 1.25 * e * e * math.sin(2 * m))
    minutes = when.hour * 60 + when.minute + (when.second + when.microsecond / 1e6) / 60.0
    hour_angle = math.radians(((minutes + eot_min + 4.0 * lon_deg) / 4.0 - 180.0))
    lat = math.radians(lat_deg)
    cos_zen = math.sin(lat) * math.sin(decl) + math.cos(lat) * math.cos(decl) * math.cos(hour_angle)
    zenith = math.acos(max(-1.0, min(1.0, cos_zen)))
    azimuth = math.atan2(math.sin(hour_angle),
                         math.cos(hour_angle) * math.sin(lat) - math.tan(decl) * math.cos(lat)) + math.pi
    return math.pi / 2 - zenith, azimuth % (2 * math.pi)


def sun_vector_ned(elevation: float, azimuth: float) -> np.ndarray:
    """Unit vector towards the sun in North-East-Down coordinates."""
    return np.array([math.cos(azimuth) * math.cos(elevation), math.sin(azimuth) * math.cos(elevation),
                     -math.sin(elevation)])


def sensor_normal_ned(yaw: float, pitch: float, roll: float) -> np.ndarray:
    """The DLS normal (body −z, pointing up) in NED for a yaw/pitch/roll pose in radians (Z-Y-X Euler)."""
    cy, sy, cp, sp, cr, sr = (math.cos(yaw), math.sin(yaw), math.cos(pitch), math.sin(pitch),
                              math.cos(roll), math.sin(roll))
    body_to_ned = np.array([[cy * cp, cy * sp * sr - sy * cr, cy * sp * cr + sy * sr],
                            [sy * cp, sy * sp * sr + cy * cr, sy * sp * cr - cy * sr],
                            [-sp, cp * sr, cp * cr]])
    return body_to_ned @ np.array([0.0, 0.0, -1.0])


def diffuser_transmission(angle_rad: float) -> float:
    """Fresnel transmission of the DLS diffuser stack for unpolarised light at incidence `angle_rad`.

    Each interface n1 → n2 transmits 1 − (R_s + R_p)/2 (Fresnel equations); the incidence angle
    is carried through the stack as MicaSense's DLS module does (asin(sin φ / n1) per layer).
    """
    total, phi = 1.0, angle_rad
    for n1, n2 in zip(DIFFUSER_INDICES[:-1], DIFFUSER_INDICES[1:]):
        phi = math.asin(math.sin(phi) / n1)
        c1 = math.cos(phi)
        root = 1.0 - (n1 / n2 * math.sin(phi)) ** 2
        if root < 0:
            return 0.0
        c2 = math.sqrt(root)
        rs = ((n1 * c1 - n2 * c2) / (n1 * c1 + n2 * c2)) ** 2
        rp = ((n1 * c2 - n2 * c1) / (n1 * c2 + n2 * c1)) ** 2
        total *= min(1.0, max(0.0, 1.0 - 0.5 * rs - 0.5 * rp))
    return total


def _version(text: str) -> tuple[int, ...]:
    digits = []
    for part in text.strip().lstrip("v").split("-")[0].split("."):
        digits.append(int(part) if part.isdigit() else 0)
    return tuple(digits)


def _float(xmp: dict, key: str) -> float | None:
    value = xmp.get(key)
    return float(value[0] if isinstance(value, list) else value) if value not in (None, "") else None


def dls_irradiance(xmp: dict, model: str, firmware: str, position: tuple[float, float, float] | None,
                   captured: dt.datetime | None, path="<file>") -> DlsIrradiance | None:
    """The band's horizontal spectral irradiance (W m⁻² nm⁻¹) from its DLS tags, or None without DLS."""
    horizontal = _float(xmp, "HorizontalIrradiance")
    if horizontal is not None:
        scale = _float(xmp, "IrradianceScaleToSIUnits") or 0.01
        good = GOOD_HORIZONTAL_FIRMWARE.get(model)
        if good is None or _version(firmware or "0") >= good:
            return DlsIrradiance(horizontal * scale, "DLS 2 HorizontalIrradiance", horizontal * scale)
        direct, scattered = _float(xmp, "DirectIrradiance"), _float(xmp, "ScatteredIrradiance")
        if direct is None or scattered is None or position is None or captured is None:
            raise InputDataError(path, f"HorizontalIrradiance written by firmware {firmware} (wrong before "
                                 f"{'.'.join(map(str, good))}) and no DirectIrradiance/ScatteredIrradiance/GPS/time to "
                                 f"rebuild it", "update the camera firmware or calibrate with a panel")
        elevation, _ = solar_position(position[0], position[1], captured)
        value = (direct * math.sin(elevation) + scattered) * scale
        return DlsIrradiance(value, f"DLS 2 direct·sin(elevation)+scattered (firmware {firmware} HorizontalIrradiance "
                             f"not trusted)", horizontal * scale, None, elevation)
    raw = _float(xmp, "SpectralIrradiance")
    if raw is None:
        legacy = _float(xmp, "Irradiance")
        return None if legacy is None else DlsIrradiance(legacy, "DLS Irradiance as written (no SpectralIrradiance: "
                                                          "not sun-angle corrected)", legacy)
    raw *= _float(xmp, "IrradianceScaleToSIUnits") or 1.0
    pose = [_float(xmp, k) for k in ("Yaw", "Pitch", "Roll")]
    if position is None or captured is None or None in pose:
        missing = [n for n, v in (("GPS position", position), ("capture time", captured),
                                  ("DLS Yaw/Pitch/Roll", None if None in pose else 1)) if v is None]
        return DlsIrradiance(raw,
                             f"DLS 1 SpectralIrradiance as read (no {', '.join(missing)}: not sun-angle corrected)",
                             raw)
    elevation, azimuth = solar_position(position[0], position[1], captured)
    angle = float(np.arccos(np.clip(sun_vector_ned(elevation, azimuth) @ sensor_normal_ned(*pose), -1.0, 1.0)))
    transmission = diffuser_transmission(angle)
    if transmission <= 0 or elevation <= 0:
        raise InputDataError(path, f"DLS sun angle {math.degrees(angle):.1f}° / solar elevation "
                             f"{math.degrees(elevation):.1f}°: the sun-angle correction is undefined",
                             "fly in daylight with the DLS facing up, or calibrate with a panel")
    direct = raw / transmission / (1.0 / DIRECT_TO_DIFFUSE + math.cos(angle))
    value = direct * math.sin(elevation) + direct / DIRECT_TO_DIFFUSE
    return DlsIrradiance(value, "DLS 1 SpectralIrradiance, sun-angle corrected with the DLS pose", raw, angle,
                         elevation)
