"""`otalign batch` with the frame model's Viterbi also scored by the encoder: each 10 ms frame's
scaled log-likelihood for a state of phone p gets ENC_WEIGHT x the encoder's log-posterior of p
at that time (a product of the two experts; a pause state gets the encoder's `sil`).

    ENC_WEIGHT=0.5 python mix.py batch IN OUT -f textgrid --no-ctc --jobs 1

The change is made in this process only, so the files must be aligned here: ``--jobs 1``.
"""

from __future__ import annotations

import os
import sys

import numpy as np
import torch

import otalign_cli.alignment.frames as frames
import otalign_cli.pipeline as pipeline
from otalign_cli.text.phones import SILENCE

WEIGHT = float(os.environ.get("ENC_WEIGHT", "0"))
CURRENT: dict = {}
original_scores, original_corrected = frames.frame_scores, pipeline.corrected


def corrected(model, feats, *args, **kwargs):
    CURRENT["model"] = model  # the OTTC model whose frame model is about to re-segment
    return original_corrected(model, feats, *args, **kwargs)


def mixed_scores(fm, feats: torch.Tensor) -> np.ndarray:
    score = original_scores(fm, feats)
    if WEIGHT == 0:
        return score
    model = CURRENT["model"]
    lp = pipeline.forward(model, feats, "cpu").log_probs.detach().cpu().numpy()  # (T / 2, vocab)
    at10 = np.repeat(lp, 2, axis=0)[:score.shape[0]]
    if at10.shape[0] < score.shape[0]:
        at10 = np.concatenate([at10, np.repeat(at10[-1:], score.shape[0] - at10.shape[0], 0)])
    vocab = list(model.cfg.vocab)
    cols = [vocab.index(p) for p in fm.cfg.phones for _ in range(fm.cfg.states)] + [vocab.index(SILENCE)]
    return score + WEIGHT * at10[:, cols]


if __name__ == "__main__":
    jobs = sys.argv[sys.argv.index("--jobs") + 1] if "--jobs" in sys.argv[:-1] else None
    if jobs != "1":
        sys.exit("error: --jobs 1: the change exists in this process only")
    print(f"frame Viterbi + {WEIGHT:g} x encoder log-posterior", file=sys.stderr)
    frames.frame_scores, pipeline.corrected = mixed_scores, corrected
    from otalign_cli.cli import main

    sys.argv = ["otalign", *sys.argv[1:]]
    main()
