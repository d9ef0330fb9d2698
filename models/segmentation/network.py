"""The segmentation network: an smp U-Net (Ronneberger et al. 2015, MICCAI, LNCS 9351:234-241)
built without pretrained weights (nothing is downloaded), torch imported lazily."""
from __future__ import annotations

import os

from models.segmentation.classes import NAMES

DEFAULT_ENCODER = "resnet18"
DEFAULT_DEPTH = 4
DEFAULT_DECODER_CHANNELS = (64, 32, 16, 8)
"""A light U-Net: four encoder stages and a slim decoder (a 1-2 minute training budget on 2 CPU
cores, ~1 cm to 25 cm pixels need no deeper context than ~150 px)."""


def build_network(encoder: str, in_channels: int, classes: int = len(NAMES), depth: int = DEFAULT_DEPTH,
                  decoder_channels: tuple[int, ...] = DEFAULT_DECODER_CHANNELS):
    """smp.Unet(encoder, encoder_weights=None) taking `in_channels` and giving `classes` logits."""
    import segmentation_models_pytorch as smp

    if len(decoder_channels) != depth:
        raise ValueError(f"decoder_channels {decoder_channels} must have one entry per encoder stage ({depth})")
    return smp.Unet(encoder_name=encoder, encoder_weights=None, in_channels=in_channels, classes=classes,
                    encoder_depth=depth, decoder_channels=tuple(decoder_channels))


def machine_threads() -> int:
    """CPU cores this process may use (affinity-aware)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def use_machine_threads() -> None:
    """Set torch's intra-op thread count to the cores this process may use."""
    import torch

    if torch.get_num_threads() != machine_threads():
        torch.set_num_threads(machine_threads())
