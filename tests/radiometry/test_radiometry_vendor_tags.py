"""Vendor tags read as the vendors write them, checked against the vendors' own published numbers.

MicaSense numbers come from the tests of MicaSense's open-source `imageprocessing` library (its
sample RedEdge capture data/0000SET/000/IMG_0000_1.tif, 2017 firmware): sun position and sun-sensor
angle, diffuser Fresnel transmission, DLS pose → sensor normal, exposure/gain/black level. The
Sequoia numbers are the real capture's own tags in ../shared/data/sequoia.
"""
from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path

import numpy as np
import pytest
import tifffile

from pipelines.core.errors import InputDataError
from pipelines.imagery.ingest.captures import group_captures, read_band_image
from pipelines.imagery.ingest.dls import (
    diffuser_transmission,
    dls_irradiance,
    sensor_normal_ned,
    solar_position,
    sun_vector_ned,
)
from pipelines.imagery.ingest.radiometry import calibrate_capture

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "sequoia"
needs_data = pytest.mark.skipif(not DATA.is_dir(), reason=f"real Sequoia sample absent ({DATA})")

# MicaSense IMG_0000_1.tif (their tests/test_metadata.py, test_dls.py)
POSITION = (36.576096, -119.4352689, 101.861)
UTC = dt.datetime(2017, 10, 19, 20, 40, 39, 200174)
POSE = (-3.070, -0.188, -0.013)
VIGNETTE_CENTRE = (676.703, 480.445)
VIGNETTE_POLY = [-3.188190987533484e-05, 1.1380741452056501e-07, -2.7776829778142425e-09, 9.981184981301047e-12,
                 -1.4703936738578638e-14, 7.334097230810222e-18]


def test_sun_and_sensor_geometry_match_micasense_published_values():
    elevation, azimuth = solar_position(POSITION[0], POSITION[1], UTC)
    assert elevation == pytest.approx(0.7193, abs=0.001) and azimuth == pytest.approx(3.4756, abs=0.001)
    sun, sensor = sun_vector_ned(elevation, azimuth), sensor_normal_ned(*POSE)
    assert sun == pytest.approx([-0.711, -0.247, -0.659], abs=0.001)
    assert sensor == pytest.approx([-1.87482468e-01, 1.82720334e-05, -9.82267949e-01], abs=0.001)
    assert math.acos(sun @ sensor) == pytest.approx(0.6754, abs=0.001)
    # Greenwich at the 2019 equinox: sun elevation 90° − latitude, due south (MicaSense test_dls vs USNO)
    elevation, azimuth = solar_position(51.4769, 0.0, dt.datetime(2019, 3, 21, 12, 8))
    assert elevation == pytest.approx(math.radians(90 - 51.4769), abs=0.01) and azimuth == pytest.approx(math.pi,
                                                                                                         abs=0.01)
    for pose, normal in [((0, -math.pi / 2, 0), [1, 0, 0]), ((math.pi / 2, -math.pi / 2, 0), [0, 1, 0]),
                         ((0, math.pi / 2, 0), [-1, 0, 0]), ((0, 0, 0), [0, 0, -1])]:
        assert sensor_normal_ned(*pose) == pytest.approx(normal, abs=1e-9)


def test_diffuser_transmission_matches_micasense_published_values():
    for angle, expected in [(0.0, 0.9416), (0.5, 0.940), (0.99, 0.903), (1.0, 0.901)]:
        assert diffuser_transmission(angle) == pytest.approx(expected, abs=0.001)


def test_dls_methods_dls2_horizontal_dls1_sun_angle_and_uncorrected():
    dls2 = dls_irradiance({"HorizontalIrradiance": "112.15", "DirectIrradiance": "90", "ScatteredIrradiance": "30"},
                          "Altum", "v1.3.4", POSITION, UTC)
    assert dls2.value == pytest.approx(1.1215, rel=1e-4) and "HorizontalIrradiance" in dls2.method  # scale 0.01
    dls1 = dls_irradiance({"SpectralIrradiance": "1.0848", "Yaw": str(POSE[0]), "Pitch": str(POSE[1]),
                           "Roll": str(POSE[2])}, "RedEdge", "v2.1.2-34-g05e37eb-local", POSITION, UTC)
    # MicaSense's DLS 1 model by hand: E_dir = E/T(θ)/(1/6 + cos θ); E = E_dir·sin(el) + E_dir/6
    theta, el = 0.6754, 0.7193
    direct = 1.0848 / diffuser_transmission(theta) / (1 / 6 + math.cos(theta))
    assert dls1.value == pytest.approx(direct * math.sin(el) + direct / 6, rel=0.002)
    assert "sun-angle corrected" in dls1.method
    bare = dls_irradiance({"SpectralIrradiance": "1.0848"}, "RedEdge", "v2.1.2", None, UTC)
    assert bare.value == 1.0848 and "not sun-angle corrected" in bare.method and "GPS" in bare.method


