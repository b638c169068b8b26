"""Choosing among a word's pronunciations by the audio.

A dictionary lists several pronunciations for many words ("the": DH AH / DH IY; "and": AH N D /
AE N D), and speakers reduce function words further. Each candidate is scored on the frames the
first alignment gave the word: the best segmentation of those frames into the candidate's phones
(every phone at least one frame, in order) under the model's log-posteriors. All candidates of a
word are scored on the same frames, so their totals compare directly; a candidate replaces the
dictionary's first one only when it explains the frames better by ``margin`` nats, a prior that
keeps the first (most common) pronunciation when the audio does not clearly say otherwise.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import torch

from otalign_cli.alignment.anchors import target_ids

if TYPE_CHECKING:
    from otalign_cli.text.pronounce import Pronunciation

MARGIN = 1.0  # nats a non-first pronunciation must gain over the first to be chosen


def segment_score(log_probs: torch.Tensor, targets: torch.Tensor) -> float:
    """Best total log-posterior of frames (F, V) read as ``targets`` (k,) in order, each at least
    one frame; ``-inf`` when there are fewer frames than targets. O(F k)."""
    lp = log_probs.detach().to(torch.float64).cpu().numpy()
    f, k = lp.shape[0], int(targets.numel())
    if k == 0 or f < k:
        return float("-inf")
    emit = lp[:, targets.cpu().numpy()]  # (F, k)
    score = np.full(k, -np.inf)
    score[0] = emit[0, 0]
    for t in range(1, f):
        advance = np.concatenate([[-np.inf], score[:-1]])
        score = np.maximum(score, advance) + emit[t]
    return float(score[-1])


def choose(log_probs: torch.Tensor, span: tuple[int, int], candidates: list[torch.Tensor],
           margin: float = MARGIN) -> int:
    """Index of the candidate (token id tensors, first = the default) the frames ``span`` = [f0, f1)
    of ``log_probs`` (N, V) support best; 0 unless another wins by more than ``margin`` nats."""
    f0, f1 = span
    frames = log_probs[max(f0, 0):min(f1, log_probs.shape[0])]
    scores = [segment_score(frames, c) for c in candidates]
    best = int(np.argmax(scores))
    if best != 0 and np.isfinite(scores[best]) and scores[best] > scores[0] + margin:
        return best
    return 0


def choose_pronunciations(log_probs: torch.Tensor, tok_path: np.ndarray, pron: Pronunciation,
                          vocab: dict[str, int]) -> list[int]:
    """Per written word, the index of the pronunciation its frames on the anchoring path support
    (``alignment.variants``; 0, the dictionary's first, where nothing else is clearly better)."""
    n_words = len(pron.words)
    choice = [0] * n_words
    owner = np.asarray(pron.word_of_phone)
    frames = np.flatnonzero(tok_path >= 0)
    words = owner[tok_path[frames]]
    first, last = np.full(n_words, len(tok_path)), np.full(n_words, -1)
    np.minimum.at(first, words, frames)  # each word's first and last frame on the path, in one pass
    np.maximum.at(last, words, frames)
    for i, alts in enumerate(pron.alternatives):
        if alts and last[i] >= 0:
            candidates = [target_ids(a, vocab) for a in alts]
            choice[i] = choose(log_probs, (int(first[i]), int(last[i]) + 1), candidates)
    return choice
