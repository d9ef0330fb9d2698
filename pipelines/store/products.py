"""The products registry of a farm store and the typed readers that take a FlightKey.

Every group name of the Zarr contract (README, `../shared/DESIGN.md`) is written here once:

| product | group | dims |
|---|---|---|
| REFLECTANCE | `flights/<flight>/reflectance` | (band, y, x) float32, reflectance 0–1 |
| INDICES | `flights/<flight>/indices` | (index, y, x) float32 |
| CLASSES | `flights/<flight>/classes` | (y, x) uint8, `flag_values`/`flag_meanings` |
| ZONES | `flights/<flight>/zones` | (y, x) uint8 zone rank, 0 outside |
| PARCEL_STATS | `flights/<flight>/parcel_stats` | (parcel, variable) |
| PARCELS | `parcels` | (parcel, time, variable), the season's time series |
| RECOMMENDATIONS | `recommendations` | (parcel, date), the daily plan |
| ZONE_PLANS | `zone_plans/<yyyy-mm-dd>` | (zone, variable), the day's plan per management zone |

Readers: `layer(store, flight, INDICES, "ndvi")` is a lazy (y, x) window reader of one layer,
`latest_flight(store, having=PARCEL_STATS, on_or_before=day)` the newest flight holding a product.
"""
from __future__ import annotations

import datetime as dt

from pipelines.core.errors import InputDataError
from pipelines.core.keys import FlightKey
from pipelines.store import cube, windows

REFLECTANCE = "reflectance"
INDICES = "indices"
CLASSES = "classes"
ZONES = "zones"
PARCEL_STATS = "parcel_stats"
PARCELS = "parcels"
RECOMMENDATIONS = "recommendations"
ZONE_PLANS = "zone_plans"
FLIGHT_PRODUCTS = (REFLECTANCE, INDICES, CLASSES, ZONES, PARCEL_STATS)
LAYER_DIM = {REFLECTANCE: "band", INDICES: "index"}
"""The layer dimension of each 3-D flight product."""


def zone_plan_group(day: dt.date) -> str:
    """`zone_plans/<yyyy-mm-dd>`: the group of one day's plan per management zone."""
    return f"{ZONE_PLANS}/{day.isoformat()}"


def layer_names(store: cube.Store, flight: FlightKey | str, product: str) -> list[str]:
    """Names along a 3-D flight product's layer dimension (bands of REFLECTANCE, indices of INDICES)."""
    return windows.layer_names(store, str(flight), product, LAYER_DIM[product])


def layer(store: cube.Store, flight: FlightKey | str, product: str, name: str) -> windows.plane:
    """A lazy (y, x) view on one layer of a 3-D flight product; `view[rows, cols]` reads a window.

    Raises InputDataError naming the product when the layer is absent (e.g. NDVI not in the catalogue).
    """
    names = layer_names(store, flight, product)
    if name not in names:
        raise InputDataError(cube.flight_group(flight, product), f"has no layer '{name}' (it has {names})",
                             f"add '{name}' to the index catalogue or the sensor's bands and re-materialise")
    return windows.plane(windows.stored_array(store, str(flight), product), names.index(name))


def layers(store: cube.Store, flight: FlightKey | str, product: str, names: list[str]) -> windows.LayerStack:
    """A lazy (layer, y, x) view on some layers of a 3-D flight product, in the order of `names`."""
    stored = layer_names(store, flight, product)
    missing = [n for n in names if n not in stored]
    if missing:
        raise InputDataError(cube.flight_group(flight, product), f"has no layer(s) {missing} (it has {stored})",
                             "add them to the index catalogue or the sensor's bands and re-materialise")
    return windows.LayerStack(windows.stored_array(store, str(flight), product), [stored.index(n) for n in names])


def flights_having(store: cube.Store, product: str, on_or_before: dt.date | None = None) -> list[FlightKey]:
    """Flights of the store holding `product`, oldest first (optionally up to a date, inclusive)."""
    keys = [FlightKey.parse(f) for f in cube.flights_in_store(store)
            if cube.has_product(store, cube.flight_group(f, product))]
    keys = [k for k in keys if on_or_before is None or k.date <= on_or_before]
    return sorted(keys, key=lambda k: (k.date, k.number))


def latest_flight(store: cube.Store, having: str, on_or_before: dt.date | None = None) -> FlightKey | None:
    """The newest flight (date, then number) holding `having`, on or before a date; None if there is none."""
    keys = flights_having(store, having, on_or_before)
    return keys[-1] if keys else None
