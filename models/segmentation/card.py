"""Model card beside each checkpoint: what the network reads (bands, indices, normalisation),
what it outputs (classes), what it was trained on, how well, with which code, and the sha256 of
the weights (safetensors, never pickled). `load_card` refuses weights whose hash differs."""
from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

from pydantic import BaseModel, Field

from models.segmentation.classes import NAMES
from pipelines.core.errors import InputDataError

CARD_NAME = "model_card.json"
WEIGHTS_NAME = "weights.safetensors"
ONNX_NAME = "network.onnx"
ONNX_INT8_NAME = "network.int8.onnx"


class ModelCard(BaseModel):
    """Everything needed to use, trust and reproduce one trained segmentation network."""

    architecture: str = "Unet"
    encoder: str
    encoder_depth: int = 4
    decoder_channels: list[int] = Field(default_factory=lambda: [64, 32, 16, 8])
    band_names: list[str]
    indices: list[str]
    channel_mean: list[float]
    channel_std: list[float]
    classes: list[str] = Field(default_factory=lambda: list(NAMES))
    training_data: dict = Field(default_factory=dict)
    settings: dict = Field(default_factory=dict)
    metrics: dict = Field(default_factory=dict)
    code_version: str = "unknown"
    created: str = ""
    checkpoint: Path
    sha256: str
    onnx: Path | None = None
    onnx_sha256: str | None = None
    onnx_int8: Path | None = None
    onnx_int8_sha256: str | None = None

    @property
    def in_channels(self) -> int:
        """Number of input channels: the bands plus the derived indices."""
        return len(self.band_names) + len(self.indices)

    def save(self) -> Path:
        """Write the card as JSON beside the checkpoint, with file names relative to it; return its path."""
        path = self.checkpoint.parent / CARD_NAME
        portable = self.model_copy(update={"checkpoint": Path(self.checkpoint.name),
                                           "onnx": Path(self.onnx.name) if self.onnx else None,
                                           "onnx_int8": Path(self.onnx_int8.name) if self.onnx_int8 else None})
        path.write_text(portable.model_dump_json(indent=2), encoding="utf-8")
        return path


def file_sha256(path: Path) -> str:
    """Hex sha256 of a file's bytes, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def code_version() -> str:
    """The git commit of this code (with '+dirty' when it has local changes), or 'unknown'."""
    root = Path(__file__).resolve().parents[2]
    try:
        rev = subprocess.run(["git", "-C", str(root), "rev-parse", "--short", "HEAD"], capture_output=True,
                             text=True, timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "models/segmentation"],
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return rev + ("+dirty" if dirty else "")


def load_card(path: str | Path) -> ModelCard:
    """Read a model card (the JSON file or its folder) and check its weights' sha256."""
    path = Path(path)
    path = path / CARD_NAME if path.is_dir() else path
    if not path.is_file():
        raise InputDataError(path, "no model card here", "give the folder written by train_segmentation_model "
                             "or its model_card.json")
    card = ModelCard.model_validate_json(path.read_text(encoding="utf-8"))
    files = {"checkpoint": (card.checkpoint, card.sha256), "onnx": (card.onnx, card.onnx_sha256),
             "onnx_int8": (card.onnx_int8, card.onnx_int8_sha256)}
    update = {}
    for field, (file, digest) in files.items():
        if file is None:
            continue
        file = file if file.is_absolute() else path.parent / file
        if not file.is_file():
            raise InputDataError(file, "a file named by the model card is missing",
                                 "retrain the model or restore the file")
        if file_sha256(file) != digest:
            raise InputDataError(file, f"sha256 differs from the card's {str(digest)[:12]}…",
                                 "the weights were changed or corrupted: retrain or restore them")
        update[field] = file
    return card.model_copy(update=update)
