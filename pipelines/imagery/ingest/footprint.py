"""Direct georeferencing of one nadir frame: its ground footprint as an Affine in the farm CRS.

A pinhole camera looking straight down from H metres above flat ground sees one pixel as
GSD = H · p / f metres on the ground (p pixel pitch and f focal length in the same unit, or
H / f_px with f in pixels): the scale of a vertical photograph, S = f / H (Wolf, Dewitt &
Wilkinson, "Elements of Photogrammetry", 4th ed., ch. 6, Eq. 6-1; the collinearity equations of
ch. 11 with ω = φ = 0). The principal point (cx, cy) lies under the camera's GNSS position; the
image's top edge points along the camera yaw ψ (clockwise from true north), its right edge
along ψ + 90°. Three points (principal point, a step right, a step up) are moved along the
WGS84 ellipsoid with pyproj `Geod.fwd` and projected to the farm CRS with pyproj, so meridian
convergence and the projection's scale factor are part of the transform.

Read from each file: position (EXIF GPS, or DJI XMP GpsLatitude/GpsLongitude); height above
ground (DJI XMP `RelativeAltitude`, metres above take-off; otherwise GPS altitude minus the
farm's elevation, flagged: flat terrain assumed); yaw (MicaSense DLS `Yaw` in radians, DJI
`GimbalYawDegree` else `FlightYawDegree`, others `Yaw` in degrees); focal length and pixel pitch
(DJI `CalibratedFocalLength` px and `CalibratedOpticalCenterX/Y`; MicaSense
`PerspectiveFocalLength` mm or px, `PrincipalPoint` mm; else EXIF `FocalLength` mm; pitch from
EXIF `FocalPlaneXResolution` / `FocalPlaneResolutionUnit`). Pitch and roll are not modelled
(nadir assumed); when the file reports a tilt above `TILT_WARN_DEG` a warning gives the shift it
causes, H · tan(tilt).

Accuracy: metres, not centimetres (GNSS ±1–3 m, compass yaw ±2–5°, altitude, tilt, no lens
distortion model, no bundle adjustment).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from affine import Affine
from pyproj import CRS as ProjCRS
from pyproj import Geod, Transformer

from pipelines.core.errors import InputDataError
from pipelines.imagery.ingest.captures import BandImage

TILT_WARN_DEG = 3.0
MM_PER_UNIT = {1: None, 2: 25.4, 3: 10.0, 4: 1.0, 5: 0.001}   # EXIF FocalPlaneResolutionUnit → mm
WGS84 = Geod(ellps="WGS84")
REFIT = "produce an orthomosaic of the flight (OpenDroneMap, Pix4D, Metashape) and land it instead"


@dataclass(frozen=True)
class Footprint:
    """Where one frame lies: pixel (col, row) → farm CRS (x, y), and how that was derived."""

    transform: Affine
    gsd_m: float
    altitude_m: float
    altitude_from: str
    yaw_deg: float
    warnings: tuple[str, ...] = ()


def _value(value) -> float | None:
    if value is None:
        return None
    if isinstance(value, tuple) and len(value) == 2:
        return value[0] / value[1] if value[1] else None
    return float(value)


def _pixels_per_mm(image: BandImage) -> float | None:
    resolution = _value(image.exif.get("FocalPlaneXResolution"))
    unit_mm = MM_PER_UNIT.get(int(image.exif.get("FocalPlaneResolutionUnit", 2)))
    return resolution / unit_mm if resolution and unit_mm else None


def focal_geometry(image: BandImage) -> tuple[float, float, float]:
    """(focal length px, principal point cx px, cy px) from XMP or EXIF; `InputDataError` if absent."""
    xmp, (height, width) = image.xmp, image.shape
    if "CalibratedFocalLength" in xmp:
        return (float(xmp["CalibratedFocalLength"]), float(xmp.get("CalibratedOpticalCenterX", width / 2)),
                float(xmp.get("CalibratedOpticalCenterY", height / 2)))
    per_mm = _pixels_per_mm(image)
    centre = (width / 2, height / 2)
    if "PrincipalPoint" in xmp and per_mm:
        cx_mm, cy_mm = (float(v) for v in str(xmp["PrincipalPoint"]).split(",")[:2])
        centre = (cx_mm * per_mm, cy_mm * per_mm)
    if "PerspectiveFocalLength" in xmp:
        focal = float(xmp["PerspectiveFocalLength"])
        if xmp.get("PerspectiveFocalLengthUnits", "mm") != "mm":
            return focal, *centre
        if per_mm:
            return focal * per_mm, *centre
    focal_mm = _value(image.exif.get("FocalLength"))
    if focal_mm and per_mm:
        return focal_mm * per_mm, *centre
    raise InputDataError(image.path, "has no focal length and pixel pitch (EXIF FocalLength + FocalPlaneXResolution, "
                         "or XMP PerspectiveFocalLength / CalibratedFocalLength): the frame's ground size is unknown",
                         REFIT)


def _angles(image: BandImage) -> tuple[float | None, float]:
    """(yaw ° clockwise from north or None, tilt from nadir °) per the vendor's XMP units."""
    xmp, layout = image.xmp, image.sensor.metadata_layout
    if layout == "dji":
        yaw = xmp.get("GimbalYawDegree", xmp.get("FlightYawDegree"))
        pitch = float(xmp.get("GimbalPitchDegree", -90.0)) + 90.0
        roll = float(xmp.get("GimbalRollDegree", 0.0))
        return (None if yaw is None else float(yaw)), math.hypot(pitch, roll)
    to_deg = math.degrees if layout == "micasense" else float   # MicaSense DLS pose is in radians
    yaw = xmp.get("Yaw")
    tilt = math.hypot(to_deg(float(xmp.get("Pitch", 0.0))), to_deg(float(xmp.get("Roll", 0.0))))
    return (None if yaw is None else to_deg(float(yaw))), tilt


