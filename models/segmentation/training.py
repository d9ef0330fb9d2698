"""Train the segmentation network on pseudo-labels (and hand labels when given).

Random `crop_px` crops, sampled so that crops holding crop or weed labels are favoured, feed a
cross-entropy loss that ignores unlabelled pixels (255) and weights classes by their frequency to
the power -`class_weight_power` (default -0.5, the inverse square root); Adam with a one-cycle
learning rate (Smith & Topin 2019, Proc. SPIE 11006) for a fixed number of steps, so the training
time is bounded and known in advance (`time_budget_s` can also cut it short).
Weights are written as safetensors with a model card (`card.ModelCard`).
"""
from __future__ import annotations

import datetime as dt
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pydantic import BaseModel, Field

from models.segmentation.card import (
    ONNX_INT8_NAME,
    ONNX_NAME,
    WEIGHTS_NAME,
    ModelCard,
    code_version,
    file_sha256,
)
from models.segmentation.classes import NAMES, NO_DATA
from models.segmentation.evaluation import confusion_matrix, segmentation_scores
from models.segmentation.features import (
    centred_bases,
    channel_statistics,
    feature_stack,
    image_thresholds,
    normalise,
    vegetation_index_name,
)
from models.segmentation.network import (
    DEFAULT_DECODER_CHANNELS,
    DEFAULT_DEPTH,
    DEFAULT_ENCODER,
    build_network,
    use_machine_threads,
)
from models.segmentation.runtime import export_onnx, quantise_onnx
from pipelines.core.progress import LOG_EVERY_S, track


class TrainingSettings(BaseModel):
    """Training budget and network choice; the defaults train in about 1-2 minutes on 2 CPU cores."""

    encoder: str = DEFAULT_ENCODER
    encoder_depth: int = Field(default=DEFAULT_DEPTH, ge=3, le=5)
    decoder_channels: list[int] = Field(default_factory=lambda: list(DEFAULT_DECODER_CHANNELS))
    indices: list[str] | None = Field(default=None, description="None: NDVI (or ExG without NIR); `<index>-otsu` "
                                      "adds the index centred on the image's Otsu threshold (features.py)")
    steps: int = Field(default=120, ge=1)
    batch: int = Field(default=8, ge=1)
    crop_px: int = Field(default=128, ge=32, multiple_of=32)
    time_budget_s: float | None = Field(default=None, gt=0, description="stop early after this many seconds "
                                        "(bounds the time on a loaded machine; the result then depends on the load)")
    learning_rate: float = Field(default=3e-3, gt=0)
    validation_fraction: float = Field(default=0.1, ge=0, lt=1, description="share of the images (or of a single "
                                       "image's rows) held out of training for the card's validation")
    class_weight_power: float = Field(default=0.5, ge=0, le=1, description="class weight = frequency^-power "
                                      "(0: unweighted; higher favours rare classes, e.g. weeds, over soil)")
    band_gain_sd: float = Field(default=0.0, ge=0, le=1, description="photometric augmentation: each training "
                                "crop's bands are multiplied by exp(N(0, sd)) gains, one per band, before its "
                                "indices are computed (0: none)")
    seed: int = 0


@dataclass(frozen=True)
class LabelledImage:
    """One training image: (band, y, x) float32 (NaN = no data) and (y, x) uint8 labels (255 = none)."""

    name: str
    reflectance: np.ndarray
    labels: np.ndarray


