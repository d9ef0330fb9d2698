"""Run a trained network on batches of tiles: ONNX Runtime (default, fastest on CPU) or torch.

Both return class probabilities (softmax over classes), float32 (batch, class, y, x). The ONNX
graph is exported once at training time beside the safetensors weights (softmax included);
torch runs channels-last under `torch.inference_mode`. Both use all the machine's cores.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from models.segmentation.card import ModelCard
from models.segmentation.network import build_network, machine_threads, use_machine_threads

RUNTIMES = ("auto", "onnx", "torch")


def load_network(card: ModelCard):
    """The card's torch network with its weights, in eval mode and channels-last."""
    import torch
    from safetensors.torch import load_file

    network = build_network(card.encoder, card.in_channels, len(card.classes), card.encoder_depth,
                            tuple(card.decoder_channels))
    network.load_state_dict(load_file(str(card.checkpoint)))
    return network.eval().to(memory_format=torch.channels_last)


def export_onnx(network, in_channels: int, path: Path, tile_px: int = 256) -> Path:
    """Write the network followed by a softmax over classes as ONNX (dynamic batch and size)."""
    import torch

    model = torch.nn.Sequential(network, torch.nn.Softmax(dim=1)).eval().to(memory_format=torch.contiguous_format)
    example = torch.zeros(1, in_channels, tile_px, tile_px)
    axes = {0: "batch", 2: "y", 3: "x"}
    torch.onnx.export(model, example, str(path), input_names=["features"], output_names=["probability"],
                      dynamic_axes={"features": axes, "probability": axes}, dynamo=False)
    return path


class TorchRunner:
    def __init__(self, card: ModelCard):
        self.network = load_network(card)
        use_machine_threads()

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        import torch

        x = torch.from_numpy(batch).contiguous(memory_format=torch.channels_last)
        with torch.inference_mode():
            return torch.softmax(self.network(x), 1).numpy()


class OnnxRunner:
    def __init__(self, path: Path):
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = machine_threads()
        self.session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        return self.session.run(None, {"features": np.ascontiguousarray(batch)})[0]


def runner_for(card: ModelCard, runtime: str = "auto"):
    """A callable batch -> probabilities: ONNX Runtime when the card has an ONNX graph (auto), else torch."""
    if runtime not in RUNTIMES:
        raise ValueError(f"runtime must be one of {RUNTIMES}, got {runtime!r}")
    if runtime == "onnx" or (runtime == "auto" and card.onnx is not None):
        if card.onnx is None:
            raise ValueError(f"{card.checkpoint.parent}: this model has no ONNX graph; use runtime='torch'")
        return OnnxRunner(card.onnx)
    return TorchRunner(card)
