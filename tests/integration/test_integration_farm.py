"""The whole graph through Dagster on the sample farm (two flights, two plan days, one corrupt
flight), with a temporary DAGSTER_HOME and data root; assertions are the numbers an agronomist
would check against the generator's own ground truth."""
from __future__ import annotations

import datetime as dt
import json
import shutil

import numpy as np
import pytest
import rasterio
import xarray as xr

pytestmark = [pytest.mark.integration, pytest.mark.slow]

FLIGHTS = (dt.date(2026, 1, 15), dt.date(2026, 3, 25))
DAYS = (dt.date(2026, 3, 26), dt.date(2026, 3, 27))
BAD = "chtouka-20260301"


@pytest.fixture(scope="module")
def demo(tmp_path_factory, farm):
    root = tmp_path_factory.mktemp("saqi")
    home, data = root / "dagster_home", root / "data"
    home.mkdir()
    shutil.copy(farm.directory.parents[1] / "dagster" / "dagster.yaml", home / "dagster.yaml")
    patch = pytest.MonkeyPatch()
    patch.setenv("DAGSTER_HOME", str(home))
    patch.setenv("SAQI_DATA_ROOT", str(data))
    patch.setenv("SAQI_LANDING_DIR", str(data / "landing"))
    import dagster as dg

    from pipelines.core.keys import FlightKey
    from pipelines.orchestration.definitions import ASSET_MODULES
    from pipelines.orchestration.resources import default_storage
    from pipelines.orchestration.runs import run_farm
    from pipelines.synthetic import generate_farm_flights

    generated = generate_farm_flights(farm, data / "landing", data / "truth", dates=FLIGHTS)
    bad = data / "landing" / "chtouka" / BAD.split("-")[1]
    shutil.copytree(generated[0].orthomosaic.parent, bad)
    tif = bad / "orthomosaic.tif"
    tif.write_bytes(tif.read_bytes()[: tif.stat().st_size // 3])
    defs = dg.Definitions(assets=dg.load_assets_from_modules(ASSET_MODULES),
                          asset_checks=dg.load_asset_checks_from_modules(ASSET_MODULES),
                          resources={"storage": default_storage()})
    keys = [FlightKey.parse(g.flight) for g in generated] + [FlightKey.parse(BAD)]
    with dg.DagsterInstance.get() as instance:
        outcomes = run_farm(defs, instance, "chtouka", keys, DAYS, training={"steps": 30, "time_budget_s": 45.0})
        materialised = {key.to_user_string() for key in instance.get_asset_keys()
                        if instance.get_latest_materialization_event(key) is not None}
    yield {"data": data, "outcomes": {o.stage: o for o in outcomes}, "generated": generated,
           "materialised": materialised}
    patch.undo()


def _truth(generated, name):
    with rasterio.open(getattr(generated, name)) as src:
        return src.read()


def test_every_asset_materialised_and_bad_flight_quarantined(demo):
    from pipelines.orchestration.definitions import defs

    expected = {node.key.to_user_string() for node in defs.resolve_asset_graph().asset_nodes}
    assert expected <= demo["materialised"]
    ingest = demo["outcomes"]["flight ingest"]
    assert sorted(ingest.succeeded) == ["chtouka-20260115", "chtouka-20260325"]
    assert BAD in ingest.failed and "quarantined" in ingest.failed[BAD]
    record = json.loads((demo["data"] / "quarantine" / f"{BAD}.json").read_text())
    assert "orthomosaic.tif" in record["problems"][0]


def test_store_is_crs_aware_and_soil_reflectance_is_soil(demo, grid):
    store = demo["data"] / "chtouka.zarr"
    march = demo["generated"][1]
    ds = xr.open_zarr(store, group=f"flights/{march.flight}/reflectance", decode_coords="all", consolidated=False)
    assert ds.rio.crs.to_epsg() == 32629 and ds.rio.transform() == grid.transform
    reflectance = ds["reflectance"].values
    classes = _truth(march, "classes")[0]
    soil = classes == 0
    bands = list(ds["band"].values)
    red, nir = reflectance[bands.index("red")][soil], reflectance[bands.index("nir")][soil]
    assert 0.10 < np.nanmedian(red) < 0.32 and 0 < np.nanmedian(nir - red) < 0.1
    truth = _truth(march, "reflectance")
    assert np.nanmedian(np.abs(reflectance - truth) / truth) < 0.03


def test_ndvi_of_crop_and_soil_pixels(demo):
    store = demo["data"] / "chtouka.zarr"
    march = demo["generated"][1]
    ndvi = xr.open_zarr(store, group=f"flights/{march.flight}/indices",
                        consolidated=False)["indices"].sel(index="ndvi").values
    classes = _truth(march, "classes")[0]
    stress = _truth(march, "stress")[0]
    assert np.nanmedian(ndvi[(classes == 1) & (stress < 0.1)]) > 0.75
    assert np.nanmedian(ndvi[classes == 0]) < 0.25


def test_parcel_pixel_counts_match_polygon_areas(demo, farm, grid):
    from pipelines.imagery.parcels.layer import load_parcels
    from pipelines.store.tables import read_parcel_cube

    season = read_parcel_cube(demo["data"] / "chtouka.zarr")
    assert season.dims == ("parcel", "time", "variable") and season.sizes["time"] == 2
    areas = load_parcels(farm, grid).frame.set_index("id").geometry.area
    pixels = season.sel(variable="parcel_n_pixels").isel(time=-1).to_series()
    ratio = pixels * grid.pixel_area_m2 / areas.reindex(pixels.index)
    assert np.allclose(ratio, 1.0, atol=0.005), ratio


def test_recommendations_are_physical(demo):
    from pipelines.store.tables import read_recommendations

    rec = read_recommendations(demo["data"] / "chtouka.zarr").sel(date=[np.datetime64(d) for d in DAYS])
    depletion, taw = rec["depletion_mm"].values, rec["taw_mm"].values
    finite = np.isfinite(depletion)
    assert finite.sum() >= 14
    assert np.all(depletion[finite] >= 0) and np.all(depletion[finite] <= taw[finite] + 1e-6)
    assert np.all(rec["depth_mm"].values[finite] >= 0)
    assert 1.5 < float(rec["et0_mm"].isel(parcel=0, date=0)) < 6.0, "March ET0 in the Souss plain"


def test_yield_and_reports(demo):
    from pipelines.store.tables import read_recommendations

    rec = read_recommendations(demo["data"] / "chtouka.zarr")
    wheat = rec["yield_t_ha"].sel(parcel=["P01", "P02"]).max("date").values
    assert np.all((wheat > 3) & (wheat < 12)), wheat
    reports = list((demo["data"] / "reports" / "chtouka").glob("*/chtouka_P01_*_ar.pdf"))
    assert reports and reports[0].stat().st_size > 20_000


def test_zone_plan_covers_each_parcel(demo, farm, grid):
    from pipelines.imagery.parcels.layer import load_parcels
    from pipelines.store import cube

    plan = cube.read_product(demo["data"] / "chtouka.zarr", f"zone_plans/{DAYS[-1].isoformat()}")["zone_plan"].load()
    areas = plan.sel(variable="area_m2").to_series()
    by_parcel = areas.groupby(areas.index.str.split("-z").str[0]).sum()
    polygons = load_parcels(farm, grid).frame.set_index("id").geometry.area
    assert len(plan.zone_id) > len(polygons), "at least one parcel is split into zones"
    assert np.allclose(by_parcel.reindex(polygons.index), polygons, rtol=1e-3)
    assert np.all(plan.sel(variable="depth_mm").values >= 0)
