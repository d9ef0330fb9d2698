"""Train from the farm's own flights: pseudo-labels per flight from its parcels, then one network.

This is the function the `segmentation_model` asset calls; `predict_classes` (inference) is the
one `crop_segmentation[flight]` calls with the returned card.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
from affine import Affine
from rasterio import features

from models.segmentation.card import ModelCard
from models.segmentation.classes import CROP, NAMES, NO_DATA, WEED
from models.segmentation.labels.hand import hand_label_raster, with_hand_labels
from models.segmentation.labels.pseudo import parcel_pseudo_labels
from models.segmentation.training import (
    LabelledImage,
    TrainingSettings,
    train_segmentation_model,
)
from pipelines.core.config import load_crop


@dataclass(frozen=True)
class FlightSample:
    """One flight on the farm grid: reflectance (band, y, x) float32 with NaN no data, its band
    names, the parcels (GeoDataFrame in the grid CRS with `crop`) and the grid's affine transform."""

    flight: str
    reflectance: np.ndarray
    band_names: Sequence[str]
    parcels: gpd.GeoDataFrame
    transform: Affine
    hand_labels: gpd.GeoDataFrame | None = None


def farm_settings(steps: int, time_budget_s: float | None, band_names: Sequence[str],
                  encoder: str | None = None) -> TrainingSettings:
    """The farm model's training settings: the budget given (the `segmentation_model` asset's
    config) and the frozen recipe's input channels (`configs/segmentation.yaml`, what was evaluated)
    when the flight's bands allow them."""
    from models.segmentation.decision import load_recipe

    return TrainingSettings(steps=steps, time_budget_s=time_budget_s, indices=load_recipe().indices_for(band_names),
                            **({"encoder": encoder} if encoder else {}))


def parcel_numbers(parcels: gpd.GeoDataFrame, transform: Affine, shape: tuple[int, int]) -> np.ndarray:
    """(y, x) int32 raster numbering the parcels 1..n in frame order (0 = outside every parcel)."""
    shapes = ((geom, k + 1) for k, geom in enumerate(parcels.geometry) if geom is not None and not geom.is_empty)
    return features.rasterize(shapes, out_shape=shape, transform=transform, fill=0, dtype="int32")


def flight_pseudo_labels(sample: FlightSample) -> np.ndarray:
    """Pseudo-labels (y, x) uint8 of one flight from its parcels' crop kinds and row spacings."""
    crops = {name: load_crop(name) for name in set(sample.parcels["crop"])}
    parcels = [(k + 1, crops[c].kind, crops[c].row_spacing_m) for k, c in enumerate(sample.parcels["crop"])]
    numbers = parcel_numbers(sample.parcels, sample.transform, sample.reflectance.shape[1:])
    return parcel_pseudo_labels(sample.reflectance, sample.band_names, numbers, parcels, abs(sample.transform.a))


def train_from_flights(samples: Sequence[FlightSample], out_dir: str | Path,
                       settings: TrainingSettings | None = None) -> ModelCard:
    """Pseudo-label every flight, train one network on all of them, write it with its card in `out_dir`.

    A sample's `hand_labels` (`hand_labels.read_hand_labels`, grid CRS) replace its pseudo-labels
    where drawn; the card's training data then names the files and counts the hand-labelled pixels.
    """
    if not samples:
        raise ValueError("no flights to train on: run the reflectance assets first")
    bands = [list(s.band_names) for s in samples]
    if any(b != bands[0] for b in bands):
        raise ValueError(f"flights have different bands {sorted(map(tuple, bands))}: train one model per sensor")
    images, hand_pixels, files = [], np.zeros(len(NAMES), np.int64), set()
    for s in samples:
        labels = flight_pseudo_labels(s)
        if s.hand_labels is not None and len(s.hand_labels):
            hand = hand_label_raster(s.hand_labels, s.flight, s.transform, labels.shape)
            files.update(s.hand_labels["source"])
            hand_pixels += np.bincount(hand[hand != NO_DATA], minlength=len(NAMES))[: len(NAMES)]
            labels = with_hand_labels(labels, hand)
        images.append(LabelledImage(s.flight, s.reflectance, labels))
    usable = [im for im in images if ((im.labels == CROP) | (im.labels == WEED)).any()]
    if not usable:
        raise ValueError(f"none of the flights {[s.flight for s in samples]} has enough vegetation for pseudo-labels; "
                         "train once later flights (with a crop canopy) exist")
    source = "pseudo-labels from parcels (crop kind rules)"
    data = {"source": source, "flights": [im.name for im in usable]}
    if hand_pixels.any():
        data["source"] = f"{source}, replaced by hand labels where drawn"
        data["hand_labels"] = {"files": sorted(files),
                               "pixels": {n: int(c) for n, c in zip(NAMES, hand_pixels)}}
    return train_segmentation_model(usable, bands[0], out_dir, settings, data)
