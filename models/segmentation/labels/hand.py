"""Hand labels drawn as GeoJSON polygons (e.g. in QGIS over a flight's preview).

Each feature has a `class` property (crop, weed, soil or shadow) and, optionally, a `flight`
property (the flight id it was drawn on; without it the polygon applies to every flight of the
farm). Where a hand label covers a pixel it replaces that flight's pseudo-label in training
(`flights.train_from_flights`), and the model card lists the label files and their pixel counts.
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from affine import Affine
from rasterio import features

from models.segmentation.classes import NAMES, NO_DATA
from pipelines.core.errors import InputDataError

CODES = {name: code for code, name in enumerate(NAMES)}


def read_hand_labels(paths: Sequence[Path], crs) -> gpd.GeoDataFrame:
    """Polygons of every file in `crs` with columns class_code (uint8), flight (str or None), source."""
    frames = []
    for path in paths:
        frame = gpd.read_file(path)
        if "class" not in frame.columns:
            raise InputDataError(path, "no 'class' property on the label polygons",
                                 f"give every polygon a class among {sorted(CODES)}")
        unknown = set(frame["class"].astype(str).str.lower()) - set(CODES)
        if unknown:
            raise InputDataError(path, f"unknown label class(es) {sorted(unknown)}", f"use {sorted(CODES)}")
        if frame.crs is None:
            raise InputDataError(path, "the label file has no coordinate reference system",
                                 "save it with a CRS (GeoJSON: WGS84)")
        frame = frame.to_crs(crs)
        frames.append(gpd.GeoDataFrame({
            "class_code": frame["class"].astype(str).str.lower().map(CODES).astype(np.uint8),
            "flight": (frame["flight"].astype(object).where(frame["flight"].notna(), None)
                       if "flight" in frame else None),
            "source": path.name}, geometry=frame.geometry, crs=crs))
    if not frames:
        return gpd.GeoDataFrame({"class_code": [], "flight": [], "source": []}, geometry=[], crs=crs)
    return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), geometry="geometry", crs=crs)


def hand_label_raster(labels: gpd.GeoDataFrame, flight: str, transform: Affine, shape: tuple[int, int]) -> np.ndarray:
    """(y, x) uint8 class codes of the polygons that apply to `flight` (255 elsewhere; later polygons win)."""
    own = labels[[f is None or str(f) == flight for f in labels["flight"]]] if len(labels) else labels
    shapes = [(g, int(c)) for g, c in zip(own.geometry, own["class_code"]) if g is not None and not g.is_empty]
    if not shapes:
        return np.full(shape, NO_DATA, np.uint8)
    return features.rasterize(shapes, out_shape=shape, transform=transform, fill=NO_DATA, dtype="uint8")


def with_hand_labels(pseudo: np.ndarray, hand: np.ndarray) -> np.ndarray:
    """Pseudo-labels with the hand-labelled pixels replaced by the hand labels."""
    return np.where(hand != NO_DATA, hand, pseudo).astype(np.uint8)
