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

# An event ("[noise]") the anchoring path gives at most this many frames is taken to be inaudible:
# the file, or each piece between anchors, is read as if the transcript did not have it, which
# leaves the other words as they are without the marker (with the pieces cut at it, the words away
# from it moved 12 ms on average on 20 files of the TIMIT sample, 31 ms on a 31 s recording of ten
# of them), and the event is put back where its neighbours meet.
INAUDIBLE_FRAMES = 2


def ot_readout(out: ModelOutput, targets: torch.Tensor, word_of_phone: Sequence[int], readout: str,
               vocab: tuple[str, ...], distrust: list[tuple[int, int]] | None = None, device: str = "cpu",
               frame_shift: float = 0.02, anchors: Anchors | None = None) -> Spans:
    """Token spans in frames from the OTTC model's outputs with the chosen readout.

    Past ``LONG_SECONDS`` (frames of ``frame_shift`` s), or when the transcript marks unknown
    speech or events (target ids past the vocabulary, ``<unk>``, "[noise]"), every readout runs
    piece by piece between anchors found by a beam Viterbi over the whole file (``find_anchors``;
    pass them in to reuse them), so errors cannot accumulate; an unknown stretch or event gets the
    frames the beam path gives it. Events too short to be heard (``INAUDIBLE_FRAMES``) are left
    out of the reading (whole, if nothing else asks for pieces) and put back after. Pieces
    overlapping a ``distrust`` frame range (suspect stretches of a first pass) keep the beam
    path's spans: the OT readout spreads a transcript error over its whole piece, the path keeps
    it local. A readout gets all its pieces at once (refine batches them on ``device``).
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
    inaudible = _inaudible_events(targets, anchors.tok_path, v)
    if not inaudible.any():
        return _read_pieces(reader, out, targets, word_of_phone, anchors.tok_path, anchors.pieces, distrust, vocab,
                            device)
    keep = ~inaudible
    kept_targets = targets[torch.from_numpy(keep)]
    kept_words = [w for w, k in zip(word_of_phone, keep.tolist()) if k]
    if not needs_anchors(n, kept_targets, r.anchored_when_long, vocab, frame_shift, distrust):
        sp = reader(out, kept_targets, kept_words, [(0, n, 0, int(keep.sum()))], vocab, device)[0]
    else:  # the path and pieces renumbered without the events, whose frames become pauses
        tok = anchors.tok_path
        on_kept = (tok >= 0) & keep[np.maximum(tok, 0)]
        path = np.where(on_kept, (np.cumsum(keep) - 1)[np.maximum(tok, 0)], -1)
        before = np.concatenate([[0], np.cumsum(keep)])
        pieces = [(f0, f1, int(before[j0]), int(before[j1])) for f0, f1, j0, j1 in anchors.pieces]
        sp = _read_pieces(reader, out, kept_targets, kept_words, path, [q for q in pieces if q[3] > q[2]],
                          distrust, vocab, device)
    return _with_events(sp, inaudible, anchors.tok_path)


def _read_pieces(reader, out: ModelOutput, targets: torch.Tensor, word_of_phone: Sequence[int],
                 tok_path: np.ndarray, pieces: list[Piece], distrust: list[tuple[int, int]] | None,
                 vocab: tuple[str, ...], device: str) -> Spans:
    """The spans read piece by piece: unknown tokens on the path's frames, distrusted pieces as
    the path has them, the rest by the readout."""
    m, v = targets.numel(), out.log_probs.shape[1]
    unknown = (targets >= v).numpy()
    onset, offset = torch.empty(m, dtype=torch.float64), torch.empty(m, dtype=torch.float64)
    to_read: list[Piece] = []
    for piece in pieces:
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


def _inaudible_events(targets: torch.Tensor, tok_path: np.ndarray, v: int) -> np.ndarray:
    """Which tokens are events (id ``v + 1``) that the path gives at most ``INAUDIBLE_FRAMES``."""
    ev = (targets == v + 1).numpy()
    for j in np.flatnonzero(ev):
        ev[j] = np.count_nonzero(tok_path == j) <= INAUDIBLE_FRAMES
    return ev


def _with_events(sp: Spans, inaudible: np.ndarray, tok_path: np.ndarray) -> Spans:
    """The spans of a reading without the ``inaudible`` events, with the events put back: each
    run of them as long as the path gives them (a frame at least), in the middle of the reading's
    pause between their neighbours, or across the neighbours' shared edge, each neighbour giving
    half, where the pause is too short (a neighbour keeps half a frame)."""
    m = inaudible.size
    onset, offset = torch.empty(m, dtype=torch.float64), torch.empty(m, dtype=torch.float64)
    known = torch.from_numpy(~inaudible)
    onset[known], offset[known] = sp.onset, sp.offset
    j = 0
    while j < m:
        if not inaudible[j]:
            j += 1
            continue
        j1 = j
        while j1 < m and inaudible[j1]:
            j1 += 1
        lengths = np.array([max(1, np.count_nonzero(tok_path == e)) for e in range(j, j1)], dtype=float)
        total = float(lengths.sum())
        left = float(offset[j - 1]) if j > 0 else None
        right = float(onset[j1]) if j1 < m else None
        if left is None:
            left = max(0.0, (right if right is not None else 0.0) - total)
        if right is None:
            right = left + total
        a = left + (right - left - total) / 2  # centred in the pause, or across the shared edge
        lo = float(onset[j - 1]) + 0.5 if j > 0 else 0.0
        hi = float(offset[j1]) - 0.5 if j1 < m else float("inf")
        a = max(a, lo)
        b = max(min(a + total, hi), a + 0.5)
        t = a
        for e, length in zip(range(j, j1), lengths * (b - a) / total):
            onset[e], offset[e] = t, t + length
            t += length
        if j > 0:
            offset[j - 1] = min(float(offset[j - 1]), a)
        if j1 < m:
            onset[j1] = max(float(onset[j1]), t)
        j = j1
    return Spans(onset, offset)
