"""Where the bundled models live, and loading the pair (OTTC + CTC twin) the aligner uses."""

from __future__ import annotations

import os
from pathlib import Path

from otalign_cli.checkpoint import load_checkpoint
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


def load_pair(model: Path | None, ctc_model: Path | None, with_ctc: bool,
              device: str, boundaries: bool = True) -> tuple[AlignmentModel, dict, AlignmentModel | None, dict]:
    """The OTTC model and (``with_ctc``) its CTC twin; ``boundaries`` False drops the OTTC model's
    boundary model (``--no-boundaries``)."""
    ottc, meta = load_checkpoint(model or models_dir() / DEFAULT_OTTC, expect_kind="ottc", device=device)
    if not boundaries:
        ottc.set_boundary_model(None)
    ctc, cmeta = (None, {})
    if with_ctc:
        ctc, cmeta = load_checkpoint(ctc_model or models_dir() / DEFAULT_CTC, expect_kind="ctc", device=device)
    return ottc, meta, ctc, cmeta


def model_summary(meta: dict) -> dict:
    return {"name": meta.get("name"), "kind": meta.get("model", {}).get("kind"),
            "code_version": meta.get("code_version"), "sha256": meta.get("weights_sha256")}
