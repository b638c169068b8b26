"""Stretches where the audio does not sound like the transcript: words missing, extra or wrong.

Per frame, the phone the alignment assigns is compared with the phone the model finds most
likely (a goodness-of-pronunciation score, log P(assigned) - max log P). Where a transcript is
wrong, a run of frames is assigned phones the audio does not support: extra words squeezed in,
or the audio of a missing word absorbed by its neighbours. A stretch is reported where most of
``window`` consecutive frames score below ``threshold`` for at least ``min_frames`` frames.
Measured on a 5-minute recording (bench/imperfect_transcripts.py), correct transcripts raise
few such stretches and a few inserted or deleted words raise one each.

Words said but missing from the transcript are found more precisely on the anchoring path
(``unexplained_speech``): the state between two words, normally a pause, may also hold speech at
a low fixed score, and where the path parks there on frames the model calls speech, the
transcript lacks something.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from otalign_cli.alignment.spans import Spans
from otalign_cli.results import Alignment, Stretch, Suspect


def assigned_tokens(spans: Spans, targets: torch.Tensor, n: int, vocab_size: int) -> torch.Tensor:
    """Vocabulary id each frame is assigned to (-1 in pauses and unknown speech), from fractional spans."""
    out = torch.full((n,), -1, dtype=torch.long)
    for j, (a, b) in enumerate(zip(spans.onset.tolist(), spans.offset.tolist())):
        if int(targets[j]) >= vocab_size:  # unknown speech: nothing to compare with
            continue
        out[max(0, round(a)):min(n, round(b))] = int(targets[j])
    return out


# The detector's operating point: looser settings find more wrong transcripts on real speech and
# raise more false alarms (docs/results.md, "Imperfect transcripts", bench/transcript_errors.py).
THRESHOLD = -3.0  # log P(assigned) - max log P below which a frame does not support its phone
MIN_FRAMES = 30  # shortest stretch reported (0.6 s at the bundled models' 20 ms frames)


@dataclass(frozen=True)
class SuspectSettings:
    """The detector's operating point as a user sets it (``--suspect-threshold``,
    ``--suspect-min-seconds``); None keeps the shipped ``THRESHOLD`` / ``MIN_FRAMES``. Stretches
    shorter than the detector's window (15 frames, 0.3 s) are never found, whatever the minimum.
    Untranscribed speech on the anchoring path (``unexplained_speech``) is reported on its own terms."""

    threshold: float | None = None
    min_seconds: float | None = None

    def __post_init__(self) -> None:
        if self.threshold is not None and not (math.isfinite(self.threshold) and self.threshold < 0):
            raise ValueError(f"suspect threshold must be a negative number, not {self.threshold}")
        if self.min_seconds is not None and not (math.isfinite(self.min_seconds) and self.min_seconds > 0):
            raise ValueError(f"suspect minimum must be a positive number of seconds, not {self.min_seconds}")

    def frame_threshold(self) -> float:
        return THRESHOLD if self.threshold is None else self.threshold

    def min_frames(self, frame_shift: float) -> int:
        return MIN_FRAMES if self.min_seconds is None else max(1, round(self.min_seconds / frame_shift))


def suspect_stretches(log_probs: torch.Tensor, targets: torch.Tensor, spans: Spans, threshold: float | None = None,
                      window: int = 15, min_frac: float = 0.6, min_frames: int | None = None) -> list[tuple[int, int]]:
    """Frame ranges [start, end) whose assigned phones the audio does not support (``threshold``
    and ``min_frames``: ``THRESHOLD`` and ``MIN_FRAMES`` unless given)."""
    threshold = THRESHOLD if threshold is None else threshold
    min_frames = MIN_FRAMES if min_frames is None else min_frames
    n = log_probs.shape[0]
    if n < window:
        return []
    assigned = assigned_tokens(spans, targets, n, log_probs.shape[1])
    has = assigned >= 0
    gop = torch.zeros(n)
    frames = has.nonzero().flatten()
    gop[frames] = log_probs[frames, assigned[frames]] - log_probs[frames].max(1).values
    bad = (gop < threshold).float()
    c = torch.cat([torch.zeros(1), bad.cumsum(0)])
    dense = ((c[window:] - c[:-window]) / window >= min_frac).to(torch.int8)  # window starting at frame i
    edges = torch.diff(torch.cat([torch.zeros(1, dtype=torch.int8), dense, torch.zeros(1, dtype=torch.int8)]))
    starts = (edges == 1).nonzero().flatten().tolist()
    ends = [e + window - 1 for e in (edges == -1).nonzero().flatten().tolist()]
    merged: list[list[int]] = []
    for s, e in zip(starts, ends):
        if merged and s <= merged[-1][1] + window:
            merged[-1][1] = e
        else:
            merged.append([s, e])
    return [(s, min(e, n)) for s, e in merged if e - s >= min_frames]


def unexplained_speech(tok_path: np.ndarray, sil_log_probs: torch.Tensor, filler_logp: float,
                       min_frames: int = 12) -> list[tuple[int, int]]:
    """Frame ranges [start, end) of at least ``min_frames`` between two words where the path holds
    no token (-1) and silence is less likely than the filler score: speech the transcript does not
    have. Before the first word and after the last, such sounds are breaths, clicks or the edges
    of neighbouring sentences in real recordings, and they derail nothing: they are left out."""
    speech = (tok_path < 0) & (sil_log_probs.detach().cpu().numpy() < filler_logp)
    on_token = np.flatnonzero(tok_path >= 0)
    if on_token.size == 0:
        return []
    speech[:on_token[0]] = False
    speech[on_token[-1] + 1:] = False
    flags = np.diff(np.concatenate([[0], speech.astype(np.int8), [0]]))
    starts, ends = np.flatnonzero(flags == 1), np.flatnonzero(flags == -1)
    return [(int(a), int(b)) for a, b in zip(starts, ends) if b - a >= min_frames]


def merge_stretches(*groups: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sorted union of frame ranges, overlapping or touching ones joined."""
    merged: list[list[int]] = []
    for a, b in sorted(r for g in groups for r in g):
        if merged and a <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    return [(a, b) for a, b in merged]


def suspect_report(stretches: list[tuple[int, int]], ot: Alignment, frame_shift: float) -> list[Suspect]:
    """Stretches where the audio does not sound like the transcript, with the words they touch."""
    out = []
    for a, b in stretches:
        start, end = a * frame_shift, b * frame_shift
        # a stretch of untranscribed speech sits between two words: name both
        words = [w.label for w in ot.words if w.end >= start - frame_shift and w.start <= end + frame_shift]
        out.append(Suspect(round(start, 3), round(end, 3), " ".join(words)))
    return out


UNTRANSCRIBED_SECONDS = 10.0  # a stretch this long before the first or after the last word is reported


def untranscribed_edges(ot: Alignment, duration: float) -> list[Stretch]:
    """Long stretches before the first word and after the last: a transcript that covers only
    part of a recording is aligned to that part, and the report says what it left out."""
    if not ot.words:
        return []
    spans = [(0.0, ot.words[0].start), (ot.words[-1].end, duration)]
    return [Stretch(round(a, 3), round(b, 3)) for a, b in spans if b - a >= UNTRANSCRIBED_SECONDS]
