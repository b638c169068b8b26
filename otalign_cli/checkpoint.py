"""Checkpoint files: weights plus everything needed to run them, verified on load.

One ``.pt`` file holds the model config (vocabulary, architecture, frame rate), the feature
config, a training summary, the code version and the SHA-256 of the weights. A corrupt,
truncated, tampered or foreign file fails with a one-line message instead of a traceback.
"""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import torch

from otalign_cli import __version__
from otalign_cli.errors import OtalignError
from otalign_cli.features import FeatureConfig
from otalign_cli.formats.atomic import write_with
from otalign_cli.model import AlignmentModel, ModelConfig

FORMAT = "otalign-checkpoint"
FORMAT_VERSION = 1


def weights_sha256(state: dict[str, torch.Tensor]) -> str:
    """Hash of names, shapes and bytes in name order: independent of pickling details."""
    h = hashlib.sha256()
    for name in sorted(state):
        t = state[name].detach().cpu().contiguous()
        h.update(name.encode())
        h.update(str(tuple(t.shape)).encode())
        h.update(t.numpy().tobytes())
    return h.hexdigest()


def save_checkpoint(path: Path, model: AlignmentModel, name: str, training: dict,
                    features: FeatureConfig = FeatureConfig()) -> None:
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    blob = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "name": name,
        "model": model.cfg.to_dict(),
        "features": features.to_dict(),
        "frame_shift": model.frame_shift,
        "training": training,
        "code_version": __version__,
        "weights_sha256": weights_sha256(state),
        "state_dict": state,
    }
    buf = io.BytesIO()
    torch.save(blob, buf)
    write_with(path, lambda tmp: tmp.write_bytes(buf.getvalue()))


def load_checkpoint(path: Path, expect_kind: str | None = None,
                    device: str = "cpu") -> tuple[AlignmentModel, dict]:
    """(model in eval mode on ``device``, metadata without the weights)."""
    if not path.is_file():
        raise OtalignError(path, "model file not found")
    try:
        blob = torch.load(str(path), map_location="cpu", weights_only=True)
    except Exception as err:
        first = (str(err).splitlines() or [type(err).__name__])[0][:120]
        raise OtalignError(path, f"not a readable otalign model file ({first})") from None
    if not isinstance(blob, dict) or blob.get("format") != FORMAT:
        raise OtalignError(path, "not an otalign model file (format marker missing)")
    if blob.get("format_version") != FORMAT_VERSION:
        raise OtalignError(path, f"model file format {blob.get('format_version')} is not supported "
                                 f"(this otalign reads {FORMAT_VERSION})")
    state = blob["state_dict"]
    if weights_sha256(state) != blob.get("weights_sha256"):
        raise OtalignError(path, "model weights do not match their SHA-256 (file corrupted or modified)")
    cfg = ModelConfig.from_dict(blob["model"])
    if expect_kind is not None and cfg.kind != expect_kind:
        raise OtalignError(path, f"holds a {cfg.kind.upper()} model, but an {expect_kind.upper()} model is needed here"
                                 if expect_kind == "ottc" else
                                 f"holds an {cfg.kind.upper()} model, but a {expect_kind.upper()} model is needed here")
    model = AlignmentModel(cfg)
    try:
        model.load_state_dict(state)
    except RuntimeError as err:
        raise OtalignError(path, f"weights do not fit the model config ({str(err).splitlines()[0][:120]})") from None
    meta = {k: v for k, v in blob.items() if k != "state_dict"}
    return model.to(device).eval(), meta
