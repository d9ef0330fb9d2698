"""One flight's parcel table: statistics over crop pixels plus the whole-parcel vigour mean.

Index statistics (`zonal.parcel_statistics`) are taken over the crop pixels of the class map, as
agronomists read vigour; the NDVI-Kc and NDVI-fAPAR relations were fitted on field averages
(satellite pixels mixing canopy and soil: Duchemin et al. 2006, Kamble et al. 2013), so the
parcel's all-pixel mean of the vigour index (`<vigour>_parcel_mean`, with `parcel_n_pixels`)
is added beside them. This is the table `parcel_stats` stores and the scale benchmark measures.
"""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from pipelines.core.errors import InputDataError
from pipelines.core.grid import FarmGrid
from pipelines.core.keys import FlightKey
from pipelines.imagery.indices.rgb import vigour_index
from pipelines.imagery.parcels.layer import ParcelSet
from pipelines.imagery.parcels.zonal import parcel_statistics
from pipelines.store import cube, products, windows
from pipelines.store.products import CLASSES, INDICES


@dataclass(frozen=True)
class FlightParcelTable:
    """`frame`: one row per parcel (column `parcel`); `vigour`: the index its vigour columns use."""

    frame: pd.DataFrame
    vigour: str


def flight_parcel_table(store, key: FlightKey, grid: FarmGrid, parcels: ParcelSet) -> FlightParcelTable:
    """Statistics of every index of flight `key` per parcel, weighted by exact pixel coverage.

    Args:
        store: the farm store holding the flight's `indices` and `classes` products.
        key: the flight.
        grid: the farm grid (metres, the products' CRS).
        parcels: the farm's (or any layer's) parcels on that grid.

    Raises InputDataError when the flight has no vigour index (NDVI or ExG).
    """
    names = products.layer_names(store, key, INDICES)
    vigour = vigour_index(names)
    if vigour is None:
        raise InputDataError(cube.flight_group(key, INDICES), f"no vigour index (NDVI or ExG) among {', '.join(names)}",
                             "recompute the flight's indices with a red or green band present")
    indices = windows.stored_array(store, str(key), INDICES)
    classes = windows.stored_array(store, str(key), CLASSES)
    stats = parcel_statistics(indices, names, grid, parcels, classes)
    field = parcel_statistics(products.layers(store, key, INDICES, [vigour]), [f"{vigour}_parcel"], grid, parcels,
                              None, stats=("count", "mean"))
    field = field[["parcel_id", "n_pixels", f"{vigour}_parcel_mean"]].rename(columns={"n_pixels": "parcel_n_pixels"})
    return FlightParcelTable(stats.merge(field, on="parcel_id").rename(columns={"parcel_id": "parcel"}), vigour)
