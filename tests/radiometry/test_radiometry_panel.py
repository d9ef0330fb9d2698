"""Calibration panel: found at a random place beside a brighter saturated distractor; a saturated panel is refused."""
from __future__ import annotations

import json

import numpy as np
import pytest
import rasterio
from test_radiometry_micasense import BANDS, SHAPE, write_capture

from pipelines.core.bands import band_role
from pipelines.core.errors import InputDataError
from pipelines.imagery.ingest.captures import group_captures
from pipelines.imagery.ingest.panel import panel_region
from pipelines.imagery.ingest.radiometry import calibrate_capture

PANEL_RHO = {"blue": 0.49, "green": 0.50, "red": 0.51, "rededge": 0.52, "nir": 0.53}  # the panel's calibration sheet
SIDE = 34


def _panel_scene(seed: int, distractor: bool = True, panel_layer: float | None = None) -> tuple[np.ndarray, tuple]:
    """Textured ground, a panel at a random place, optionally a clipped white square elsewhere."""
    rng = np.random.default_rng(seed)
    scene = rng.uniform(0.4, 1.6, (5, *SHAPE))  # vegetation/soil texture: never uniform
    row, col = int(rng.integers(2, SHAPE[0] - SIDE - 2)), int(rng.integers(2, SHAPE[1] // 2 - SIDE))
    for i, (name, _, rho) in enumerate(BANDS):
        scene[i, row:row + SIDE, col:col + SIDE] = panel_layer or PANEL_RHO[band_role(name)] / rho
    if distractor:  # a white car roof, saturated in every band, on the other half of the frame
        scene[:, 10:10 + SIDE, SHAPE[1] - SIDE - 4:SHAPE[1] - 4] = 1000.0
    return scene, (row, col)


@pytest.mark.parametrize("seed", [11, 12, 13])
def test_panel_found_beside_saturated_distractor_and_flight_recovered(tmp_path, seed):
    scene, (row, col) = _panel_scene(seed)
    (tmp_path / "panel").mkdir()
    (tmp_path / "flight").mkdir()
    panel = group_captures(write_capture(tmp_path / "panel", 1, scene, irradiance=1.1))[0]
    region = panel_region(*[(im.dn(), im.dn()) for im in panel.images[:1]][0])
    assert region.saturated_skipped
    assert row <= region.rows.start and region.rows.stop <= row + SIDE
    assert col <= region.cols.start and region.cols.stop <= col + SIDE
    flight = group_captures(write_capture(tmp_path / "flight", 2, np.ones((5, *SHAPE)), irradiance=1.3))[0]
    result = calibrate_capture(flight, panel=panel, panel_reflectance=PANEL_RHO)
    truth = {"blue": 0.05, "green": 0.08, "red": 0.06, "rededge": 0.25, "nir": 0.45}
    for band, layer in zip(result.bands, result.reflectance):
        assert np.median(layer) == pytest.approx(truth[band], rel=0.01)
    assert sum("saturated square was skipped" in w for w in result.warnings) == 5


def test_saturated_panel_is_refused_with_the_file_named(tmp_path):
    scene, _ = _panel_scene(4, distractor=False, panel_layer=1000.0)
    panel = group_captures(write_capture(tmp_path, 1, scene))[0]
    flight_dir = tmp_path / "f"
    flight_dir.mkdir()
    flight = group_captures(write_capture(flight_dir, 2, np.ones((5, *SHAPE))))[0]
    with pytest.raises(InputDataError, match=r"IMG_0001_1\.tif: the calibration panel is saturated"):
        calibrate_capture(flight, panel=panel, panel_reflectance=0.5)


def test_panel_albedo_from_xmp_and_per_band_list_on_the_command_line(tmp_path, capsys):
    from pipelines.cli import main

    scene, _ = _panel_scene(21)
    (tmp_path / "panel").mkdir()
    panel_files = write_capture(tmp_path / "panel", 1, scene, extra='MicaSense:Albedo="0.51"')
    panel = group_captures(panel_files)[0]
    flight_files = write_capture(tmp_path, 2, np.ones((5, *SHAPE)))
    from_xmp = calibrate_capture(group_captures(flight_files)[0], panel=panel)  # albedo 0.51 for all bands
    assert np.median(from_xmp.reflectance[0]) == pytest.approx(0.05 * 0.51 / 0.49, rel=0.01)
    wavelength_order = "0.49,0.50,0.51,0.52,0.53"  # blue green red rededge nir
    assert main(["reflectance", *map(str, flight_files), "--panel", *map(str, panel_files),
                 "--panel-reflectance", wavelength_order, "-o", str(tmp_path / "out.tif")]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["method"] == "panel + irradiance sensor" and summary["relative"] is False
    with rasterio.open(tmp_path / "out.tif") as out:
        assert float(np.nanmedian(out.read(1))) == pytest.approx(0.05, rel=0.01)
        assert float(np.nanmedian(out.read(5))) == pytest.approx(0.45, rel=0.01)
    assert main(["reflectance", *map(str, flight_files), "--panel", *map(str, panel_files),
                 "--panel-reflectance", "0.5,0.5", "-o", str(tmp_path / "x.tif")]) == 2
    assert "2 panel reflectance values for 5 bands" in capsys.readouterr().err
