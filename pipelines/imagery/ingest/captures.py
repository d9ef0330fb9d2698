"""Raw multispectral captures: one 16-bit TIFF per band, grouped into captures by capture id.

`read_band_image` reads a band file's EXIF (ISO, exposure, f-number, black level, time, GPS) and
XMP (band name, radiometric model, irradiance; DJI's XMP GPS when EXIF has none) and detects the
sensor from EXIF Make/Model against `configs/sensors/*.yaml`, never from a folder name.
`group_captures` groups files by their CaptureUUID/CaptureId (the file name's capture part when the
camera writes none) and checks every band of the sensor is present exactly once.
"""
from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import tifffile

from pipelines.core.bands import band_role
from pipelines.core.config import Sensor, load_sensor, sensor_ids
from pipelines.core.errors import InputDataError
from pipelines.imagery.ingest.xmp import numbers, parse_xmp

BAND_NAME_KEYS = ("BandName",)
CAPTURE_KEYS = ("CaptureUUID", "CaptureId", "CaptureUUID")


@dataclass
class BandImage:
    """One band file of a capture with the metadata the radiometric models need."""

    path: Path
    sensor: Sensor
    band: str
    capture_id: str
    iso: float
    exposure_s: float
    f_number: float | None
    black_level: float
    captured: dt.datetime | None
    position: tuple[float, float, float] | None   # lat_deg, lon_deg, alt_m; None when the file has no fix
    xmp: dict
    shape: tuple[int, int]
    orientation: int = 1
    warnings: list[str] = field(default_factory=list)
    exif: dict = field(default_factory=dict)   # EXIF/TIFF tags by name (focal length, focal-plane resolution…)

    def dn(self) -> np.ndarray:
        """Raw digital numbers (uint16 as float32), as stored (orientation is a display hint only)."""
        return tifffile.imread(self.path).astype(np.float32)


def _rational(value) -> float | None:
    if value is None:
        return None
    if isinstance(value, tuple):
        return value[0] / value[1] if value[1] else None
    return float(value)


def _gps(gps: dict | None) -> tuple[float, float, float] | None:
    if not gps or "GPSLatitude" not in gps or gps.get("GPSStatus") == "V":
        return None

    def degrees(raw, ref) -> float:
        parts = [raw[i] / raw[i + 1] for i in range(0, 6, 2)] if len(raw) == 6 else list(raw)
        value = parts[0] + parts[1] / 60 + parts[2] / 3600
        return -value if ref in ("S", "W") else value

    altitude = _rational(gps.get("GPSAltitude")) or 0.0
    return (degrees(gps["GPSLatitude"], gps.get("GPSLatitudeRef")),
            degrees(gps["GPSLongitude"], gps.get("GPSLongitudeRef")),
            altitude)


def _xmp_gps(xmp: dict) -> tuple[float, float, float] | None:
    """DJI drone-dji GpsLatitude/GpsLongitude (older firmware spells it GpsLongtitude), AbsoluteAltitude."""
    lon = xmp.get("GpsLongitude", xmp.get("GpsLongtitude"))
    if "GpsLatitude" not in xmp or lon is None:
        return None
    return float(xmp["GpsLatitude"]), float(lon), float(xmp.get("AbsoluteAltitude", 0.0))


def detect_sensor(make: str, model: str, path: str | Path = "<file>") -> Sensor:
    """The sensor profile whose EXIF Make and Model match the file's own."""
    for sensor_id in sensor_ids():
        sensor = load_sensor(sensor_id)
        if sensor.make.lower() == make.strip().lower() and model.strip() in sensor.models:
            return sensor
    raise InputDataError(path, f"unknown sensor (EXIF Make '{make}', Model '{model}')",
                         "add a profile to configs/sensors/ with this make and model")


def _band(sensor: Sensor, xmp: dict, path: Path) -> str:
    role = band_role(str(xmp.get("BandName", "")))
    if role is None:
        for band in sensor.bands:
            if band.file_suffix and path.stem.upper().endswith(band.file_suffix.upper()):
                role = band.name
    if role not in sensor.band_names:
        raise InputDataError(path, f"band '{xmp.get('BandName')}' is not a band of {sensor.name}",
                             "check the file belongs to this camera")
    return role


def _iso(sensor: Sensor, exif: dict, xmp: dict, path: Path) -> float:
    """ISO as the vendor writes it: MicaSense EXIF ISOSpeed (0x8833; gain = ISO/100, MicaSense metadata
    module), else ISOSpeedRatings (0x8827, Sequoia, DJI); DJI XMP SensorGain × 100 when EXIF has none."""
    keys = ("ISOSpeed", "ISOSpeedRatings", "PhotographicSensitivity") if sensor.metadata_layout == "micasense" \
        else ("ISOSpeedRatings", "PhotographicSensitivity", "ISOSpeed")
    iso = next((exif[k] for k in keys if exif.get(k)), None)
    if iso is None and "SensorGain" in xmp:
        iso = 100 * float(xmp["SensorGain"])
    if iso is None:
        raise InputDataError(path, "has no gain: EXIF ISOSpeed (0x8833), ISOSpeedRatings (0x8827) and XMP SensorGain "
                             "are all absent", "use the camera's original files (gain = ISO/100 is part of the model)")
    return float(iso[0] if isinstance(iso, tuple) else iso)


