"""Where the bundled models live, and loading the pair (OTTC + CTC twin) the aligner uses."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from otalign_cli.checkpoint import load_checkpoint
from otalign_cli.errors import OtalignError
from otalign_cli.devices import full_float32
from otalign_cli.model import AlignmentModel

DEFAULT_OTTC = "en-ottc.pt"
PARTS = ("boundary_model", "frame_model")  # held beside an OTTC model's weights, in its checkpoint
DEFAULT_CTC = "en-ctc.pt"


def models_dir() -> Path:
    """``$OTALIGN_MODELS`` if set, else the ``models/`` folder installed with the package."""
    if env := os.environ.get("OTALIGN_MODELS"):
        return Path(env)
    installed = Path(__file__).resolve().parent / "models"
    if installed.is_dir():
        return installed
    return Path(__file__).resolve().parent.parent / "models"


@dataclass
class Models:
    """An OTTC model and, if asked for, its CTC twin, with their checkpoints' metadata."""

    ottc: AlignmentModel
    ottc_meta: dict
    ctc: AlignmentModel | None = None
    ctc_meta: dict = field(default_factory=dict)

    def summaries(self) -> dict[str, dict]:
        """What the outputs' provenance names: each model as loaded (``model_summary``)."""
        return {"ottc": model_summary(self.ottc_meta, self.ottc),
                "ctc": model_summary(self.ctc_meta, self.ctc) if self.ctc is not None else {}}


def load_models(model: Path | None = None, ctc_model: Path | None = None, with_ctc: bool = True,
                device: str = "cpu", boundaries: bool = True, frames: bool = True) -> Models:
    """The OTTC model (default: the bundled one) and, ``with_ctc``, its CTC twin; ``boundaries``
    False drops the OTTC model's boundary model (``--no-boundaries``), ``frames`` False its frame
    model (``--no-frames``)."""
    full_float32(device)
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


def model_summary(meta: dict, model: AlignmentModel | None = None) -> dict:
    """A checkpoint's name, kind and weights' SHA-256, and those of the boundary and frame models it
    carries; given the ``model`` loaded from it, only the parts still attached (``--no-boundaries``
    and ``--no-frames`` detach them), with their configurations' SHA-256 (settings such as the
    frame model's window move times but are not weights) and the frame model's window."""
    out = {"name": meta.get("name"), "kind": meta.get("model", {}).get("kind"),
           "code_version": meta.get("code_version"), "sha256": meta.get("weights_sha256")}
    for part in PARTS:  # what the checkpoint carries besides the weights
        module = getattr(model, part, None) if model is not None else None
        if part not in meta or (model is not None and module is None):
            continue
        out[f"{part}_sha256"] = meta[part].get("weights_sha256")
        if module is not None:  # its readout settings (window, pull, ...) move times but are not weights
            out[f"{part}_config_sha256"] = hashlib.sha256(
                json.dumps(module.cfg.to_dict(), sort_keys=True).encode()).hexdigest()
            if part == "frame_model":
                out["frame_model_window"] = module.cfg.window
    return out


def without_parts(summary: dict | None) -> dict | None:
    """A ``model_summary`` less what it says of the boundary and frame models."""
    if not isinstance(summary, dict):
        return summary
    return {k: v for k, v in summary.items() if not k.startswith(PARTS)}
