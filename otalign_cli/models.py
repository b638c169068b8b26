"""Where the bundled models live, and loading the pair (OTTC + CTC twin) the aligner uses."""

from __future__ import annotations

from dataclasses import dataclass, field

import os
from pathlib import Path

from otalign_cli.checkpoint import load_checkpoint
from otalign_cli.errors import OtalignError
from otalign_cli.model import AlignmentModel

DEFAULT_OTTC = "en-ottc.pt"
DEFAULT_CTC = "en-ctc.pt"


def models_dir() -> Path:
    """``$OTALIGN_MODELS`` if set, else the ``models/`` folder installed with the package."""
    if env := os.environ.get("OTALIGN_MODELS"):
        return Path(env)
    installed = Path(__file__).resolve().parent / "models"
    if installed.is_dir():
        return installed
    return Path(__file__).resolve().parent.parent / "models"


def resolve_device(device: str) -> str:
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise ValueError("--device cuda was asked for, but no CUDA GPU is available")
    return device


def full_float32_on_cuda() -> None:
    """Aligning on a GPU computes in full float32, as on the CPU: alignment times must not depend on
    the device. PyTorch lets cuDNN's convolutions and recurrent layers use TF32 (10-bit mantissas)
    on Ampere and newer GPUs by default. With it, on an H200 (2026-11-26), the encoder's
    posteriors differed from the CPU's by more than 1e-3 (tests/test_longform.py) and a batch's
    word times by up to 77 ms; TF32 is the likely cause, not yet confirmed on a GPU
    (``bench/cuda_parity.py --tf32`` compares). The setting is torch's, for the whole process."""
    import torch

    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cuda.matmul.allow_tf32 = False


@dataclass
class Models:
    """An OTTC model and, if asked for, its CTC twin, with their checkpoints' metadata."""

    ottc: AlignmentModel
    ottc_meta: dict
    ctc: AlignmentModel | None = None
    ctc_meta: dict = field(default_factory=dict)


def load_models(model: Path | None = None, ctc_model: Path | None = None, with_ctc: bool = True,
                device: str = "cpu", boundaries: bool = True, frames: bool = True) -> Models:
    """The OTTC model (default: the bundled one) and, ``with_ctc``, its CTC twin; ``boundaries``
    False drops the OTTC model's boundary model (``--no-boundaries``), ``frames`` False its frame
    model (``--no-frames``)."""
    if str(device).startswith("cuda"):
        full_float32_on_cuda()
    ottc, meta = load_checkpoint(model or models_dir() / DEFAULT_OTTC, expect_kind="ottc", device=device)
    if not boundaries:
        ottc.set_boundary_model(None)
    if not frames:
        ottc.set_frame_model(None)
    if not with_ctc:
        return Models(ottc, meta)
    ctc_path = ctc_model or models_dir() / DEFAULT_CTC
    ctc, cmeta = load_checkpoint(ctc_path, expect_kind="ctc", device=device)
    if ctc.cfg.language != ottc.cfg.language:
        raise OtalignError(ctc_path, f"a CTC twin for language {ctc.cfg.language!r}, but the OTTC model aligns "
                                     f"{ottc.cfg.language!r} (give its own twin with --ctc-model, or --no-ctc)")
    return Models(ottc, meta, ctc, cmeta)


def model_summary(meta: dict) -> dict:
    out = {"name": meta.get("name"), "kind": meta.get("model", {}).get("kind"),
           "code_version": meta.get("code_version"), "sha256": meta.get("weights_sha256")}
    for part in ("boundary_model", "frame_model"):  # what the checkpoint carries besides the weights
        if part in meta:
            out[f"{part}_sha256"] = meta[part].get("weights_sha256")
    return out
