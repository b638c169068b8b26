"""Cutting a long recording and its transcript into matching pieces, in time linear in its length.

The OT plan gives each token an equal share of the frame mass, so on a long recording a small
bias in the predicted mass (a speaker a bit slower, a long pause) adds up and the readout drifts
by seconds, even minutes. Anchoring on the transcript fixes this: a beam Viterbi over the
posteriors (``viterbi_path`` with a band that follows the best state, O(frames x band)) finds
where the transcript is along the whole file; the file is cut in the middle of pauses on that
path, about every ``target`` frames, and each piece is read out on its own, as a short recording
would be. Errors stay local: a piece's boundaries cannot drift past its anchors.
"""

from __future__ import annotations

import numpy as np

Segment = tuple[int, int, int, int]  # frame_start, frame_end, token_start, token_end


def _runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    flags = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return np.flatnonzero(flags == 1), np.flatnonzero(flags == -1)


def cut_points(tok_path: np.ndarray, word_end: np.ndarray, min_pause: int) -> tuple[np.ndarray, np.ndarray]:
    """Candidate cuts: middles of pauses of at least ``min_pause`` frames between tokens, and
    (weaker) word boundaries without a pause. Frames where a new token may start."""
    n = tok_path.size
    starts, ends = _runs(tok_path < 0)
    inner = (starts > 0) & (ends < n) & (ends - starts >= min_pause)
    pauses = (starts[inner] + ends[inner]) // 2
    prev, cur = tok_path[:-1], tok_path[1:]
    at_word = (prev >= 0) & (cur == prev + 1) & word_end[np.clip(prev, 0, None)]
    return pauses, np.flatnonzero(at_word) + 1


def plan_segments(tok_path: np.ndarray, word_end: np.ndarray, target: int, min_pause: int = 10) -> list[Segment]:
    """Pieces (f0, f1, j0, j1) tiling the frames and tokens, each about ``target`` frames.

    A cut goes at the pause nearest ``target`` frames after the previous cut (within half to
    twice that); where the speech has no such pause, at the nearest word boundary.
    """
    n = tok_path.size
    m = int(tok_path.max()) + 1
    done = np.maximum.accumulate(np.where(tok_path >= 0, tok_path + 1, 0))  # tokens begun up to frame t
    pauses, words = cut_points(tok_path, word_end, min_pause)
    segments: list[Segment] = []
    f0, j0 = 0, 0
    while n - f0 > 1.5 * target:
        lo, hi, aim = f0 + target // 2, f0 + 2 * target, f0 + target
        cut = None
        for cands in (pauses, words):
            inside = cands[(cands > lo) & (cands < hi)]
            if inside.size:
                cut = int(inside[np.argmin(np.abs(inside - aim))])
                break
        if cut is None:
            break
        j = int(done[cut - 1])
        if j <= j0 or j >= m:
            break
        segments.append((f0, cut, j0, j))
        f0, j0 = cut, j
    segments.append((f0, n, j0, m))
    return segments


def split_at_unknown(segment: Segment, tok_path: np.ndarray, unknown: np.ndarray) -> list[tuple[Segment, bool]]:
    """A piece cut around its unknown-speech tokens: (piece, is_unknown), each unknown token alone
    on the frames the path gives it, the known tokens between them in pieces of their own."""
    f0, f1, j0, j1 = segment
    out: list[tuple[Segment, bool]] = []
    cur_f, cur_j = f0, j0
    for u in np.flatnonzero(unknown[j0:j1]) + j0:
        frames = np.flatnonzero(tok_path[f0:f1] == u) + f0
        a, b = int(frames[0]), int(frames[-1]) + 1
        if u > cur_j:
            out.append(((cur_f, a, cur_j, int(u)), False))
        out.append(((a, b, int(u), int(u) + 1), True))
        cur_f, cur_j = b, int(u) + 1
    if j1 > cur_j:
        out.append(((cur_f, f1, cur_j, j1), False))
    return out
