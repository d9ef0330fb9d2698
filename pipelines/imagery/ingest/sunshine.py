"""Parrot Sequoia sunshine sensor: the irradiance record nearest the capture, per band, per Parrot.

`IrradianceList` (XMP Camera namespace, base64) is a list of 28-byte little-endian records:
timestamp µs since boot (uint64), CH0 count, CH1 count, gain index, integration time ms (uint16),
yaw, pitch, roll (float32). Parrot (SEQ-AN-02 and its developer forum): the sensor is linear with no
black level, count ∝ gain(gain index) · integration time · irradiance; the gain of each index differs
from unit to unit and is given by the file's `IrradianceCalibrationMeasurement`, groups of
(gain index, integration time ms, CH0, CH1) measured under one light: gain(k) = CH0_k / CH0_ref at
equal integration time (CH1 when CH0 is saturated at 65535), reference index 1. The record used is
the one nearest the capture time on the same clock (EXIF DateTimeDigitized + SubSecTimeDigitized,
seconds since boot). The unit is arbitrary (per band and per unit): without a panel, reflectance
is relative, and the ratio between bands (hence NDVI) is not calibrated either.
"""
from __future__ import annotations

import base64
import datetime as dt
import struct
from dataclasses import dataclass

from pipelines.core.errors import InputDataError
from pipelines.imagery.ingest.xmp import numbers

RECORD = "<QHHHHfff"
SATURATED = 65535
REFERENCE_GAIN_INDEX = 1


@dataclass(frozen=True)
class SunshineReading:
    """Irradiance (count/ms at the reference gain, arbitrary unit) of one band and where it came from."""

    value: float
    ch0: int
    gain_index: int
    gain: float
    integration_ms: int
    offset_ms: float          # record time − capture time
    method: str


def sunshine_gains(calibration: list[float], path="<file>") -> dict[int, float]:
    """Effective gain per gain index relative to index 1, from IrradianceCalibrationMeasurement."""
    groups = [calibration[i:i + 4] for i in range(0, len(calibration) - 3, 4)]
    table = {int(k): (t, ch0, ch1) for k, t, ch0, ch1 in groups}
    if REFERENCE_GAIN_INDEX not in table:
        raise InputDataError(path, f"IrradianceCalibrationMeasurement has no gain index {REFERENCE_GAIN_INDEX} "
                             f"({calibration})", "calibrate with a panel; the sunshine gains cannot be derived")
    t_ref, ch0_ref, ch1_ref = table[REFERENCE_GAIN_INDEX]
    gains = {}
    for k, (t, ch0, ch1) in table.items():
        if ch0 < SATURATED and ch0_ref > 0:
            gains[k] = (ch0 / t) / (ch0_ref / t_ref)
        elif ch1 < SATURATED and ch1_ref > 0:
            gains[k] = (ch1 / t) / (ch1_ref / t_ref)
    return gains


def capture_seconds_since_boot(exif: dict) -> float | None:
    """The capture time on the sunshine sensor's clock: EXIF DateTimeDigitized (1970-01-01 + uptime) + sub-seconds."""
    stamp = exif.get("DateTimeDigitized")
    if not stamp or not str(stamp).startswith("1970"):
        return None
    when = dt.datetime.strptime(str(stamp), "%Y:%m:%d %H:%M:%S")
    sub = str(exif.get("SubsecTimeDigitized", "0")).strip() or "0"
    return (when - dt.datetime(1970, 1, 1)).total_seconds() + float(f"0.{sub}")


def sunshine_irradiance(xmp: dict, exif: dict, path="<file>") -> SunshineReading:
    """The record nearest the capture time, CH0 / (gain · integration time); named errors for missing tags."""
    raw = base64.b64decode(str(xmp.get("IrradianceList", "")))
    records = [struct.unpack_from(RECORD, raw, i) for i in range(0, len(raw) - struct.calcsize(RECORD) + 1,
                                                                 struct.calcsize(RECORD))]
    if not records:
        raise InputDataError(path, "has no sunshine-sensor records (IrradianceList)", "calibrate with a panel")
    if "IrradianceCalibrationMeasurement" not in xmp:
        raise InputDataError(path, "has no IrradianceCalibrationMeasurement (sunshine gain table)",
                             "calibrate with a panel; the sunshine gains cannot be derived")
    gains = sunshine_gains(numbers(xmp["IrradianceCalibrationMeasurement"]), path)
    seconds = capture_seconds_since_boot(exif)
    if seconds is None:
        raise InputDataError(path, "has no capture time on the sunshine clock (EXIF DateTimeDigitized since boot)",
                             "use the camera's original files")
    stamp, ch0, _, index, t_ms, *_ = min(records, key=lambda r: abs(r[0] / 1e6 - seconds))
    if index not in gains:
        raise InputDataError(path, f"sunshine record uses gain index {index}, whose calibration is saturated or absent "
                             f"(IrradianceCalibrationMeasurement)", "calibrate with a panel")
    if t_ms <= 0:
        raise InputDataError(path, "sunshine record has integration time 0 ms", "calibrate with a panel")
    offset = stamp / 1e3 - seconds * 1e3
    return SunshineReading(ch0 / (gains[index] * t_ms), ch0, index, gains[index], t_ms, round(offset, 1),
                           f"Sequoia sunshine record nearest the capture ({offset:+.0f} ms), gain index {index} → "
                           f"{gains[index]:.4g} (IrradianceCalibrationMeasurement)")
