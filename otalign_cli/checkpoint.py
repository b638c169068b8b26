"""Checkpoint files: weights plus everything needed to run them, verified on load.

One ``.pt`` file holds the model config (vocabulary, architecture, frame rate), the feature
config, a training summary, the code version and the SHA-256 of the weights. An OTTC file may
also hold the boundary model trained on its residuals (``alignment.boundaries``), with its own
config, training summary and SHA-256. A corrupt,
truncated, tampered or foreign file fails with a one-line message instead of a traceback.
"""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import torch

from otalign_cli import __version__
from otalign_cli.alignment.boundaries import BoundaryConfig, BoundaryModel
from otalign_cli.alignment.frames import FrameConfig, FrameModel
from otalign_cli.errors import OtalignError
from otalign_cli.features import FeatureConfig
from otalign_cli.formats.atomic import write_with
from otalign_cli.model import AlignmentModel, ModelConfig
from otalign_cli.text.languages import REGISTRY as LANGUAGES

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


def _state(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().cpu() for k, v in module.state_dict().items()}


def save_checkpoint(path: Path, model: AlignmentModel, name: str, training: dict,
                    features: FeatureConfig = FeatureConfig(), boundary_training: dict | None = None,
                    frame_training: dict | None = None) -> None:
    """Write ``model``; with ``boundary_training`` (its summary), also the boundary model it carries,
    and with ``frame_training`` its frame model.

    They are written only when asked for: a model trained further from this one must not inherit
    corrections fitted to the old weights.
    """
    state = _state(model)
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
    for key, module, summary in (("boundary_model", model.boundary_model, boundary_training),
                                 ("frame_model", model.frame_model, frame_training)):
        if summary is None:
            continue
        if module is None:
            raise ValueError(f"a {key.replace('_', ' ')} summary given, but the model carries none")
        mstate = _state(module)
        blob[key] = {"config": module.cfg.to_dict(), "training": summary, "weights_sha256": weights_sha256(mstate),
                     "state_dict": mstate}
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
    # the pipeline computes one kind of features (``features.log_mel``): a model that read others would misalign
    try:
        features = FeatureConfig(**blob.get("features", {}))
    except TypeError:
        raise OtalignError(path, f"unreadable feature config ({str(blob.get('features'))[:120]})") from None
    if features != FeatureConfig():
        raise OtalignError(path, f"a model of other features ({blob['features']}) than otalign computes "
                                 f"({FeatureConfig().to_dict()})")
    if cfg.language not in LANGUAGES:
        raise OtalignError(path, f"a model for language {cfg.language!r}, which this otalign does not have "
                                 f"(it has: {', '.join(sorted(LANGUAGES))})")
    model = AlignmentModel(cfg)
    try:
        model.load_state_dict(state)
    except RuntimeError as err:
        raise OtalignError(path, f"weights do not fit the model config ({str(err).splitlines()[0][:120]})") from None
    meta = {k: v for k, v in blob.items() if k != "state_dict"}
    if "boundary_model" in blob:
        bm = _load_attached(path, blob["boundary_model"], "boundary model",
                            lambda c: BoundaryModel(BoundaryConfig.from_dict(c)))
        model.set_boundary_model(bm.to(device).eval())
        meta["boundary_model"] = {k: v for k, v in blob["boundary_model"].items() if k != "state_dict"}
    if "frame_model" in blob:
        fm = _load_attached(path, blob["frame_model"], "frame model", lambda c: FrameModel(FrameConfig.from_dict(c)))
        model.set_frame_model(fm.to(device).eval())
        meta["frame_model"] = {k: v for k, v in blob["frame_model"].items() if k != "state_dict"}
    return model.to(device).eval(), meta


def _load_attached(path: Path, blob: dict, what: str, make):
    """A boundary or frame model stored beside the weights: its own SHA-256 checked, its config
    and weights fitted, else one error naming the file."""
    if weights_sha256(blob["state_dict"]) != blob.get("weights_sha256"):
        raise OtalignError(path, f"{what} weights do not match their SHA-256 (file corrupted or modified)")
    try:
        module = make(blob["config"])
        module.load_state_dict(blob["state_dict"])
    except (RuntimeError, TypeError, KeyError) as err:
        raise OtalignError(path, f"{what} does not fit its config ({str(err).splitlines()[0][:120]})") from None
    return module