def _seq(values) -> str:
    return "<rdf:Seq>" + "".join(f"<rdf:li>{v}</rdf:li>" for v in values) + "</rdf:Seq>"


def _rededge_file(path: Path, dn: np.ndarray, band: str, iso: int, exposure_s: float, a1: float,
                  black: tuple = (4800, 4800, 4800, 4800), iso_tag: int = 34867, extra_tags=()) -> Path:
    """A RedEdge (2017 firmware) band file as the camera writes it: ISO in EXIF ISOSpeed (0x8833)."""
    xmp = (f'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
           f'<rdf:Description xmlns:Camera="http://pix4d.com/camera/1.0/" xmlns:MicaSense="http://micasense.com/MicaSense/1.0/"'
           f' Camera:BandName="{band}" MicaSense:CaptureId="{path.stem[:8]}">'
           f'<MicaSense:RadiometricCalibration>{_seq([a1, 0.0, 0.0])}</MicaSense:RadiometricCalibration>'
           f'<Camera:VignettingCenter>{_seq(VIGNETTE_CENTRE)}</Camera:VignettingCenter>'
           f'<Camera:VignettingPolynomial>{_seq(VIGNETTE_POLY)}</Camera:VignettingPolynomial>'
           f'</rdf:Description></rdf:RDF></x:xmpmeta>').encode()
    tags = [(271, "s", 0, "MicaSense", True), (272, "s", 0, "RedEdge", True),
            (305, "s", 0, "v2.1.2-34-g05e37eb-local", True),
            (700, "B", 0, xmp, True), (33434, "2I", 1, (int(round(exposure_s * 1e7)), 10_000_000), True),
            (iso_tag, "I" if iso_tag == 34867 else "H", 1, iso, True), *extra_tags]
    if black:
        tags.append((50714, "H", len(black), black, True))
    tifffile.imwrite(path, dn, extratags=tags)
    return path


BANDS = [("Blue", 1), ("Green", 2), ("Red", 3), ("NIR", 4), ("Red edge", 5)]
PANEL = {"blue": 0.67, "green": 0.69, "red": 0.68, "nir": 0.61, "rededge": 0.67}  # RP02 sheet (MicaSense tutorial 2)


def test_mixed_gains_from_isospeed_match_micasense_formula(tmp_path):
    """IMG_0001 bands 3 and 5 at ISO 200 (EXIF ISOSpeed only): reflectance = MicaSense's formula within 1 %."""
    shape, te_panel, te_flight = (960, 1280), 0.0004725, 0.001
    rows, cols = slice(400, 560), slice(600, 760)
    (tmp_path / "panel").mkdir(), (tmp_path / "flight").mkdir()
    panel_files, flight_files, flight_dn = [], [], {}
    for (band, k), flight_level in zip(BANDS, (12000, 14000, 9000, 30000, 21000)):
        dn = np.full(shape, 9000, np.uint16)
        dn[rows, cols] = 45406  # MicaSense's published raw panel mean (test_panel.py)
        panel_files.append(_rededge_file(tmp_path / "panel" / f"IMG_0000_{k}.tif", dn, band, 100, te_panel, 1.4654e-4))
        iso = 200 if k in (3, 5) else 100
        flight_dn[band] = np.full(shape, flight_level, np.uint16)
        flight_files.append(_rededge_file(tmp_path / "flight" / f"IMG_0001_{k}.tif", flight_dn[band], band, iso,
                                          te_flight, 1.4654e-4))
    images = {im.band: im for im in group_captures(flight_files)[0].images}
    assert [images[b].iso for b in ("blue", "green", "red", "nir", "rededge")] == [100, 100, 200, 100, 200]
    assert images["red"].black_level == 4800 and images["red"].exposure_s == pytest.approx(te_flight)
    result = calibrate_capture(group_captures(flight_files)[0], group_captures(panel_files)[0], PANEL)
    assert result.method == "panel"
    r, c = 480, 680  # a pixel inside the panel square of the panel capture: same vignetting in both captures

    def micasense_radiance(dn, gain,
                           te):  # MicaSense tutorial 1: L = V·R·(p − BL)/(g·t_e)·a1/2^16 with R = 1 (a2 = a3 = 0)
        radius = math.hypot(c - VIGNETTE_CENTRE[0], r - VIGNETTE_CENTRE[1])
        vignette = 1.0 / (1.0 + sum(k * radius ** (i + 1) for i, k in enumerate(VIGNETTE_POLY)))
        return vignette * (dn - 4800) / (gain * te) * 1.4654e-4 / 65536

    for band, k in BANDS:
        role = {"Red edge": "rededge"}.get(band, band.lower())
        gain = 2.0 if k in (3, 5) else 1.0
        expected = PANEL[role] * micasense_radiance(float(flight_dn[band][r, c]), gain, te_flight) \
            / micasense_radiance(45406.0, 1.0, te_panel)
        got = float(result.reflectance[result.bands.index(role)][r, c])
        assert got == pytest.approx(expected, rel=0.01), band
        assert result.panel_irradiance[role] == pytest.approx(math.pi * result.panel_radiance[role] / PANEL[role],
                                                              rel=1e-6)


