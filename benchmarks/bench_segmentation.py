"""Tiled segmentation inference on a whole 8 000 × 8 000 mosaic (quick: 512²) vs the naive call.

Baseline (the naive call): smp U-Net resnet18 (depth 5), torch.no_grad, batch 4, contiguous
memory, non-overlapping 512² tiles, measured on a 2 048² part of the same mosaic
in the same run (quick: 512²). The project: `predict_classes` with its defaults (the light U-Net of
`network.py`, its static int8 ONNX graph under ONNX Runtime, 512² tiles with 64 px overlap and
blending, batch 4) over the whole mosaic, then the alternatives on the part: the float32 ONNX
graph, 1024² tiles (slower: activations outgrow the caches), the same network under torch
channels-last, and an efficientnet-b0 encoder (ONNX). torch.compile is not measured here (a ~37 s
compile per process, see ENVIRONMENT.md). Figures in Mpx/s of mosaic (overlap included); the
machine is shared, so the load average is reported beside them. Weights are random (speed does
not depend on them); accuracy of the default is measured by `saqi segment evaluate`.
"""
from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

import numpy as np

from models.segmentation.inference import predict_classes
from models.segmentation.training import (
    LabelledImage,
    TrainingSettings,
    train_segmentation_model,
)
from pipelines.synthetic.spectra import DRY_SOIL, HEALTHY_CANOPY

BANDS = ["blue", "green", "red", "rededge", "nir"]
TARGET_MPX_S = 1.5


def mosaic(size: int, seed: int = 0) -> np.ndarray:
    """(5, size, size) float32 reflectance: diagonal crop rows (12 px spacing) on noisy soil."""
    rng = np.random.default_rng(seed)
    out = np.empty((5, size, size), np.float32)
    x = np.arange(size, dtype=np.float32)
    for top in range(0, size, 1024):
        y = np.arange(top, min(size, top + 1024), dtype=np.float32)[:, None]
        crop = (np.mod(x[None, :] * 0.4 + y, 12.0) < 4.0).astype(np.float32)
        for b in range(5):
            out[b, top:top + len(y)] = DRY_SOIL[b] + crop * (HEALTHY_CANOPY[b] - DRY_SOIL[b])
        out[:, top:top + len(y)] *= rng.normal(1.0, 0.03, (5, len(y), size)).astype(np.float32)
    return out


def _naive_mpx_s(part: np.ndarray, encoder: str = "resnet18", channels_last: bool = False) -> float:
    import segmentation_models_pytorch as smp
    import torch

    network = smp.Unet(encoder, encoder_weights=None, in_channels=part.shape[0], classes=4).eval()
    if channels_last:
        network = network.to(memory_format=torch.channels_last)
    size = part.shape[1]
    tiles = [part[:, r:r + 512, c:c + 512] for r in range(0, size, 512) for c in range(0, size, 512)]
    with torch.no_grad():
        network(torch.from_numpy(np.stack(tiles[:1])))
        started = time.perf_counter()
        for k in range(0, len(tiles), 4):
            x = torch.from_numpy(np.stack(tiles[k:k + 4]))
            if channels_last:
                x = x.contiguous(memory_format=torch.channels_last)
            network(x).argmax(1)
        return size * size / (time.perf_counter() - started) / 1e6


def _project_mpx_s(card, image: np.ndarray, runtime: str, tile: int = 512, batch: int = 4) -> float:
    predict_classes(card, image[:, :512, :512], BANDS, runtime=runtime)
    started = time.perf_counter()
    predict_classes(card, image, BANDS, runtime=runtime, tile=tile, batch=batch)
    return image.shape[1] * image.shape[2] / (time.perf_counter() - started) / 1e6


def run(quick: bool = False) -> list[dict]:
    size, part_size = (512, 512) if quick else (8000, 2048)
    image = mosaic(size)
    part = np.ascontiguousarray(image[:, :part_size, :part_size])
    naive = _naive_mpx_s(np.concatenate([part, part[3:4]]))
    rows = []

    def row(case: str, figure: float, target: bool) -> None:
        rows.append({"benchmark": "segmentation", "case": f"{case}; load {os.getloadavg()[0]:.1f}",
                     "figure": round(figure, 3), "unit": "Mpx/s",
                     "baseline": f"naive smp resnet18 no_grad batch 4 on {part_size}²",
                     "baseline_figure": round(naive, 3), "ratio": round(figure / naive, 2),
                     "target": f">= {TARGET_MPX_S} Mpx/s" if target else "",
                     "met": figure >= TARGET_MPX_S if target else ""})

    with tempfile.TemporaryDirectory(prefix="bench-seg-") as scratch:
        labels = np.zeros((256, 256), np.uint8)
        labels[:, ::2] = 1
        sample = [LabelledImage("bench", np.ascontiguousarray(image[:, :256, :256]), labels)]
        for encoder, depth, decoder in (("resnet18", 4, [64, 32, 16, 8]),
                                        ("efficientnet-b0", 5, [256, 128, 64, 32, 16])):
            settings = TrainingSettings(encoder=encoder, encoder_depth=depth, decoder_channels=decoder, steps=1,
                                        batch=1, crop_px=64, validation_fraction=0.0)
            card = train_segmentation_model(sample, BANDS, Path(scratch) / encoder, settings)
            if encoder == "resnet18":
                row(f"predict_classes default (resnet18 depth 4, int8 ONNX Runtime, tile 512, overlap 64) on {size}²",
                    _project_mpx_s(card, image, "auto"), True)
                row(f"same network, float32 ONNX Runtime on {part_size}²", _project_mpx_s(card, part, "onnx"), False)
                row(f"same network, int8 ONNX Runtime, tile 1024 batch 1 on {part_size}²",
                    _project_mpx_s(card, part, "auto", tile=1024, batch=1), False)
                row(f"same network, torch channels-last, inference_mode on {part_size}²",
                    _project_mpx_s(card, part, "torch"), False)
            else:
                row(f"efficientnet-b0 U-Net, float32 ONNX Runtime, tile 512, overlap 64 on {part_size}²",
                    _project_mpx_s(card, part, "onnx"), False)
    row(f"naive resnet18 + channels-last only on {part_size}²",
        _naive_mpx_s(np.concatenate([part, part[3:4]]), channels_last=True), False)
    return rows
