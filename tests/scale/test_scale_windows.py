"""Windowed (Zarr-backed) stage paths give the in-memory results on the sample farm, bit for bit."""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from models.segmentation.classes import NO_DATA
from models.segmentation.vegetation import threshold_classes, threshold_classes_strips
from pipelines.imagery import preview
from pipelines.imagery.indices.product import write_index_product
from pipelines.imagery.parcels.layer import load_parcels
from pipelines.imagery.parcels.zonal import parcel_statistics
from pipelines.imagery.preview import reduce_mean as _reduce_mean
from pipelines.imagery.zones.delineation import management_zones
from pipelines.store import cube, windows

BANDS = ["blue", "green", "red", "rededge", "nir"]
FLIGHT = "chtouka-20260301"
STRIP_PX = 256
"""Small strips so that the 1200-row farm crosses several strip borders."""


@pytest.fixture(scope="module")
def flight_store(tmp_path_factory, farm, grid):
    """The synthetic chtouka scene of 1 March on the farm grid, with NaN holes, as reflectance + indices."""
    from pipelines.synthetic.layout import farm_layout
    from pipelines.synthetic.scene import render

    scene = render(farm_layout(farm, 3), dt.date(2026, 3, 1)).reflectance
    top, left = (scene.shape[1] - grid.height) // 2, (scene.shape[2] - grid.width) // 2
    reflectance = np.ascontiguousarray(scene[:, top:top + grid.height, left:left + grid.width])
    reflectance[:, 300:340, 500:560] = np.nan
    reflectance[2, 700, 10:20] = np.nan
    store = cube.farm_store(tmp_path_factory.mktemp("data"), farm.id)
    cube.write_product(store, cube.flight_group(FLIGHT, "reflectance"),
                       cube.raster(reflectance, grid, "reflectance", "band", BANDS))
    write_index_product(store, FLIGHT)
    indices = cube.read_product(store, cube.flight_group(FLIGHT, "indices"))["indices"]
    return store, reflectance, indices.values, [str(n) for n in indices["index"].values]


def _classes_in_store(store, grid, ndvi_view, nir_view):
    group = cube.flight_group(FLIGHT, "classes")
    with windows.staged_raster(store, group, grid, "classes", np.uint8, NO_DATA) as out:
        threshold_classes_strips(ndvi_view, nir_view, out, strip_px=STRIP_PX)
    return windows.stored_array(store, FLIGHT, "classes")


def test_threshold_classes_by_strips_equal_whole_image(flight_store, grid):
    store, reflectance, values, names = flight_store
    whole = threshold_classes(values[names.index("ndvi")], reflectance[BANDS.index("nir")])
    stored = _classes_in_store(store, grid,
                               windows.plane(windows.stored_array(store, FLIGHT, "indices"), names.index("ndvi")),
                               windows.plane(windows.stored_array(store, FLIGHT, "reflectance"), BANDS.index("nir")))
    assert np.array_equal(stored[:, :], whole)
    counts = np.bincount(whole.ravel(), minlength=256)
    assert counts[NO_DATA] >= 40 * 60 and 0.05 < counts[1] / whole.size < 0.9
    assert np.array_equal(windows.value_counts(stored, strip_px=STRIP_PX), counts)


def test_parcel_statistics_from_zarr_windows_equal_in_memory(flight_store, farm, grid):
    store, reflectance, values, names = flight_store
    classes = threshold_classes(values[names.index("ndvi")], reflectance[BANDS.index("nir")])
    stored_classes = _classes_in_store(store, grid, values[names.index("ndvi")], reflectance[BANDS.index("nir")])
    parcels = load_parcels(farm, grid)
    indices = windows.stored_array(store, FLIGHT, "indices")
    memory = parcel_statistics(values, names, grid, parcels, classes)
    lazy = parcel_statistics(indices, names, grid, parcels, stored_classes)
    pd.testing.assert_frame_equal(lazy, memory, check_exact=True)
    assert len(names) >= 10 and (memory["status"] == "ok").all()
    assert memory["ndvi_mean"].between(0.1, 0.95).all()
    ndvi = [names.index("ndvi")]
    field_memory = parcel_statistics(values[ndvi], ["ndvi"], grid, parcels, stats=("count", "mean"))
    field_lazy = parcel_statistics(windows.LayerStack(indices, ndvi), ["ndvi"], grid, parcels, stats=("count", "mean"))
    pd.testing.assert_frame_equal(field_lazy, field_memory, check_exact=True)
    assert field_memory["n_pixels"].sum() > 0.9 * 10 * 10_000 / grid.pixel_area_m2


def test_zones_from_zarr_windows_equal_in_memory(flight_store, farm, grid):
    store, _, values, names = flight_store
    parcels = load_parcels(farm, grid)
    memory = management_zones(values[names.index("ndvi")], grid, parcels)
    lazy = management_zones(windows.plane(windows.stored_array(store, FLIGHT, "indices"), names.index("ndvi")), grid,
                            parcels)
    assert np.array_equal(lazy.ranks, memory.ranks) and set(np.unique(memory.ranks)) == {0, 1, 2, 3}
    pd.testing.assert_frame_equal(lazy.frame.drop(columns="geometry"), memory.frame.drop(columns="geometry"),
                                  check_exact=True)
    assert all(a.equals_exact(b, 0) for a, b in zip(lazy.frame.geometry, memory.frame.geometry))


def test_overview_block_mean_by_strips_equals_whole(flight_store):
    store, _, values, names = flight_store
    ndvi = values[names.index("ndvi")]
    view = windows.plane(windows.stored_array(store, FLIGHT, "indices"), names.index("ndvi"))
    factor = preview.preview_step(ndvi.shape, 480)
    assert factor == 4
    strips = preview.block_mean_strips(view, factor, strip_px=STRIP_PX + 2)
    assert np.array_equal(strips, _reduce_mean(ndvi, factor), equal_nan=True)


def test_predict_classes_streams_strips_into_a_staged_product(flight_store, grid, tmp_path):
    from models.segmentation.inference import predict_classes
    from models.segmentation.labels.pseudo import scene_pseudo_labels
    from models.segmentation.training import (
        LabelledImage,
        TrainingSettings,
        train_segmentation_model,
    )

    store, reflectance, _, _ = flight_store
    crop = np.nan_to_num(reflectance[:, 800:1056, 800:1056])
    card = train_segmentation_model([LabelledImage("crop", crop, scene_pseudo_labels(crop, BANDS))], BANDS, tmp_path,
                                    TrainingSettings(steps=4, batch=2, crop_px=64))
    memory = predict_classes(card, reflectance, BANDS, tile=256, overlap=32)
    group = cube.flight_group(FLIGHT, "classes_unet")
    with windows.staged_raster(store, group, grid, "classes_unet", np.uint8, NO_DATA) as out:
        predict_classes(card, windows.stored_array(store, FLIGHT, "reflectance"), BANDS, tile=256, overlap=32, out=out)
    assert np.array_equal(windows.stored_array(store, FLIGHT, "classes_unet")[:, :], memory)
    assert (memory[300:340, 500:560] == NO_DATA).all() and (memory == NO_DATA).sum() == 40 * 60 + 10
