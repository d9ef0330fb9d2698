"""Flight folders → manifests; bad flights are quarantined with their reason, never raised."""
from __future__ import annotations

import numpy as np
from affine import Affine

from pipelines.core.config import load_farm
from pipelines.imagery.ingest.flight import read_flight_folder

FIVE = ["blue", "green", "red", "rededge", "nir"]


def _landed(folder, mosaic, crs="EPSG:32629", sensor="micasense_rededge_mx"):
    folder.mkdir(parents=True)
    data = np.full((5, 100, 100), 1000, np.uint16)
    mosaic(folder / "orthomosaic.tif", data, crs, Affine(0.2, 0, 464300.0, 0, -0.2, 3342700.0), FIVE, nodata=0)
    (folder / "flight.yaml").write_text(f"sensor: {sensor}\nkind: orthomosaic\ncaptured: 2026-01-15\n"
                                        "reflectance_scale: 0.0001\n")
    return folder


def test_orthomosaic_flight_manifest(tmp_path, mosaic):
    farm = load_farm("chtouka")
    manifest = read_flight_folder(_landed(tmp_path / "20260115", mosaic), farm)
    assert manifest.flight == "chtouka-20260115" and manifest.kind == "orthomosaic"
    assert manifest.sensor == "micasense_rededge_mx" and manifest.files == ["orthomosaic.tif"]
    assert not manifest.quarantined and manifest.reflectance_scale == 1e-4
    second = read_flight_folder(tmp_path / "20260115", farm, taken={"chtouka-20260115"})
    assert second.flight == "chtouka-20260115-2"


def test_bad_flights_are_quarantined_with_reason(tmp_path, mosaic):
    farm = load_farm("chtouka")
    unknown = read_flight_folder(_landed(tmp_path / "a" / "20260201", mosaic, sensor="acme_cam"), farm)
    assert unknown.quarantined and "unknown sensor 'acme_cam'" in unknown.reason
    far = tmp_path / "b" / "20260202"
    far.mkdir(parents=True)
    mosaic(far / "o.tif", np.ones((5, 20, 20), np.uint16), "EPSG:32629", Affine(1, 0, 200000.0, 0, -1, 3000000.0), FIVE)
    manifest = read_flight_folder(far, farm)
    assert (manifest.quarantined and "does not overlap the farm grid" in manifest.reason
            and manifest.flight == "chtouka-20260202")
    empty = tmp_path / "c" / "20260203"
    empty.mkdir(parents=True)
    assert "no TIFF files" in read_flight_folder(empty, farm).reason
