"""The flight's parcel table (`flight_parcel_table`, what `parcel_stats` stores).

A flight on the sample farm's grid whose NDVI rises west → east ((0.25 - 0.20) / 0.45 = 0.111 to
0.46 / 0.54 = 0.852) and whose class map marks the east half as crop: the crop-pixel statistics
and the whole-parcel mean differ the way an agronomist expects (crop NDVI above the parcel's
field average wherever soil shows), the pixel counts match the class map, and a flight without a
vigour index is refused by name.
"""
from __future__ import annotations

import numpy as np
import pytest

from pipelines.core.errors import InputDataError
from pipelines.core.keys import FlightKey
from pipelines.imagery.parcels.flight_table import flight_parcel_table
from pipelines.imagery.parcels.layer import load_parcels
from pipelines.store import cube

FLIGHT = FlightKey.parse("chtouka-20260325")
SOIL, CROP = 0, 1


def _store(tmp_path, grid, names):
    from pipelines.imagery.indices.product import write_index_product

    store = tmp_path / "chtouka.zarr"
    canopy = np.broadcast_to((np.arange(grid.width) / grid.width).astype(np.float32), grid.shape)
    reflectance = np.stack([0.08 - 0.04 * canopy, 0.20 - 0.16 * canopy, 0.22 + 0.05 * canopy,
                            0.25 + 0.25 * canopy]).astype(np.float32)
    cube.write_product(store, cube.flight_group(FLIGHT, "reflectance"),
                       cube.raster(reflectance, grid, "reflectance", "band", ["green", "red", "rededge", "nir"]))
    write_index_product(store, str(FLIGHT), names=names)
    classes = np.where(canopy > 0.5, CROP, SOIL).astype(np.uint8)
    cube.write_product(store, cube.flight_group(FLIGHT, "classes"),
                       cube.raster(classes, grid, "classes", attrs={"flag_values": [0, 1, 2, 3, 255],
                                                                    "flag_meanings": "soil crop weed shadow no_data"}))
    return store


def test_crop_statistics_beside_the_whole_parcel_mean(tmp_path, farm, grid):
    parcels = load_parcels(farm, grid)
    table = flight_parcel_table(_store(tmp_path, grid, ["ndvi", "ndre"]), FLIGHT, grid, parcels)
    frame = table.frame.set_index("parcel")
    assert table.vigour == "ndvi" and len(frame) == len(parcels.frame)
    assert {"ndvi_mean", "ndre_mean", "ndvi_parcel_mean", "parcel_n_pixels", "crop_cover_fraction"} <= set(frame)
    mixed = frame[(frame["crop_cover_fraction"] > 0.05) & (frame["crop_cover_fraction"] < 0.95)]
    assert len(mixed), "the sample farm has parcels across the crop/soil edge"
    assert (mixed["ndvi_mean"] > mixed["ndvi_parcel_mean"] + 0.01).all()
    assert (frame["n_pixels"] <= frame["parcel_n_pixels"] + 1e-6).all()
    full = frame[frame["crop_cover_fraction"] > 0.999]
    np.testing.assert_allclose(full["ndvi_mean"], full["ndvi_parcel_mean"], atol=1e-5)
    assert frame["ndvi_parcel_mean"].between(0.111, 0.852).all()   # NDVI of bare soil (canopy 0) and of canopy 1


def test_flight_without_a_vigour_index_is_refused_by_name(tmp_path, farm, grid):
    store = _store(tmp_path, grid, ["ndre"])
    with pytest.raises(InputDataError, match=r"flights/chtouka-20260325/indices.*no vigour index.*ndre"):
        flight_parcel_table(store, FLIGHT, grid, load_parcels(farm, grid))
