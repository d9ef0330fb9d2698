"""Hand labels drawn as GeoJSON polygons: classes by name, per-flight filter, CRS, bad files refused."""
from __future__ import annotations

import json

import numpy as np
import pytest
from affine import Affine
from pyproj import Transformer

from models.segmentation.classes import CROP, NO_DATA, SOIL, WEED
from models.segmentation.labels.hand import hand_label_raster, read_hand_labels, with_hand_labels
from pipelines.core.errors import InputDataError

CRS = "EPSG:32629"
TRANSFORM = Affine(0.25, 0, 400000.0, 0, -0.25, 3300010.0)  # 40 x 40 px of 0.25 m
TO_LL = Transformer.from_crs(CRS, "EPSG:4326", always_xy=True)


def _square(x0, y0, size):
    ring = [(x0, y0), (x0 + size, y0), (x0 + size, y0 + size), (x0, y0 + size), (x0, y0)]
    return {"type": "Polygon", "coordinates": [[list(TO_LL.transform(x, y)) for x, y in ring]]}


def _write(path, features):
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": props, "geometry": geom} for props, geom in features]}))
    return path


def test_polygons_become_class_pixels_for_their_flight(tmp_path):
    path = _write(tmp_path / "labels.geojson", [
        ({"class": "Weed", "flight": "f1"}, _square(400001.0, 3300001.0, 2.0)),   # 8 x 8 px in f1 only
        ({"class": "crop"}, _square(400005.0, 3300005.0, 1.0)),                    # 4 x 4 px in every flight
    ])
    labels = read_hand_labels([path], CRS)
    f1 = hand_label_raster(labels, "f1", TRANSFORM, (40, 40))
    f2 = hand_label_raster(labels, "f2", TRANSFORM, (40, 40))
    assert (f1 == WEED).sum() == 64 and (f1 == CROP).sum() == 16 and (f1 == NO_DATA).sum() == 1600 - 80
    assert (f2 == WEED).sum() == 0 and (f2 == CROP).sum() == 16
    rows, cols = np.nonzero(f1 == WEED)  # y 3300001-3300003 m -> rows 28-35, x 400001-400003 -> cols 4-11
    assert (rows.min(), rows.max(), cols.min(), cols.max()) == (28, 35, 4, 11)
    merged = with_hand_labels(np.full((40, 40), SOIL, np.uint8), f1)
    assert (merged == WEED).sum() == 64 and (merged == SOIL).sum() == 1600 - 80


def test_unknown_class_and_missing_property_are_refused(tmp_path):
    bad = _write(tmp_path / "labels_bad.geojson", [({"class": "thistle"}, _square(400001.0, 3300001.0, 1.0))])
    with pytest.raises(InputDataError, match=r"labels_bad.geojson.*unknown label class.*thistle"):
        read_hand_labels([bad], CRS)
    none = _write(tmp_path / "labels_none.geojson", [({"name": "x"}, _square(400001.0, 3300001.0, 1.0))])
    with pytest.raises(InputDataError, match="no 'class' property"):
        read_hand_labels([none], CRS)
    assert len(read_hand_labels([], CRS)) == 0