def _crop_origins(labels: np.ndarray, crop: int, count: int, rng: np.random.Generator) -> np.ndarray:
    """Top-left corners of `count` crops, half centred on a random plant (crop or weed) label."""
    h, w = labels.shape
    origins = np.column_stack([rng.integers(0, h - crop + 1, count), rng.integers(0, w - crop + 1, count)])
    plants = np.flatnonzero((labels == 1) | (labels == 2))
    if plants.size:
        centres = rng.choice(plants, count // 2)
        cy, cx = np.divmod(centres, w)
        origins[: count // 2, 0] = np.clip(cy - crop // 2, 0, h - crop)
        origins[: count // 2, 1] = np.clip(cx - crop // 2, 0, w - crop)
    return origins


def _calibration_crops(inputs: Sequence[np.ndarray], rng: np.random.Generator, count: int = 8,
                       size: int = 256) -> list[np.ndarray]:
    """Up to `count` normalised training crops (1, channel, y, x) of at most `size` px (multiples
    of 32) that calibrate the int8 activation ranges (`runtime.quantise_onnx`)."""
    crops = []
    for k in range(count):
        x = inputs[k % len(inputs)]
        h, w = (min(size, n) // 32 * 32 for n in x.shape[1:])
        oy, ox = rng.integers(0, x.shape[1] - h + 1), rng.integers(0, x.shape[2] - w + 1)
        crops.append(x[None, :, oy:oy + h, ox:ox + w])
    return crops


def _pad_to(array: np.ndarray, size: int, value) -> np.ndarray:
    pad_y, pad_x = max(0, size - array.shape[-2]), max(0, size - array.shape[-1])
    if not (pad_y or pad_x):
        return array
    widths = [(0, 0)] * (array.ndim - 2) + [(0, pad_y), (0, pad_x)]
    return np.pad(array, widths, constant_values=value)


def _gained(reflectance: np.ndarray, gains: np.ndarray, band_names: Sequence[str], indices: Sequence[str],
            mean: Sequence[float], std: Sequence[float], thresholds: dict[str, float] | None = None) -> np.ndarray:
    """Normalised network input of a reflectance crop whose bands are scaled by `gains`: a flight
    with another exposure, sun or calibration (the photometric augmentation of Buslaev et al. 2020,
    Information 11:125, as albumentations' per-channel multiply), indices recomputed from the
    scaled bands so NDVI shifts as it would. `thresholds`: the gained whole image's
    (`features.image_thresholds`, for `<index>-otsu` channels)."""
    return normalise(feature_stack(reflectance * gains[:, None, None], band_names, indices, thresholds), mean, std)


def held_out_images(images: Sequence[LabelledImage], fraction: float,
                    rng: np.random.Generator) -> tuple[list[LabelledImage], list[LabelledImage]]:
    """(training, validation) images: a random `fraction` of whole images (at least one) is held
    out, never trained on; a single image is cut across its rows, the bottom `fraction` held out."""
    images = list(images)
    if fraction <= 0:
        return images, []
    if len(images) == 1:
        im = images[0]
        cut = int(round(im.labels.shape[0] * (1 - fraction)))
        if cut <= 0 or cut >= im.labels.shape[0]:
            return images, []
        return ([LabelledImage(f"{im.name}[rows :{cut}]", im.reflectance[:, :cut], im.labels[:cut])],
                [LabelledImage(f"{im.name}[rows {cut}:]", im.reflectance[:, cut:], im.labels[cut:])])
    order = rng.permutation(len(images))
    n_held = max(1, int(round(fraction * len(images))))
    train = [images[k] for k in sorted(order[n_held:])]
    if not any(((im.labels == 1) | (im.labels == 2)).any() for im in train):
        return images, []
    return train, [images[k] for k in sorted(order[:n_held])]


def _validation_batches(held: Sequence[LabelledImage], band_names, indices, mean, std, settings, rng,
                        count: int = 8, size: int = 256) -> list:
    """Up to `count` random crops (at most `size` px, multiples of 32) of the held-out images, as
    (1, channel, y, x) / (1, y, x) tensors."""
    import torch

    batches = []
    whole = [image_thresholds(im.reflectance, band_names, indices) for im in held]  # each held-out image's own
    for k in range(count if held else 0):
        im = held[k % len(held)]
        h, w = (min(size, max(32, n // 32 * 32)) for n in im.labels.shape)
        oy = rng.integers(0, max(1, im.labels.shape[0] - h + 1))
        ox = rng.integers(0, max(1, im.labels.shape[1] - w + 1))
        thresholds = whole[k % len(held)]
        x = normalise(feature_stack(im.reflectance[:, oy:oy + h, ox:ox + w], band_names, indices, thresholds),
                      mean, std)
        x = _pad_to(x, max(h, w), 0.0)[:, :h, :w]
        y = _pad_to(im.labels[oy:oy + h, ox:ox + w], max(h, w), NO_DATA)[:h, :w]
        batches.append((torch.from_numpy(np.ascontiguousarray(x[None])),
                        torch.from_numpy(np.ascontiguousarray(y[None]).astype(np.int64))))
    return batches


def train_segmentation_model(images: Sequence[LabelledImage], band_names: Sequence[str], out_dir: str | Path,
                             settings: TrainingSettings | None = None, training_data: dict | None = None) -> ModelCard:
    """Train a U-Net on labelled images; write weights + model card into `out_dir`; return the card.

    The card's metrics are the IoU/F1 of the trained network against the labels of the held-out
    validation images (`held_out_images`: never trained on; agreement with pseudo-labels when the
    labels are pseudo-labels); `validation_fraction=0` trains on every image and records none.
    """
    import torch
    from safetensors.torch import save_file

    settings = settings or TrainingSettings()
    if not images:
        raise ValueError("no training images were given")
    if not any(((im.labels == 1) | (im.labels == 2)).any() for im in images):
        raise ValueError("the labels hold no crop or weed pixel: nothing to learn "
                         "(is there vegetation in the flights?)")
    indices = settings.indices if settings.indices is not None else [vegetation_index_name(band_names)]
    use_machine_threads()
    torch.manual_seed(settings.seed)
    rng = np.random.default_rng(settings.seed)
    images, held = held_out_images(images, settings.validation_fraction, rng)
    stacks = [feature_stack(im.reflectance, band_names, indices, image_thresholds(im.reflectance, band_names, indices))
              for im in images]
    mean, std = channel_statistics(stacks)
    crop = settings.crop_px
    inputs = [_pad_to(normalise(s, mean, std), crop, 0.0) for s in stacks]
    raw = [_pad_to(im.reflectance, crop, np.nan) for im in images] if settings.band_gain_sd else []
    centred = centred_bases(indices)  # the gained whole image's thresholds are needed for these only
    targets = [_pad_to(im.labels, crop, NO_DATA) for im in images]
    counts = sum(np.bincount(t[t != NO_DATA], minlength=len(NAMES))[: len(NAMES)] for t in targets)
    share = np.maximum(counts, 1) / max(counts.sum(), 1)
    weights = np.where(counts > 0, share ** -settings.class_weight_power, 0.0)
    weights = torch.tensor(weights / weights[weights > 0].mean(), dtype=torch.float32)

    def batch_of(count: int):
        which = rng.integers(0, len(inputs), count)
        xs, ys = [], []
        for k in which:
            oy, ox = _crop_origins(targets[k], crop, 2, rng)[rng.integers(0, 2)]
            x, y = inputs[k][:, oy:oy + crop, ox:ox + crop], targets[k][oy:oy + crop, ox:ox + crop]
            if raw:
                gains = np.exp(rng.normal(0.0, settings.band_gain_sd, len(band_names))).astype(np.float32)
                thresholds = image_thresholds(raw[k] * gains[:, None, None], band_names, indices) if centred else {}
                x = _gained(raw[k][:, oy:oy + crop, ox:ox + crop], gains, band_names, indices, mean, std, thresholds)
            if rng.random() < 0.5:
                x, y = x[:, :, ::-1], y[:, ::-1]
            turns = int(rng.integers(0, 4))
            xs.append(np.rot90(x, turns, axes=(1, 2)))
            ys.append(np.rot90(y, turns))
        return (torch.from_numpy(np.ascontiguousarray(np.stack(xs))),
                torch.from_numpy(np.ascontiguousarray(np.stack(ys)).astype(np.int64)))

    validation = _validation_batches(held, band_names, indices, mean, std, settings, rng)
    network = build_network(settings.encoder, len(band_names) + len(indices), len(NAMES), settings.encoder_depth,
                            tuple(settings.decoder_channels)).to(memory_format=torch.channels_last)
    optimiser = torch.optim.Adam(network.parameters(), lr=settings.learning_rate)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, settings.learning_rate, total_steps=settings.steps)
    loss_of = torch.nn.CrossEntropyLoss(weight=weights, ignore_index=NO_DATA)
    network.train()
    losses, started = [], time.perf_counter()
    for _ in track(range(settings.steps), "U-Net training", settings.steps, unit="steps", every_s=LOG_EVERY_S):
        if settings.time_budget_s and time.perf_counter() - started > settings.time_budget_s:
            break
        x, y = batch_of(settings.batch)
        loss = loss_of(network(x.contiguous(memory_format=torch.channels_last)), y)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        schedule.step()
        losses.append(loss.item())
    network.eval()
    confusion = np.zeros((len(NAMES), len(NAMES)), np.int64)
    with torch.inference_mode():
        for x, y in validation:
            predicted = network(x.contiguous(memory_format=torch.channels_last)).argmax(1).numpy().astype(np.uint8)
            confusion += confusion_matrix(predicted, y.numpy().astype(np.uint8))
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    checkpoint = out_dir / WEIGHTS_NAME
    save_file({k: v.contiguous() for k, v in network.state_dict().items()}, str(checkpoint))
    onnx = export_onnx(network, len(band_names) + len(indices), out_dir / ONNX_NAME)
    onnx_int8 = quantise_onnx(onnx, _calibration_crops(inputs, rng), out_dir / ONNX_INT8_NAME)
    card = ModelCard(
        encoder=settings.encoder, encoder_depth=settings.encoder_depth, decoder_channels=settings.decoder_channels,
        band_names=list(band_names), indices=indices, channel_mean=mean, channel_std=std,
        training_data={"images": [im.name for im in images], "validation_images": [im.name for im in held],
                       "label_pixels": dict(zip(NAMES, map(int, counts))),
                       **(training_data or {})},
        settings=settings.model_dump(), code_version=code_version(),
        created=dt.datetime.now(dt.timezone.utc).isoformat(),
        metrics={"validation_vs_labels": segmentation_scores(confusion) if validation else None,
                 "validation_images": [im.name for im in held],
                 "final_loss": round(float(np.mean(losses[-10:])), 4), "steps_done": len(losses),
                 "training_s": round(time.perf_counter() - started, 1)},
        checkpoint=checkpoint, sha256=file_sha256(checkpoint), onnx=onnx, onnx_sha256=file_sha256(onnx),
        onnx_int8=onnx_int8, onnx_int8_sha256=file_sha256(onnx_int8))
    card.save()
    return card