def height_above_ground(image: BandImage, ground_elevation_m: float | None) -> tuple[float, str, list[str]]:
    """(metres above ground, source, warnings): XMP RelativeAltitude, else GPS altitude − ground elevation
    (flagged in `source`: flat terrain at the farm's elevation is assumed)."""
    if "RelativeAltitude" in image.xmp:
        return float(image.xmp["RelativeAltitude"]), "XMP RelativeAltitude (above take-off)", []
    if ground_elevation_m is None:
        raise InputDataError(image.path, "has no RelativeAltitude and no ground elevation was given: the height "
                             "above ground is unknown", "set location.elevation_m in the farm's farm.yaml")
    return image.position[2] - ground_elevation_m, f"GPS altitude − farm elevation {ground_elevation_m:.1f} m", []


def footprint(image: BandImage, crs, ground_elevation_m: float | None = None) -> Footprint:
    """The frame's pixel → farm-CRS Affine (see module doc); `InputDataError` naming the file if it cannot be placed."""
    if image.position is None:
        raise InputDataError(image.path, "no position: not placed, never invented", REFIT)
    lat, lon, _ = image.position
    height, altitude_from, warnings = height_above_ground(image, ground_elevation_m)
    if not height > 0:
        raise InputDataError(image.path, f"height above ground is {height:.1f} m (not above the ground)",
                             "check the GPS altitude and the farm's elevation_m, or " + REFIT)
    yaw, tilt = _angles(image)
    if yaw is None:
        raise InputDataError(image.path,
                             "has no camera yaw (XMP Yaw / FlightYawDegree): the frame's orientation is unknown",
                             REFIT)
    if tilt > TILT_WARN_DEG:
        warnings.append(f"{image.path.name}: camera tilted {tilt:.1f}° from nadir, not modelled: the footprint may be "
                        f"off by about {height * math.tan(math.radians(tilt)):.1f} m")
    focal_px, cx, cy = focal_geometry(image)
    gsd = height / focal_px
    step_px = max(image.shape)
    points = [(lon, lat)]
    for azimuth in (yaw + 90.0, yaw):
        lon2, lat2, _ = WGS84.fwd(lon, lat, azimuth, gsd * step_px)
        points.append((lon2, lat2))
    to_farm = Transformer.from_crs(ProjCRS.from_epsg(4326), ProjCRS.from_user_input(crs.to_wkt()), always_xy=True)
    (x0, y0), (xr, yr), (xu, yu) = (to_farm.transform(*p) for p in points)
    a, d = (xr - x0) / step_px, (yr - y0) / step_px        # one pixel to the right
    b, e = -(xu - x0) / step_px, -(yu - y0) / step_px      # one pixel down
    transform = Affine(a, b, x0 - a * cx - b * cy, d, e, y0 - d * cx - e * cy)
    return Footprint(transform, round(gsd, 5), round(height, 3), altitude_from, round(yaw % 360, 3), tuple(warnings))
