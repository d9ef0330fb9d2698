"""An RGB-only farm through the whole Dagster graph (issue 11): RGBA uint8 orthomosaics of camera
DN → relative brightness (never called reflectance) → RGB indices on chromatic coordinates →
Otsu-ExG segmentation (no multispectral flight, so no U-Net) → parcel statistics → FAO-table
irrigation plan (no NDVI) → reports that name ExG. The farm lives in a temporary configs folder
(tests/integration/rgb_farm.py), never in configs/farms."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from tests.integration import rgb_farm as rgb

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("rgbfarm")
    configs, data, home = root / "configs", root / "data", root / "dagster_home"
    rgb.write_farm(configs)
    home.mkdir()
    (home / "dagster.yaml").write_text((rgb.PROJECT / "configs" / "dagster" / "dagster.yaml").read_text())
    truth = {day: rgb.write_flight(data / "landing" / rgb.FARM / day.strftime("%Y%m%d"), day, seed=i)
             for i, day in enumerate(rgb.FLIGHTS)}
    env = {**os.environ, "SAQI_CONFIGS": str(configs), "SAQI_DATA_ROOT": str(data),
           "SAQI_LANDING_DIR": str(data / "landing"), "DAGSTER_HOME": str(home),
           "PYTHONPATH": os.pathsep.join([str(rgb.PROJECT), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, str(Path(rgb.__file__)), str(root)], env=env, capture_output=True,
                          text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    outcome = json.loads((root / "outcome.json").read_text())
    return {"data": data, "configs": configs, "truth": truth, **outcome}


def _flight(day) -> str:
    return f"{rgb.FARM}-{day:%Y%m%d}"


def test_every_stage_succeeds(run):
    for stage, result in run["outcomes"].items():
        assert not result["failed"], (stage, result["failed"])
    assert sorted(run["outcomes"]["flight ingest"]["succeeded"]) == [_flight(d) for d in rgb.FLIGHTS]


def test_rgb_flight_is_stored_as_relative_brightness_not_reflectance(run):
    day = max(rgb.FLIGHTS)
    store = run["data"] / f"{rgb.FARM}.zarr"
    data = xr.open_zarr(store, group=f"flights/{_flight(day)}/reflectance", consolidated=False)["reflectance"]
    assert list(data.band.values) == ["blue", "green", "red"]
    assert data.attrs["calibrated"] is False and "not reflectance" in data.attrs["long_name"]
    assert "standard_name" not in data.attrs
    values = data.values
    # alpha 0 on the east edge: no data there, data everywhere else
    assert np.isnan(values[:, :, -rgb.NO_ALPHA_COLS:]).all()
    assert np.isfinite(values[:, :, : -rgb.NO_ALPHA_COLS]).all()
    soil = ~run["truth"][day]
    soil[:, -rgb.NO_ALPHA_COLS:] = False
    for k, band in enumerate(("blue", "green", "red")):  # DN / 255, not a reflectance
        expected = rgb.SOIL_DN[("red", "green", "blue").index(band)] / 255
        assert abs(float(np.median(values[k][soil])) - expected) < 1.5 / 255
    meta = run["metadata"]["reflectance"]
    assert meta["calibrated"] == "False" and "relative brightness" in meta["method"]


def test_rgb_indices_on_chromatic_coordinates(run):
    day = max(rgb.FLIGHTS)
    store = run["data"] / f"{rgb.FARM}.zarr"
    indices = xr.open_zarr(store, group=f"flights/{_flight(day)}/indices", consolidated=False)["indices"]
    assert set(indices["index"].values) == {"exg", "exgr", "vari", "gli", "ngrdi"}
    assert "chromatic" in indices.attrs["computed_on"]
    leaf = run["truth"][day]
    exg = indices.sel(index="exg").values
    r, g, b = rgb.LEAF_DN
    assert abs(float(np.nanmedian(exg[leaf])) - rgb.leaf_exg()) < 0.01
    assert abs(float(np.nanmedian(exg[~leaf & np.isfinite(exg)]))) < 0.01  # grey-brown soil: ExG ≈ 0
    ngrdi = indices.sel(index="ngrdi").values
    assert abs(float(np.nanmedian(ngrdi[leaf])) - (g - r) / (g + r)) < 0.01
    meta = run["metadata"]["vegetation_indices"]
    assert meta["vigour_index"] == "exg" and "chromatic" in meta["computed_on"]


def test_segmentation_falls_back_to_otsu_on_exg_and_finds_the_rows(run):
    model = run["metadata"]["segmentation_model"]
    assert model["training_flights"] == "0" and "no multispectral" in model["status"]
    day = max(rgb.FLIGHTS)
    store = run["data"] / f"{rgb.FARM}.zarr"
    classes = xr.open_zarr(store, group=f"flights/{_flight(day)}/classes", consolidated=False)["classes"].values
    leaf = run["truth"][day]
    inside = classes != 255
    agreement = np.mean((classes[inside] == 1) == leaf[inside])
    assert agreement > 0.99, agreement
    assert "Otsu ExG" in run["metadata"]["crop_segmentation"]["method"]


def test_parcel_stats_cover_exg_and_pixel_counts(run):
    from pipelines.core.config import load_farm
    from pipelines.core.grid import FarmGrid
    from pipelines.imagery.parcels.layer import load_parcels
    from pipelines.store.tables import read_parcel_cube

    season = read_parcel_cube(run["data"] / f"{rgb.FARM}.zarr")
    assert season.sizes["time"] == 2
    farm = load_farm(rgb.FARM, run["configs"])
    areas = load_parcels(farm, FarmGrid.of_farm(farm)).frame.set_index("id").geometry.area
    latest = season.isel(time=-1)
    pixels = latest.sel(variable="parcel_n_pixels").to_series()
    np.testing.assert_allclose(pixels * rgb.PIXEL_M ** 2, areas.reindex(pixels.index), rtol=0.005)
    day = max(rgb.FLIGHTS)
    for pid, rows in rgb.FLIGHTS[day].items():
        cover = float(latest.sel(parcel=pid, variable="crop_cover_fraction"))
        assert abs(cover - rows / 4) < 0.02, (pid, cover)
        assert abs(float(latest.sel(parcel=pid, variable="exg_mean")) - rgb.leaf_exg()) < 0.02
    assert "ndvi_mean" not in set(season["variable"].values)


def test_irrigation_plan_falls_back_to_fao_tables_without_ndvi(run):
    from pipelines.store.tables import read_recommendations

    note = run["metadata"]["irrigation_plan"]["kcb_source"]
    assert "no NDVI" in note and "FAO-56 stage tables only" in note
    rec = read_recommendations(run["data"] / f"{rgb.FARM}.zarr").sel(date=[np.datetime64(d) for d in rgb.DAYS])
    depletion, taw = rec["depletion_mm"].values, rec["taw_mm"].values
    assert np.isfinite(depletion).all() and (depletion >= 0).all() and (depletion <= taw + 1e-6).all()
    assert 1.5 < float(rec["et0_mm"].isel(parcel=0, date=0)) < 6.0, "March ET0 in the Souss plain"


def test_reports_name_exg_as_the_vigour_index(run):
    assert run["metadata"]["parcel_reports"]["vigour_index"] == "exg"
    folder = run["data"] / "reports" / rgb.FARM
    french = sorted(folder.glob("*/rgbcoop_W1_*_fr.html"))
    assert french and sorted(folder.glob("*/rgbcoop_W1_*_fr.pdf"))
    html = french[0].read_text(encoding="utf-8")
    assert "ExG moyen" in html and "ExG (vigueur de la végétation, caméra RVB)" in html
    assert "NDVI" not in html
    english = sorted(folder.glob("*/*cooperative*_en.html"))
    assert english and "Mean ExG" in english[0].read_text(encoding="utf-8")
