"""Run a trained network on batches of tiles: ONNX Runtime (default, fastest on CPU) or torch.

"auto" picks the int8 ONNX graph when the card has one: static QDQ quantisation (per-channel int8
weights, uint8 activations calibrated by min/max on training crops, `quantise_onnx`) runs about
1.8x faster than float32 on this AVX-512 VNNI CPU with equal WeedMap IoU (docs/segmentation.md;
the segmentation head stays float32);
dynamic quantisation (ConvInteger) was 7x slower and is not offered.

Both return class probabilities (softmax over classes), float32 (batch, class, y, x). The ONNX
graph is exported once at training time beside the safetensors weights (softmax included);
torch runs channels-last under `torch.inference_mode`. Both use all the machine's cores.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from models.segmentation.card import ModelCard
from models.segmentation.network import (
    build_network,
    machine_threads,
    use_machine_threads,
)

RUNTIMES = ("auto", "onnx-int8", "onnx", "torch")


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


def quantise_onnx(path: Path, calibration: list[np.ndarray], out: Path) -> Path:
    """Static int8 QDQ copy of an ONNX graph (ONNX Runtime quantisation: per-channel int8 weights,
    uint8 activations with min/max ranges from `calibration`, a list of (1, channel, y, x) float32
    normalised feature crops). The segmentation head (last convolution) and the softmax stay
    float32: quantising the head halved the weed IoU on the sample farm (0.21 -> 0.10; 0.19 with
    the head in float32) for no measurable speed. Weights use 7 bits (`reduce_range`, ONNX Runtime's
    advice for CPUs without VNNI): with 8 bits, the u8 x s8 products of AVX2 kernels saturate, and on
    this AVX2 machine (AMD EPYC, no AVX-512/VNNI) the int8 map agreed with torch's on 97.5 % of a
    test scene's pixels instead of > 99 %."""
    import tempfile

    import onnx
    from onnxruntime.quantization import (
        CalibrationDataReader,
        QuantFormat,
        QuantType,
        quantize_static,
    )
    from onnxruntime.quantization.shape_inference import quant_pre_process

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.items = iter([{"features": np.ascontiguousarray(x, np.float32)} for x in calibration])

        def get_next(self):
            return next(self.items, None)

    with tempfile.TemporaryDirectory(prefix="saqi-quant-") as scratch:
        prepared = Path(scratch) / "prepared.onnx"
        quant_pre_process(str(path), str(prepared))
        float_nodes = [n.name for n in onnx.load(str(prepared)).graph.node
                       if "segmentation_head" in n.name or n.op_type == "Softmax"]
        quantize_static(str(prepared), str(out), Reader(), quant_format=QuantFormat.QDQ, per_channel=True,
                        activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8, nodes_to_exclude=float_nodes,
                        reduce_range=True)
    return out


class TorchRunner:
    """Batch runner on the card's torch network (channels-last, torch threads = usable cores)."""

    def __init__(self, card: ModelCard):
        self.network = load_network(card)
        use_machine_threads()

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        """Softmax class probabilities (batch, class, y, x) of a float32 feature batch."""
        import torch

        x = torch.from_numpy(batch).contiguous(memory_format=torch.channels_last)
        with torch.inference_mode():
            return torch.softmax(self.network(x), 1).numpy()


class OnnxRunner:
    """Batch runner on an ONNX graph with onnxruntime's CPU provider (threads = usable cores)."""

    def __init__(self, path: Path):
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = machine_threads()
        self.session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        """The graph's class probabilities (batch, class, y, x) of a float32 feature batch."""
        return self.session.run(None, {"features": np.ascontiguousarray(batch)})[0]


def runner_for(card: ModelCard, runtime: str = "auto"):
    """A callable batch -> probabilities. auto: the int8 ONNX graph when the card has one, else the
    float32 ONNX graph, else torch."""
    if runtime not in RUNTIMES:
        raise ValueError(f"runtime must be one of {RUNTIMES}, got {runtime!r}")
    if runtime == "onnx-int8" or (runtime == "auto" and card.onnx_int8 is not None):
        if card.onnx_int8 is None:
            raise ValueError(f"{card.checkpoint.parent}: this model has no int8 ONNX graph; use runtime='onnx'")
        return OnnxRunner(card.onnx_int8)
    if runtime == "onnx" or (runtime == "auto" and card.onnx is not None):
        if card.onnx is None:
            raise ValueError(f"{card.checkpoint.parent}: this model has no ONNX graph; use runtime='torch'")
        return OnnxRunner(card.onnx)
    return TorchRunner(card)