def test_missing_gain_or_black_level_is_a_named_error(tmp_path):
    dn = np.full((96, 128), 20000, np.uint16)
    no_iso = _rededge_file(tmp_path / "IMG_0002_1.tif", dn, "Blue", 100, 0.001, 1e-4,
                           iso_tag=37386)  # FocalLength tag instead
    with pytest.raises(InputDataError, match=r"IMG_0002_1.tif: .*ISOSpeed"):
        read_band_image(no_iso)
    no_black = _rededge_file(tmp_path / "IMG_0003_1.tif", dn, "Blue", 100, 0.001, 1e-4, black=())
    with pytest.raises(InputDataError, match=r"IMG_0003_1.tif: .*BlackLevel"):
        read_band_image(no_black)
    legacy = _rededge_file(tmp_path / "IMG_0004_1.tif", dn, "Blue", 100, 1 / 6329, 1e-4)
    assert read_band_image(legacy).exposure_s == pytest.approx(0.000274)  # legacy RedEdge firmware exposure fix


@needs_data
def test_sequoia_sunshine_record_nearest_capture_with_calibrated_gain():
    capture = group_captures(sorted(DATA.glob("*.TIF")))[0]
    result = calibrate_capture(capture)
    # nearest record at 149.990744 s since boot vs capture at 150.128607 s: CH0 34/28/6/14 at gain index 1,
    # 100 ms; gain index 1 is the reference of IrradianceCalibrationMeasurement → E = CH0 / 100 ms
    assert result.irradiance == pytest.approx({"green": 0.34, "red": 0.28, "rededge": 0.06, "nir": 0.14}, rel=1e-9)
    assert all("nearest the capture (-138 ms)" in m for m in result.irradiance_method.values())
    assert result.relative and result.method == "irradiance sensor"
    assert any("band ratios" in w for w in result.warnings)
    # Parrot SEQ-AN-01 by hand at two pixels, tags from exiftool's dump (an independent reader):
    # I = f²(p/V − B)/(A·ε·γ + C), V the 2-D polynomial in x/width, y/height
    dump = {d["SourceFile"]: d for d in json.loads((DATA / "exiftool_dump.json").read_text())}
    for image, layer in zip(capture.images, result.reflectance):
        tags = dump[image.path.name]
        a, b, c = (float(v) for v in tags["XMP-Camera:SensorModel"].split(","))
        names = [int(v) for v in tags["XMP-Camera:VignettingPolynomial2DName"].split(",")]
        coefs = [float(v) for v in tags["XMP-Camera:VignettingPolynomial2D"].split(",")]
        assert image.iso == tags["ExifIFD:ISO"]
        dn = image.dn()
        for y, x in ((480, 640), (100, 1100)):
            v = sum(k * (x / 1280) ** names[2 * i] * (y / 960) ** names[2 * i + 1] for i, k in enumerate(coefs))
            expected = 2.2 ** 2 * (dn[y, x] / v - b) / (a * 0.003 * image.iso + c) / result.irradiance[image.band]
            assert float(layer[y, x]) == pytest.approx(expected, rel=1e-3)
