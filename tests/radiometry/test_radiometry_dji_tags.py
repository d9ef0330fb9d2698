"""DJI drone-dji XMP tags read as DJI's guides write them (issue 11).

Published values used: the "P4 Multispectral Image Processing Guide" v1.0 (2020.07) table of key
XMP tags gives CalibratedOpticalCenterX = 800 px, CalibratedOpticalCenterY = 650 px for the
1600 × 1300 px band images and a black level of 4096 (16-bit, normalised by 65535); the Mavic 3M
user manual's XMP table gives BlackCurrent = 3200 and BitsPerSample = 16, and the "Mavic 3M Image
Processing Guide" v1.0 (2023.08) normalises p and the black level by 2^bitnum and takes the
exposure from XMP ExposureTime in µs (X = (I − I_BL) / (SensorGain × ExposureTime / 1e6)).
"""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from pipelines.core.errors import InputDataError
from pipelines.imagery.ingest.captures import group_captures
from pipelines.imagery.ingest.radiometry import dji_signal
from tests.radiometry.test_radiometry_dji import M3M, P4M, RHO, VIGNETTING, write_capture

P4M_CENTRE = (800.0, 650.0)   # P4M guide, value examples of CalibratedOpticalCenterX/Y
P4M_BLACK = 4096              # P4M guide: black level
M3M_BLACK = 3200              # M3M user manual: BlackCurrent


def _image(tmp_path, model):
    bands = list(M3M if model == "M3M" else P4M)
    capture = group_captures(write_capture(tmp_path, model, {b: np.full((260, 320), RHO[b]) for b in bands}))[0]
    return capture.images[-1]  # NIR


def test_p4m_signal_at_the_guides_optical_centre_and_black_level(tmp_path):
    image = _image(tmp_path, "FC6360")
    xmp = {**image.xmp, "CalibratedOpticalCenterX": P4M_CENTRE[0], "CalibratedOpticalCenterY": P4M_CENTRE[1]}
    image = dataclasses.replace(image, xmp=xmp, black_level=float(P4M_BLACK))
    dn = np.full((1300, 1600), 20_000.0, np.float32)
    signal = dji_signal(image, dn)
    gain, exposure_s, p_cam = (float(xmp["SensorGain"]), float(xmp["ExposureTime"]) / 1e6,
                               float(xmp["SensorGainAdjustment"]))
    at_centre = (20_000 - P4M_BLACK) / 65535 / (gain * exposure_s) * p_cam
    assert signal[650, 800] == pytest.approx(at_centre, rel=1e-6)         # vignetting factor 1 at the centre
    r = 300.0                                                              # (1100, 650): 300 px east of it
    factor = 1 + sum(k * r ** (i + 1) for i, k in enumerate(VIGNETTING))
    assert signal[650, 1100] == pytest.approx(at_centre * factor, rel=1e-5)


def test_m3m_normalises_by_two_to_the_bits_and_reads_blackcurrent(tmp_path):
    image = _image(tmp_path, "M3M")
    assert image.black_level == M3M_BLACK                                  # XMP BlackCurrent
    xmp = image.xmp
    dn = np.full((260, 320), 13_200.0, np.float32)
    cx, cy = (float(v) for v in str(xmp["VignettingCenter"]).split(","))
    signal = dji_signal(image, dn)[int(cy), int(cx)]
    expected = (13_200 - M3M_BLACK) / 2 ** 16 / (float(xmp["SensorGain"]) * float(xmp["ExposureTime"]) / 1e6) \
        * float(xmp["SensorGainAdjustment"])
    assert signal == pytest.approx(expected, rel=1e-6)


def test_exposure_comes_from_the_xmp_microseconds_not_the_rounded_exif(tmp_path):
    image = _image(tmp_path, "FC6360")
    dn = image.dn()
    rounded = dataclasses.replace(image, exposure_s=1 / 800)              # an EXIF rational rounded for display
    np.testing.assert_array_equal(dji_signal(rounded, dn), dji_signal(image, dn))


@pytest.mark.parametrize("tag", ["SensorGain", "SensorGainAdjustment", "VignettingData", "CalibratedOpticalCenterY"])
def test_missing_model_tag_is_a_named_error(tmp_path, tag):
    image = _image(tmp_path, "FC6360")
    broken = dataclasses.replace(image, xmp={k: v for k, v in image.xmp.items() if k != tag})
    with pytest.raises(InputDataError) as err:
        dji_signal(broken, image.dn())
    assert image.path.name in str(err.value) and tag in str(err.value)
