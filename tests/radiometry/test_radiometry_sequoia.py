"""The real Parrot Sequoia capture in ../shared/data/sequoia reproduces its documented facts."""
from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.core.errors import InputDataError
from pipelines.imagery.ingest.captures import group_captures
from pipelines.imagery.ingest.xmp import parse_xmp

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "sequoia"
needs_data = pytest.mark.skipif(not DATA.is_dir(), reason=f"real Sequoia sample absent ({DATA})")


@needs_data
def test_sequoia_capture_facts():
    captures = group_captures(sorted(DATA.glob("*.TIF")))
    assert len(captures) == 1 and captures[0].capture_id == "BE5AB0ABA969E1CB424A394AA2FD3208"
    capture = captures[0]
    assert capture.sensor.id == "parrot_sequoia" and capture.bands == ["green", "red", "rededge", "nir"]
    assert [im.iso for im in capture.images] == [206, 325, 796, 621]
    assert all(im.exposure_s == pytest.approx(0.003, rel=1e-6) for im in capture.images)
    means = [float(im.dn().mean()) for im in capture.images]
    assert means == pytest.approx([22104.71, 21584.77, 12498.25, 22036.73], abs=0.01)
    assert all(im.position is None for im in capture.images)
    assert len(capture.warnings) == 4 and "no GPS position" in capture.warnings[0]
    assert capture.images[0].orientation == 3 and capture.images[0].shape == (960, 1280)


@needs_data
def test_missing_band_file_is_named(tmp_path):
    files = sorted(DATA.glob("*.TIF"))[:3]
    with pytest.raises(InputDataError, match=r"IMG_180413_080658_0000_.*lacks band file\(s\) \['rededge'\]"):
        group_captures(files)
    truncated = tmp_path / "IMG_180413_080658_0000_GRE.TIF"
    truncated.write_bytes(files[0].read_bytes()[:100_000])
    with pytest.raises(InputDataError, match="IMG_180413_080658_0000_GRE.TIF"):
        group_captures([truncated])


def test_xmp_with_entities_is_refused_not_expanded():
    bomb = ('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
            '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
            '<rdf:Description Camera:BandName="&b;" xmlns:Camera="http://pix4d.com/camera/1.0/"/></rdf:RDF></x:xmpmeta>')
    with pytest.raises(InputDataError, match="refused"):
        parse_xmp(bomb.replace('<?xml version="1.0"?>', ""), "bomb.tif")
    plain = ('<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
             '<rdf:Description xmlns:MicaSense="http://micasense.com/MicaSense/1.0/" MicaSense:BandName="Red edge">'
             '<MicaSense:RadiometricCalibration><rdf:Seq><rdf:li>0.00012</rdf:li><rdf:li>1.1e-7</rdf:li>'
             '</rdf:Seq></MicaSense:RadiometricCalibration></rdf:Description></rdf:RDF></x:xmpmeta>')
    assert parse_xmp(plain) == {"BandName": "Red edge", "RadiometricCalibration": ["0.00012", "1.1e-7"]}


@needs_data
def test_sequoia_sunshine_calibration_is_flagged_relative():
    from pipelines.imagery.ingest.radiometry import calibrate_capture

    result = calibrate_capture(group_captures(sorted(DATA.glob("*.TIF")))[0])
    assert result.method == "irradiance sensor" and result.relative
    assert any("relative" in w for w in result.warnings)
    assert all(e is not None and e > 0 for e in result.irradiance.values())
    assert result.reflectance.shape == (4, 960, 1280) and result.saturation_fraction["green"] < 0.01
