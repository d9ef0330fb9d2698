"""The whole flight → cube path through a real S3 endpoint on 127.0.0.1: a synthetic flight is
uploaded to an s3:// landing prefix, the landing sensor registers it, and the flight job's assets
(manifest → reflectance → indices → classes → parcel statistics) run through Dagster with the
farm store at an s3:// URL. The products read back from S3 carry the farm grid and sane values."""
from __future__ import annotations

import datetime as dt

import dagster as dg
import fsspec
import numpy as np
import pytest

from pipelines.core.config import configs_dir, load_farm
from pipelines.orchestration.definitions import defs
from pipelines.orchestration.jobs import FLIGHT_ASSETS
from pipelines.orchestration.resources import SaqiStorage
from pipelines.orchestration.runs import materialize_stage
from pipelines.orchestration.sensors import landing_sensor
from pipelines.store import cube, tables
from pipelines.synthetic import generate_farm_flights

FLIGHT = "chtouka-20260115"


@pytest.mark.slow
def test_flight_to_cube_through_s3(bucket, tmp_path, grid):
    generated = generate_farm_flights(load_farm("chtouka"), tmp_path / "generated", tmp_path / "truth",
                                      dates=[dt.date(2026, 1, 15)])
    fs = fsspec.filesystem("s3", skip_instance_cache=True, use_listings_cache=False)
    for path in (generated[0].orthomosaic, generated[0].manifest):
        fs.put_file(str(path), f"{bucket[5:]}/landing/chtouka/20260115/{path.name}")
    storage = SaqiStorage(data_root=str(tmp_path / "data"), landing_dir=f"{bucket}/landing", configs=str(configs_dir()),
                          store_root=f"{bucket}/stores")
    with dg.DagsterInstance.ephemeral() as instance:
        cursor = None
        for _ in range(2):
            result = landing_sensor(dg.build_sensor_context(instance=instance, cursor=cursor,
                                                            resources={"storage": storage}))
            cursor = result.cursor
        assert [r.partition_key for r in result.run_requests] == [FLIGHT]
        instance.add_dynamic_partitions("flights", [FLIGHT])
        test_defs = dg.Definitions(assets=list(defs.assets), resources={"storage": storage})
        outcome = materialize_stage(test_defs, "flight", FLIGHT_ASSETS, [FLIGHT], instance)
    assert outcome.succeeded == [FLIGHT], outcome.failed
    store = storage.store("chtouka")
    assert store == f"{bucket}/stores/chtouka.zarr"
    assert cube.flights_in_store(store) == [FLIGHT]
    reflectance = cube.load_product(store, cube.flight_group(FLIGHT, "reflectance"))
    assert reflectance.rio.crs.to_epsg() == 32629 and reflectance.rio.transform() == grid.transform
    nir = reflectance["reflectance"].sel(band="nir").values
    assert nir.shape == (1200, 1600) and 0.2 < float(np.nanmedian(nir)) < 0.6
    ndvi = cube.load_product(store, cube.flight_group(FLIGHT, "indices"))["indices"].sel(index="ndvi").values
    assert -1.0 <= float(np.nanmin(ndvi)) and float(np.nanmax(ndvi)) <= 1.0
    classes = cube.load_product(store, cube.flight_group(FLIGHT, "classes"))["classes"].values
    codes = set(np.unique(classes[np.isfinite(classes)]).tolist())  # xarray decodes the 255 fill to NaN
    assert codes <= {0, 1, 2, 3, 255} and 1 in codes
    stats = tables.assemble_parcel_cube(store)
    assert stats.sizes["parcel"] == 10 and stats.sizes["time"] == 1
    assert fs.find(f"{bucket[5:]}/stores/chtouka.zarr/_staging") == []


def _small(grid, value):
    from pipelines.core.grid import FarmGrid

    corner = FarmGrid(grid.crs, grid.transform, 600, 400)
    return cube.raster(np.full((2, 400, 600), value, dtype="float32"), corner, "reflectance", "band", ["red", "nir"])


def test_s3_interrupted_publish_is_absent_and_rerun_replaces(bucket, grid):
    store = f"{bucket}/stores/chtouka.zarr"
    group = cube.flight_group(FLIGHT, "reflectance")
    cube.write_product(store, group, _small(grid, 0.2))
    fs, root = fsspec.core.url_to_fs(store, use_listings_cache=False)
    # a writer killed mid-publish: the product's zarr.json (the commit point) is not there yet,
    # and a dead writer's staging prefix is left behind
    fs.rm_file(f"{root}/{group}/zarr.json")
    fs.pipe_file(f"{root}/_staging/{1}-deadwriter/zarr.json", b"{}")
    assert not cube.has_product(store, group) and cube.flights_in_store(store) == []
    cube.write_product(store, group, _small(grid, 0.4))
    assert cube.flights_in_store(store) == [FLIGHT]
    assert float(cube.load_product(store, group)["reflectance"].min()) == pytest.approx(0.4)
    assert fs.find(f"{root}/_staging") == []  # the next write removed the stale staging prefix
    objects = [p for p in fs.find(f"{root}/{group}") if "/reflectance/c/" in p]
    assert len(objects) == 2 * 1 * 2  # 2 bands x 1 x 2 chunks of 512 px: no duplicate chunks


def test_s3_recommendations_cube_day_by_day(bucket):
    import pandas as pd

    store = f"{bucket}/stores/chtouka.zarr"
    season = (dt.date(2025, 10, 1), dt.date(2025, 10, 31))
    variables = {"depth_mm": {"units": "mm"}, "ks": {"units": "1"}}
    for day, depth in ((dt.date(2025, 10, 2), 12.5), (dt.date(2025, 10, 3), 0.0), (dt.date(2025, 10, 2), 14.0)):
        tables.write_day(store, pd.DataFrame({"depth_mm": [depth, 3.0], "ks": [1.0, 0.8]}, index=["P01", "P02"]),
                         day, season, variables)
    cube_ = tables.read_recommendations(store)
    assert cube_.sizes == {"parcel": 2, "date": 31}
    assert cube_["depth_mm"].sel(parcel="P01").values[1:3].tolist() == [14.0, 0.0]  # re-run replaced 10-02
    assert int(np.isfinite(cube_["depth_mm"].values).sum()) == 4
