"""One flight's class map, by the farm's U-Net when it can run on the flight, else by the Otsu
fallback, and the spot-spray prescription drawn from it.

The U-Net runs by the frozen, cross-validated recipe of `configs/segmentation.yaml`
(`decision.segment`, strip by strip into a staged product) when a model exists and the flight has
the calibrated multispectral reflectance it was trained on. Otherwise the vigour index (NDVI, or
ExG on chromatic coordinates of an RGB camera) is thresholded by Otsu's method with morphology,
shadow is the dark band (NIR, or green) below `SHADOW_NIR_MAX`, and the weeds of row and tree
parcels are split off the detected crop rows (`flight_classes.split_weeds_by_rows`). The method
used, with its reason, is stored as the product's `method` attribute. This is what
`crop_segmentation` runs.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np

from models.segmentation.classes import CROP, NO_DATA, SHADOW, SOIL, WEED, flag_attributes
from models.segmentation.flight_classes import RowParcel, flight_classes
from models.segmentation.vegetation import SHADOW_NIR_MAX
from pipelines.core.config import Farm, load_crop
from pipelines.core.errors import InputDataError
from pipelines.core.grid import FarmGrid
from pipelines.core.keys import FlightKey
from pipelines.imagery.indices.rgb import vigour_index
from pipelines.imagery.parcels.layer import ParcelSet
from pipelines.imagery.zones.spot_spray import export_spot_spray, load_spot_spray_settings
from pipelines.store import cube, products, windows
from pipelines.store.products import CLASSES, INDICES, REFLECTANCE


@dataclass(frozen=True)
class FlightSegmentation:
    """What `segment_flight` wrote: the method (with its reason), the vigour index of the fallback,
    the share of each class over valid pixels, the valid share of the grid, the weed cells (one
    row per cell, `weed_cover` 0-1, `area_m2`), which of them are sprayed, and the prescription files."""

    method: str
    vigour: str | None
    shares: dict[str, float]
    valid_fraction: float
    cells: gpd.GeoDataFrame
    sprayed: np.ndarray
    files: dict[str, Path]


def multispectral(attrs, bands: list[str]) -> bool:
    """Calibrated reflectance with NIR: what the U-Net and its pseudo-labels are built on (not RGB camera DN)."""
    return bool(attrs.get("calibrated", True)) and "nir" in bands


def row_parcel(crop, geometry) -> RowParcel:
    """A parcel for the fallback's row split (no crop: treated like a cereal, left whole)."""
    if not isinstance(crop, str) or not crop:
        return RowParcel(geometry, "cereal", None)
    config = load_crop(crop)
    return RowParcel(geometry, config.kind, config.row_spacing_m)


def _method(card, recipe, usable: bool, multispectral_flight: bool, bands: list[str], vigour: str | None,
            dark: str, key: FlightKey) -> str:
    if usable:
        return f"U-Net {card.encoder} (sha256 {card.sha256[:12]}), recipe {recipe.rule_for(card).id}"
    if vigour is None:
        raise InputDataError(cube.flight_group(key, REFLECTANCE), "neither a usable segmentation model nor "
                             f"NDVI/ExG to threshold (bands {', '.join(bands)})",
                             "add a red or green band to the flight, or train a model for its bands")
    why = ("no segmentation model yet" if card is None else
           f"the U-Net was trained on {', '.join(card.band_names)} reflectance; this flight has "
           f"{', '.join(bands)}{'' if multispectral_flight else ' camera DN'}")
    return (f"Otsu {vigour.upper() if vigour == 'ndvi' else 'ExG'} threshold + morphology, shadow = {dark} "
            f"below {SHADOW_NIR_MAX}, weeds split by rows ({why})")


def stored_centred_indices(store, key: FlightKey | str, card) -> windows.LayerStack | None:
    """The flight's stored layers of the indices the card's `<index>-otsu` channels centre, or None
    (no such channel, or not all stored): `flight_classes`' `stored_indices`."""
    from models.segmentation.features import centred_bases

    bases = centred_bases(card.indices) if card is not None else []
    if not bases or not set(bases) <= set(products.layer_names(store, key, INDICES)):
        return None
    return products.layers(store, key, INDICES, bases)


def segment_flight(store, key: FlightKey, grid: FarmGrid, farm: Farm, parcels: ParcelSet, card,
                   prescription_dir: str | Path) -> FlightSegmentation:
    """Publish `flights/<key>/classes` and write the spot-spray prescription under `prescription_dir`.

    Args:
        store: the farm store holding the flight's reflectance and indices.
        key: the flight.
        grid: the farm grid.
        farm: the farm (cooperative and farm names for TASKDATA).
        parcels: the farm's parcels on the grid (row split of the fallback, weed cells).
        card: the farm's segmentation model card, or None (fallback).
        prescription_dir: folder of the spot-spray files (GeoJSON, Shapefile, TASKDATA).

    Raises InputDataError when neither the model nor a vigour index can segment the flight.
    """
    from models.segmentation.decision import load_recipe

    reflectance = windows.stored_array(store, str(key), REFLECTANCE)
    bands = products.layer_names(store, key, REFLECTANCE)
    multispectral_flight = multispectral(reflectance.attrs, bands)
    usable = card is not None and multispectral_flight and set(card.band_names) <= set(bands)
    vigour = vigour_index(products.layer_names(store, key, INDICES))
    dark = "nir" if "nir" in bands else "green"
    recipe = load_recipe() if usable else None
    method = _method(card, recipe, usable, multispectral_flight, bands, vigour, dark, key)
    with windows.staged_raster(store, cube.flight_group(key, CLASSES), grid, CLASSES, np.uint8, NO_DATA,
                               attrs={**flag_attributes(), "method": method}) as out:
        if usable:
            flight_classes(out, reflectance, bands, card, recipe,
                           stored_indices=stored_centred_indices(store, key, card))
        else:
            rows = [row_parcel(crop, geometry) for crop, geometry in zip(parcels.frame["crop"],
                                                                         parcels.frame.geometry)]
            flight_classes(out, reflectance, bands, None, None, products.layer(store, key, INDICES, vigour),
                           windows.plane(reflectance, bands.index(dark)), rows, grid.transform)
    classes = windows.stored_array(store, str(key), CLASSES)
    settings = load_spot_spray_settings()
    cells, files = export_spot_spray(classes, grid, parcels, prescription_dir, settings,
                                     customer=farm.cooperative.name, farm_name=farm.name)
    sprayed = (cells["weed_cover"] >= settings.weed_cover_threshold).to_numpy() if len(cells) else np.zeros(0, bool)
    counts = windows.value_counts(classes)
    valid = counts.sum() - counts[NO_DATA]
    shares = {name: float(counts[code] / valid) if valid else float("nan") for name, code in
              (("soil", SOIL), ("crop", CROP), ("weed", WEED), ("shadow", SHADOW))}
    return FlightSegmentation(method, vigour, shares, float(valid / counts.sum()), cells, sprayed, files)
