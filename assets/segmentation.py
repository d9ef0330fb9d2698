"""Crop / weed / soil / shadow segmentation, learnt from the farm's own flights.

- `segmentation_model`: a U-Net (segmentation-models-pytorch, no pretrained weights) trained on
  pseudo-labels made from every flight in the farm stores: vegetation on the crop rows is crop,
  vegetation between rows is weed (Bah, Hafiane & Canals 2018), canopy / inter-row / soil for
  olive and citrus; shadow and soil from the rest. A checkpoint with its model card (bands,
  classes, training data — hand labels from `configs/farms/<farm>/labels*.geojson` (property
  `class`, optional `flight`) replace the pseudo-labels where drawn —, validation on held-out
  images, code version, sha256) under `<data_root>/models/segmentation/`;
  a new model changes the data version, so every class map below it shows as stale.
- `crop_segmentation`: uint8 class map of one flight (0 soil, 1 crop, 2 weed, 3 shadow, 255 no
  data, CF `flag_values`/`flag_meanings`), from the model by the frozen, cross-validated recipe
  of `configs/segmentation.yaml` (`decision.segment`, strip by strip), or from an Otsu
  vegetation threshold (NDVI, or ExG on an RGB flight) when no model exists yet or the flight lacks
  the bands the model was trained on (an RGB camera flight: the U-Net needs its multispectral
  reflectance channels), weeds then split off the crop rows of row and tree parcels. Store:
  `<farm>.zarr/flights/<flight>/classes`. Beside it, a weed-cover grid per parcel and the
  spot-spray prescription (cells above the weed threshold; GeoJSON, Shapefile, ISO 11783-10
  TASKDATA) under `<data_root>/prescriptions/<farm>/<flight>/spot_spray/`.

How to read it: crop cover is the share of crop pixels in a parcel; weeds between the rows
compete for water and nitrogen; shadow (tree crowns, ridges) is excluded from index statistics.
"""
import datetime as dt
import json
from pathlib import Path

import dagster as dg

from assets._metadata import OWNERS, number, preview, section, shown, thumbnail
from models.segmentation.card import load_card
from pipelines.core.config import configs_dir, farm_ids
from pipelines.core.errors import InputDataError
from pipelines.core.keys import FlightKey
from pipelines.imagery.parcels.layer import load_parcels
from pipelines.imagery.preview import preview_step
from pipelines.orchestration.partitions import all_flights, flights
from pipelines.orchestration.resources import SaqiStorage
from pipelines.plans.flight_segmentation import multispectral, segment_flight
from pipelines.reports.maps import class_map
from pipelines.store import cube, windows
from pipelines.store.products import CLASSES

LATEST = "latest.json"


class TrainingConfig(dg.Config):
    """Training budget: the recipe's steps (configs/segmentation.yaml, chosen by cross-validation),
    capped by the time budget; about 2-3 minutes on 2 CPU cores."""

    steps: int = 480
    time_budget_s: float = 150.0
    encoder: str | None = None


def _latest_card(storage: SaqiStorage):
    pointer = Path(storage.data_root) / "models" / "segmentation" / LATEST
    return load_card(Path(json.loads(pointer.read_text())["card"])) if pointer.is_file() else None


@dg.asset(group_name="segmentation", owners=OWNERS["segmentation"], kinds={"pytorch", "onnx"}, code_version="1",
          deps=[dg.AssetDep("reflectance", partition_mapping=all_flights)],
          description=section(__doc__, "segmentation_model"))
