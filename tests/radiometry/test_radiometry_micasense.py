"""MicaSense captures built to the vendor's XMP layout: the calibration model inverts exactly."""
from __future__ import annotations

import numpy as np
import pytest
import tifffile

from pipelines.imagery.ingest.captures import group_captures
from pipelines.imagery.ingest.radiometry import calibrate_capture

BANDS = [("Blue", 1, 0.05), ("Green", 2, 0.08), ("Red", 3, 0.06), ("NIR", 4, 0.45), ("Red edge", 5, 0.25)]
A1, A2, A3, K = 0.02, 1.5e-7, 1.4e-6, [1e-4, -2e-7, 1e-9, 0, 0, 0]
E = 1.2  # DLS spectral irradiance, W m-2 nm-1
SHAPE = (96, 128)


def _xmp(band: str, capture: str, irradiance: float, extra: str = "") -> bytes:
    seq = lambda v: "<rdf:Seq>" + "".join(f"<rdf:li>{x}</rdf:li>" for x in v) + "</rdf:Seq>"  # noqa: E731
    return (f'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
            f'<rdf:Description xmlns:Camera="http://pix4d.com/camera/1.0/" xmlns:MicaSense="http://micasense.com/MicaSense/1.0/"'
            f' xmlns:DLS="http://micasense.com/DLS/1.0/" Camera:BandName="{band}" MicaSense:CaptureId="{capture}"'
            f' DLS:Irradiance="{irradiance}" {extra}>'
            f'<MicaSense:RadiometricCalibration>{seq([A1, A2, A3])}</MicaSense:RadiometricCalibration>'
            f'<Camera:VignettingCenter>{seq([64, 48])}</Camera:VignettingCenter>'
            f'<Camera:VignettingPolynomial>{seq(K)}</Camera:VignettingPolynomial>'
            f'</rdf:Description></rdf:RDF></x:xmpmeta>').encode()


def _dn(radiance: np.ndarray, iso: int, te: float) -> np.ndarray:
    rows, cols = np.indices(SHAPE)
    r = np.hypot(cols - 64, rows - 48)
    vignette = 1 / (1 + sum(k * r ** (i + 1) for i, k in enumerate(K)))
    signal = radiance * (te + A2 * rows - A3 * te * rows) * (iso / 100) / (A1 * vignette)
    return np.clip(np.round(signal * 65536 + 4800), 0, 65535).astype(np.uint16)  # the sensor clips at 2^16 − 1


def write_band_file(path, dn: np.ndarray, model: str, xmp: bytes, iso: int = 100, te: float = 0.004):
    """One MicaSense band TIFF: EXIF Make/Model/time/exposure/ISO, BlackLevel 4800, XMP packet."""
    tifffile.imwrite(path, dn, extratags=[
        (271, "s", 0, "MicaSense", True), (272, "s", 0, model, True), (306, "s", 0, "2026:01:15 11:02:03", True),
        (700, "B", 0, xmp, True), (50714, "H", 1, 4800, True),
        (33434, "2I", 1, (int(te * 1e6), 1_000_000), True), (34855, "H", 1, iso, True)])
    return path


def write_capture(folder, number: int, scene: np.ndarray, irradiance: float = E, isos=(100, 200, 100, 400, 100),
                  te: float = 0.004, extra: str = "", model: str = "RedEdge-MX") -> list:
    paths = []
    for (name, index, rho), iso, layer in zip(BANDS, isos, scene):
        radiance = rho * layer * irradiance / np.pi
        paths.append(write_band_file(folder / f"IMG_{number:04d}_{index}.tif", _dn(radiance, iso, te), model,
                                     _xmp(name, f"cap{number}", irradiance, extra), iso, te))
    return paths


def test_dls_reflectance_inverts_model_with_mixed_gains(tmp_path):
    scene = np.ones((5, *SHAPE))
    capture = group_captures(write_capture(tmp_path, 1, scene))[0]
    assert capture.sensor.id == "micasense_rededge_mx" and capture.bands == ["blue", "green", "red", "rededge", "nir"]
    result = calibrate_capture(capture)
    expected = {"blue": 0.05, "green": 0.08, "red": 0.06, "rededge": 0.25, "nir": 0.45}
    for band, layer in zip(result.bands, result.reflectance):
        assert np.median(layer) == pytest.approx(expected[band], rel=0.01)  # ISO 100/200/400 all land on truth
        assert np.percentile(layer, 99) / np.percentile(layer, 1) < 1.02  # vignetting + row gradient removed
    assert result.method == "irradiance sensor" and not result.relative and result.irradiance["nir"] == E
    assert any("no GPS position" in w for w in result.warnings)


def test_panel_calibration_recovers_reflectance_under_other_light(tmp_path):
    panel_scene = np.full((5, *SHAPE), 0.2)
    panel_scene[:, 20:76, 30:100] = [[[0.5 / rho]] for _, _, rho in BANDS]  # a 50 % panel
    (tmp_path / "panel").mkdir()
    (tmp_path / "flight").mkdir()
    panel = group_captures(write_capture(tmp_path / "panel", 1, panel_scene, irradiance=1.0))[0]
    flight = group_captures(write_capture(tmp_path / "flight", 2, np.ones((5, *SHAPE)), irradiance=1.3))[0]
    result = calibrate_capture(flight, panel=panel, panel_reflectance=0.5)
    assert result.method == "panel + irradiance sensor"
    assert np.median(result.reflectance[4]) == pytest.approx(0.45, rel=0.01)
    assert np.median(result.reflectance[0]) == pytest.approx(0.05, rel=0.01)


def test_reflectance_command_writes_band_stack_and_json(tmp_path, capsys):
    import json

    import rasterio

    from pipelines.cli import main

    files = write_capture(tmp_path, 7, np.ones((5, *SHAPE)))
    assert main(["reflectance", *map(str, files), "-o", str(tmp_path / "out.tif")]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["sensor"] == "micasense_rededge_mx" and summary["method"] == "irradiance sensor"
    with rasterio.open(tmp_path / "out.tif") as out:
        assert out.descriptions == ("blue", "green", "red", "rededge", "nir") and out.dtypes[0] == "float32"
        assert float(np.nanmedian(out.read(5))) == pytest.approx(0.45, rel=0.01)
    assert main(["reflectance", *map(str, files[:4]), "-o", str(tmp_path / "x.tif")]) == 2
    assert "lacks band file(s) ['rededge']" in capsys.readouterr().err