def _black_level(sensor: Sensor, tags: dict, xmp: dict, path: Path) -> list[float]:
    """Black level: EXIF BlackLevel (MicaSense, DJI P4M: mean of the values), XMP BlackLevel/BlackCurrent.

    Sequoia's model carries its own dark offset (SensorModel B), so it needs none."""
    black = tags.get("BlackLevel") or numbers(xmp.get("BlackLevel") or xmp.get("BlackCurrent"))
    if black is None or (not isinstance(black, (int, float)) and len(black) == 0):
        if sensor.metadata_layout == "sequoia":
            return [0.0]
        raise InputDataError(path, "has no black level (EXIF BlackLevel, XMP BlackLevel/BlackCurrent)",
                             "use the camera's original files; the dark offset is part of the radiometric model")
    return list(black) if isinstance(black, (tuple, list)) else [float(black)]


def read_band_image(path: str | Path) -> BandImage:
    """Read one raw band file's metadata; `InputDataError` for unreadable files or unknown sensors."""
    path = Path(path)
    if not path.is_file():
        raise InputDataError(path, "band file not found", "copy every band file of the capture")
    try:
        with tifffile.TiffFile(path) as tif:
            page = tif.pages[0]
            tags = {tag.name: tag.value for tag in page.tags.values()}
            shape = page.shape[:2]
            if page.dtype != np.uint16 or page.samplesperpixel != 1:
                raise InputDataError(path, f"is {page.dtype} with {page.samplesperpixel} samples, not a 16-bit band",
                                     "give the raw per-band TIFFs, not a processed image")
            expected = int(np.prod(page.shape)) * 2
            if sum(page.databytecounts) < expected and page.compression == 1:
                raise InputDataError(path, "is truncated (pixel data shorter than the image)", "copy the file again")
            page.asarray()
    except (tifffile.TiffFileError, ValueError, OSError, IndexError) as exc:
        raise InputDataError(path, f"is not a readable TIFF ({exc})",
                             "copy the file again from the camera's card") from None
    exif = {**tags, **(tags.get("ExifTag", {}) or {})}  # some writers keep EXIF fields in IFD0
    xmp = parse_xmp(tags["XMP"], path) if "XMP" in tags else {}
    sensor = detect_sensor(str(tags.get("Make", "")), str(tags.get("Model", "")), path)
    iso = _iso(sensor, exif, xmp, path)
    exposure = _rational(exif.get("ExposureTime"))
    if exposure is None:
        raise InputDataError(path, "has no EXIF ExposureTime",
                             "radiometric calibration needs it; use the camera's raw files")
    if sensor.metadata_layout == "micasense" and str(tags.get("Model", "")).strip() != "Altum" \
            and abs(exposure - 1 / 6329) < 1e-6:
        exposure = 0.000274  # legacy RedEdge firmware wrote 1/6329 s for 274 µs (MicaSense metadata.exposure)
    black = _black_level(sensor, tags, xmp, path)
    stamp = exif.get("DateTimeOriginal") or tags.get("DateTime")
    captured = dt.datetime.strptime(stamp, "%Y:%m:%d %H:%M:%S") if stamp and not stamp.startswith("0000") else None
    capture_id = next((str(xmp[k]) for k in CAPTURE_KEYS if k in xmp), None)
    if capture_id is None and sensor.file_pattern:
        match = re.match(sensor.file_pattern, path.name)
        capture_id = match["capture"] if match else None
    position = _gps(tags.get("GPSTag")) or _xmp_gps(xmp)
    warnings = [] if position else [f"{path.name}: no GPS position in the file; the capture is not geolocated "
                                    f"(no position is invented)"]
    return BandImage(path, sensor, _band(sensor, xmp, path), capture_id or path.stem, iso, exposure,
                     _rational(exif.get("FNumber")), float(np.mean(black)), captured, position, xmp, shape,
                     int(tags.get("Orientation", 1)), warnings,
                     {k: v for k, v in exif.items() if k not in ("XMP", "StripOffsets", "StripByteCounts")})


@dataclass
class Capture:
    """All bands of one trigger of the camera, ordered by the sensor's wavelength order."""

    capture_id: str
    sensor: Sensor
    images: list[BandImage]

    @property
    def bands(self) -> list[str]:
        """Band role of each image, in the capture's order."""
        return [image.band for image in self.images]

    @property
    def warnings(self) -> list[str]:
        """The warnings of all the capture's images."""
        return [w for image in self.images for w in image.warnings]


def group_captures(paths: list[str | Path], require_all_bands: bool = True) -> list[Capture]:
    """Group band files into captures; errors name the file for mixed sensors, duplicates and missing bands."""
    images = [read_band_image(p) for p in paths]
    if not images:
        raise InputDataError("<captures>", "no band files given", "pass the TIFFs of at least one capture")
    sensors = {image.sensor.id for image in images}
    if len(sensors) > 1:
        raise InputDataError(images[0].path.parent, f"mixes files of several sensors {sorted(sensors)}",
                             "put each camera's files in its own flight folder")
    groups: dict[str, list[BandImage]] = defaultdict(list)
    for image in images:
        groups[image.capture_id].append(image)
    captures = []
    for capture_id, members in sorted(groups.items()):
        sensor = members[0].sensor
        seen: dict[str, Path] = {}
        for image in members:
            if image.band in seen:
                raise InputDataError(image.path, f"band '{image.band}' appears twice in capture {capture_id} "
                                     f"(also {seen[image.band].name})", "remove the duplicate or split mixed captures")
            seen[image.band] = image.path
        missing = [b for b in sensor.band_names if b not in seen and b != "lwir"]
        if missing and require_all_bands:
            raise InputDataError(members[0].path, f"capture {capture_id} lacks band file(s) {missing}",
                                 "copy the missing band files from the camera's card")
        order = {b: i for i, b in enumerate(sensor.band_names)}
        captures.append(Capture(capture_id, sensor, sorted(members, key=lambda im: order[im.band])))
    return captures