def segmentation_model(context: dg.AssetExecutionContext, config: TrainingConfig,
                       storage: SaqiStorage) -> dg.MaterializeResult:
    from models.segmentation.flights import FlightSample, farm_settings, train_from_flights
    from models.segmentation.labels.hand import read_hand_labels

    samples, skipped = [], []
    for farm_id in farm_ids():
        store, grid = storage.store(farm_id), storage.grid(farm_id)
        parcels = load_parcels(storage.farm(farm_id), grid).frame
        hand = read_hand_labels(sorted((configs_dir() / "farms" / farm_id).glob("labels*.geojson")), grid.crs)
        for flight in cube.flights_in_store(store):
            group = cube.flight_group(flight, "reflectance")
            if cube.has_product(store, group):
                data = cube.read_product(store, group)["reflectance"]
                bands = [str(b) for b in data.band.values]
                if not multispectral(data.attrs, bands):
                    skipped.append(f"{flight} ({', '.join(bands)})")
                    continue
                samples.append(FlightSample(flight, data.values, bands, parcels, grid.transform, hand))
    if not samples and skipped:
        return dg.MaterializeResult(metadata={
            "status": "no model trained: no multispectral reflectance flight (the U-Net's pseudo-labels and channels "
                      "need NIR reflectance); crop_segmentation uses the Otsu fallback on every flight",
            "flights_skipped": "; ".join(skipped), "training_flights": 0})
    settings = farm_settings(config.steps, config.time_budget_s, samples[0].band_names if samples else [],
                             config.encoder)
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%S")
    model = train_from_flights(samples, storage.folder("models", "segmentation", stamp), settings)
    card_path = model.save()
    (Path(storage.data_root) / "models" / "segmentation" / LATEST).write_text(json.dumps({"card": str(card_path)}))
    return dg.MaterializeResult(
        data_version=dg.DataVersion(model.sha256[:16]),
        metadata=shown({"encoder": model.encoder, "bands": ", ".join(model.band_names),
                        "indices": ", ".join(model.indices),
                  "classes": ", ".join(model.classes), "training_flights": len(samples),
                  "training_data": model.training_data.get("source", ""),
                  "flights_skipped": "; ".join(skipped) or "none",
                  "code_version": model.code_version, "sha256": model.sha256,
                  "card": dg.MetadataValue.path(str(card_path)), "metrics": dg.MetadataValue.json(model.metrics),
                  **{f"val_{k}": number(v) for k, v in model.metrics.items() if isinstance(v, (int, float))}}))


@dg.asset(partitions_def=flights, group_name="segmentation", owners=OWNERS["segmentation"], kinds={"zarr", "onnx"},
          code_version="3", deps=["vegetation_indices", segmentation_model],
          description=section(__doc__, "crop_segmentation"))
def crop_segmentation(context: dg.AssetExecutionContext, storage: SaqiStorage) -> dg.MaterializeResult:
    key = FlightKey.parse(context.partition_key)
    store, grid, farm = storage.store(key.farm), storage.grid(key.farm), storage.farm(key.farm)
    try:
        done = segment_flight(store, key, grid, farm, load_parcels(farm, grid), _latest_card(storage),
                              storage.folder("prescriptions", key.farm, str(key), "spot_spray"))
    except InputDataError as error:
        raise dg.Failure(description=str(error), allow_retries=False) from error
    classes = windows.stored_array(store, str(key), CLASSES)
    cells, sprayed = done.cells, done.sprayed
    step = preview_step(classes.shape, 480)
    return dg.MaterializeResult(metadata=shown({
        "method": done.method, "vigour_index": done.vigour or "none",
        **{f"{name}_fraction": number(v) for name, v in done.shares.items()},
        "class_thumbnail": thumbnail(lambda px: class_map(classes[::step, ::step], grid.resolution_m * step,
                                                          max_side_px=px, decorated=False).png, "classes"),
        "class_preview": preview(class_map(classes[::step, ::step], grid.resolution_m * step, max_side_px=480).png,
                                 "classes"),
        "valid_fraction": number(done.valid_fraction),
        "weed_cells": len(cells), "spot_spray_cells": int(sprayed.sum()),
        "spot_spray_area_fraction": number(float(cells["area_m2"][sprayed].sum() / cells["area_m2"].sum())
                                           if len(cells) else float("nan")),
        **{f"spot_spray_{fmt}": dg.MetadataValue.path(str(path)) for fmt, path in done.files.items()},
    }))
