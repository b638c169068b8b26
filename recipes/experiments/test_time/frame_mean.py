"""`otalign batch` with the frame model replaced by the mean (in probability; priors averaged) of
the frame models of the checkpoints named in FRAMES (same configuration).

    FRAMES=models/en-ottc.pt,other.pt python frame_mean.py batch IN OUT -f textgrid --no-ctc --jobs 1
"""
import math
import os
import sys
from pathlib import Path

import torch

import otalign_cli.models as models
from otalign_cli.checkpoint import load_checkpoint as orig


class MeanFrameModel(torch.nn.Module):
    def __init__(self, ms):
        super().__init__()
        self.ms = torch.nn.ModuleList(ms)
        self.cfg = ms[0].cfg
        if any(m.cfg != self.cfg for m in ms):
            sys.exit("error: FRAMES: the frame models differ in configuration; their posteriors cannot be averaged")
        self.register_buffer("log_prior", torch.stack([m.log_prior for m in ms]).mean(0))

    def forward(self, x):
        return torch.logsumexp(torch.stack([m(x) for m in self.ms]), 0) - math.log(len(self.ms))


def patched(path, *a, **k):
    model, meta = orig(path, *a, **k)
    if model.frame_model is not None:
        fms = [orig(Path(p))[0].frame_model for p in os.environ["FRAMES"].split(",")]
        model.set_frame_model(MeanFrameModel(fms).eval())
    return model, meta


models.load_checkpoint = patched
from otalign_cli.cli import main  # noqa: E402

sys.argv = ["otalign", *sys.argv[1:]]
main()
