"""`otalign batch` with the frame model replaced by the mean, in probability, of the frame models
of the checkpoints named in FRAMES (same configuration; their log-priors averaged).

    FRAMES=models/en-ottc.pt,other.pt python frame_mean.py batch IN OUT -f textgrid --no-ctc --jobs 1

The replacement is made in this process only, so the files must be aligned here: ``--jobs 1``.
"""

from __future__ import annotations

import math
import os
import sys
from pathlib import Path

import torch

import otalign_cli.models as models
from otalign_cli.alignment.frames import FrameModel
from otalign_cli.checkpoint import load_checkpoint


class MeanFrameModel(torch.nn.Module):
    """Quacks like a ``FrameModel`` (``cfg``, ``log_prior``, log-posteriors out) for ``resegment``."""

    def __init__(self, parts: list[FrameModel]) -> None:
        super().__init__()
        self.parts = torch.nn.ModuleList(parts)
        self.cfg = parts[0].cfg
        self.register_buffer("log_prior", torch.stack([m.log_prior for m in parts]).mean(0))

    def forward(self, feats: torch.Tensor) -> torch.Tensor:
        return torch.logsumexp(torch.stack([m(feats) for m in self.parts]), 0) - math.log(len(self.parts))


def frame_models(names: str) -> list[FrameModel]:
    parts = []
    for name in names.split(","):
        fm = load_checkpoint(Path(name))[0].frame_model
        if fm is None:
            sys.exit(f"error: {name}: has no frame model")
        parts.append(fm)
    if any(m.cfg != parts[0].cfg for m in parts):
        sys.exit("error: FRAMES: the frame models differ in configuration; their posteriors cannot be averaged")
    return parts


def with_mean_frames(path, *args, **kwargs):
    model, meta = load_checkpoint(path, *args, **kwargs)
    if model.frame_model is not None:
        model.set_frame_model(MeanFrameModel(PARTS).eval())
    return model, meta


if __name__ == "__main__":
    if "FRAMES" not in os.environ:
        sys.exit("error: FRAMES: name the checkpoints whose frame models to average, comma-separated")
    jobs = sys.argv[sys.argv.index("--jobs") + 1] if "--jobs" in sys.argv[:-1] else None
    if jobs != "1":
        sys.exit("error: --jobs 1: the averaged frame model exists in this process only")
    PARTS = frame_models(os.environ["FRAMES"])
    print(f"frame model: the mean of {len(PARTS)} ({os.environ['FRAMES']})", file=sys.stderr)
    models.load_checkpoint = with_mean_frames
    from otalign_cli.cli import main

    sys.argv = ["otalign", *sys.argv[1:]]
    main()
