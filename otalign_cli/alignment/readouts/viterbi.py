"""Viterbi readouts over the phone posteriors: the full one (O(frames x tokens), the reference)
and the banded one that only searches states near the OT path (O(frames x band))."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from otalign_cli.alignment.anchors import word_end_mask
from otalign_cli.alignment.readouts import Piece
from otalign_cli.alignment.spans import Spans, ot_token_of_frame, viterbi_spans
from otalign_cli.inference import ModelOutput
from otalign_cli.text.phones import SILENCE

BAND = 64  # states searched around the OT path: about +-1.5 s of speech


def _read(out: ModelOutput, targets: torch.Tensor, word_of_phone: Sequence[int], pieces: list[Piece],
          vocab: tuple[str, ...], banded: bool) -> list[Spans]:
    sil = vocab.index(SILENCE) if SILENCE in vocab else None
    spans = []
    for f0, f1, j0, j1 in pieces:
        word_end = word_end_mask(list(word_of_phone[j0:j1]))
        lp = out.log_probs[f0:f1]
        if banded:
            center = ot_token_of_frame(out.alpha[f0:f1], j1 - j0)
            spans.append(viterbi_spans(lp, targets[j0:j1], word_end, sil, center=center, band=BAND))
        else:
            spans.append(viterbi_spans(lp, targets[j0:j1], word_end, sil))
    return spans


def read_banded(out: ModelOutput, targets: torch.Tensor, word_of_phone: Sequence[int], pieces: list[Piece],
                vocab: tuple[str, ...], device: str) -> list[Spans]:
    return _read(out, targets, word_of_phone, pieces, vocab, banded=True)


def read_full(out: ModelOutput, targets: torch.Tensor, word_of_phone: Sequence[int], pieces: list[Piece],
              vocab: tuple[str, ...], device: str) -> list[Spans]:
    return _read(out, targets, word_of_phone, pieces, vocab, banded=False)
