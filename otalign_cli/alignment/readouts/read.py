"""``ot_readout``: any registered readout over a file, whole or piece by piece between anchors."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from otalign_cli.alignment.anchors import Anchors, find_anchors, needs_anchors
from otalign_cli.alignment.readouts import Piece, get
from otalign_cli.alignment.segments import split_at_unknown
from otalign_cli.alignment.spans import Spans, spans_of_path
from otalign_cli.inference import ModelOutput


def ot_readout(out: ModelOutput, targets: torch.Tensor, word_of_phone: Sequence[int], readout: str,
               vocab: tuple[str, ...], distrust: list[tuple[int, int]] | None = None, device: str = "cpu",
               frame_shift: float = 0.02, anchors: Anchors | None = None) -> Spans:
    """Token spans in frames from the OTTC model's outputs with the chosen readout.

    Past ``LONG_SECONDS`` (frames of ``frame_shift`` s), or when the transcript marks unknown
    speech (target ids past the vocabulary, ``<unk>``), every readout runs piece by piece
    between anchors found by a beam Viterbi over the whole file (``find_anchors``; pass them in
    to reuse them), so errors cannot accumulate; an unknown stretch gets the frames the beam
    path gives its garbage state. Pieces overlapping a ``distrust`` frame range (suspect
    stretches of a first pass) keep the beam path's spans: the OT readout spreads a transcript
    error over its whole piece, the path keeps it local. A readout gets all its pieces at once
    (refine batches them on ``device``).
    """
    r = get(readout)
    reader = r.read()
    m = targets.numel()
    lp = out.log_probs
    n, v = lp.shape
    if not needs_anchors(n, targets, r.anchored_when_long, vocab, frame_shift, distrust):
        return reader(out, targets, word_of_phone, [(0, n, 0, m)], vocab, device)[0]
    if anchors is None:
        anchors = find_anchors(lp, targets, word_of_phone, vocab, frame_shift)
    unknown = (targets >= v).numpy()
    tok_path = anchors.tok_path
    onset, offset = torch.empty(m, dtype=torch.float64), torch.empty(m, dtype=torch.float64)
    to_read: list[Piece] = []
    for piece in anchors.pieces:
        for (f0, f1, j0, j1), is_unknown in split_at_unknown(piece, tok_path, unknown):
            if is_unknown:
                onset[j0], offset[j0] = float(f0), float(f1)
            elif any(a < f1 and b > f0 for a, b in distrust or []):
                sp = spans_of_path(np.where(tok_path[f0:f1] >= 0, tok_path[f0:f1] - j0, -1), j1 - j0)
                onset[j0:j1], offset[j0:j1] = sp.onset + f0, sp.offset + f0
            else:
                to_read.append((f0, f1, j0, j1))
    for (f0, _, j0, j1), sp in zip(to_read, reader(out, targets, word_of_phone, to_read, vocab, device)):
        onset[j0:j1], offset[j0:j1] = sp.onset + f0, sp.offset + f0
    return Spans(onset, offset)
