"""Anchors: a beam Viterbi path over the whole file, cut at its pauses into pieces that the
readouts read one by one, so errors cannot accumulate over long recordings; the same path
finds untranscribed speech and chooses pronunciations."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from otalign_cli.alignment.spans import viterbi_path
from otalign_cli.alignment.segments import plan_segments
from otalign_cli.alignment.suspect import unexplained_speech
from otalign_cli.text.phones import PSEUDO_PHONES, SILENCE

LONG_SECONDS = 10.0  # past this, readouts run piece by piece between anchors
PIECE_SECONDS = 5.0  # about this long per piece: the refine readout drifts over longer stretches with pauses
GARBAGE_LOGP = math.log(0.2)  # per-frame score of unknown speech: below a matching phone, above a wrong one
# Per-frame score of untranscribed speech between two words (anchoring path). Higher finds more
# missing words and raises more false suspects: with the stage-5 models, 0.05 let 2 of 3 deleted
# word pairs be absorbed (bench/imperfect_transcripts.py), 0.1 flagged 4 of 60 correctly read
# real files and cost 1.5 ms of phone error there (bench/human_labelled.py); 0.07 neither.
FILLER_LOGP = math.log(0.07)
# A bracketed event ("[noise]") may be inaudible, so it scores a frame as silence, as this share
# of the frame's best phone, or just above untranscribed speech (so that a noise goes to the event
# written there, not to a missing word): it takes what the transcript's phones do not explain and
# leaves them what they do. On the TIMIT sample (bench/markers.py, 58 files), with this score,
# readouts.read.INAUDIBLE_FRAMES and the frame model run around events: a marker over nothing
# moved the other words 2 ms (15 ms with a share of 0.3, no floor, neither of the other two), and
# one over 0.4 s of noise had its edges 108 ms off (103).
EVENT_SHARE = math.log(0.1)
EVENT_FLOOR = FILLER_LOGP + math.log(1.2)
BEAM, MAX_BEAM = 128, 1024  # states in the anchoring beam Viterbi (about 7 s of speech)


@dataclass
class Anchors:
    """The beam Viterbi path over the whole file (token per frame, -1 in pauses) and the pieces
    (f0, f1, j0, j1) cut at its pauses: computed once per file, shared by the first readout and
    the re-read that distrusts the suspect stretches."""

    tok_path: np.ndarray
    pieces: list[tuple[int, int, int, int]]
    unexplained: list[tuple[int, int]]  # speech the path holds between words: missing from the transcript


def needs_anchors(n: int, targets: torch.Tensor, anchored_when_long: bool, vocab: tuple[str, ...],
                  frame_shift: float, distrust: list[tuple[int, int]] | None = None) -> bool:
    """Whether ``readouts.ot_readout`` reads piece by piece between anchors (see there): for
    unknown stretches, distrusted stretches, and past ``LONG_SECONDS`` for a readout that asks."""
    unknown = bool((targets >= len(vocab)).any())
    return unknown or bool(distrust) or (anchored_when_long and n * frame_shift > LONG_SECONDS
                                         and SILENCE in vocab)


def find_anchors(log_probs: torch.Tensor, targets: torch.Tensor, word_of_phone: Sequence[int],
                 vocab: tuple[str, ...], frame_shift: float) -> Anchors:
    """Anchors of one file from its phone log-posteriors (N, V); ``<unk>`` targets (id V) match
    a garbage column that every frame scores at ``GARBAGE_LOGP``, bracketed events (id V + 1) one
    that scores a frame as silence, ``EVENT_SHARE`` of its best phone or ``EVENT_FLOOR``,
    whichever is highest. The optional state between
    words scores a frame as silence or, at ``FILLER_LOGP``, as speech the transcript lacks, so
    a missing word is parked there instead of being forced onto its neighbours."""
    if SILENCE not in vocab:
        raise ValueError("unknown stretches (<unk>) need a model with a silence token")
    n, v = log_probs.shape
    sil = vocab.index(SILENCE)
    lp = log_probs.clone()
    lp[:, sil] = lp[:, sil].clamp(min=FILLER_LOGP)
    if bool((targets >= v).any()):
        event = torch.maximum(lp[:, sil], log_probs.max(1).values + EVENT_SHARE).clamp(min=EVENT_FLOOR)
        lp = torch.cat([lp, torch.full((n, 1), GARBAGE_LOGP, dtype=lp.dtype), event[:, None]], 1)
    tok_path, pieces = anchor_segments(lp, targets.clamp(max=v + 1), word_end_mask(list(word_of_phone)), sil,
                                       round(PIECE_SECONDS / frame_shift))
    return Anchors(tok_path, pieces, unexplained_speech(tok_path, log_probs[:, sil], FILLER_LOGP))


def word_end_mask(word_of_phone: list[int]) -> torch.Tensor:
    m = len(word_of_phone)
    return torch.tensor([k + 1 == m or word_of_phone[k + 1] != word_of_phone[k] for k in range(m)])


def anchor_segments(log_probs: torch.Tensor, targets: torch.Tensor, word_end: torch.Tensor,
                    sil: int, piece_frames: int) -> tuple[np.ndarray, list[tuple[int, int, int, int]]]:
    """The beam Viterbi path (token per frame) and the pieces (f0, f1, j0, j1) cut at its pauses.

    The beam widens (up to ``MAX_BEAM`` states) if the path loses the transcript.
    """
    beam = BEAM
    while True:
        try:
            tok_path, _ = viterbi_path(log_probs, targets, word_end, sil, band=beam)
            break
        except ValueError:
            if beam >= MAX_BEAM:
                raise
            beam *= 2
    return tok_path, plan_segments(tok_path, word_end.numpy(), piece_frames)


def target_ids(phones: tuple[str, ...], vocab: dict[str, int]) -> torch.Tensor:
    """Token ids of a phone sequence; the pseudo-phones of ``<unk>`` and of bracketed events get the
    ids past the vocabulary (V and V + 1), which the anchoring path scores (``find_anchors``)."""
    return torch.tensor([vocab.get(p, len(vocab) + PSEUDO_PHONES.index(p)) if p in PSEUDO_PHONES else vocab[p]
                         for p in phones])
