"""The plain OTTC readout: token j spans where alpha's cumulative mass crosses j/m and (j+1)/m.
It ignores the posteriors, so its error grows along a piece; it is global and linear, so long
files need no anchors."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from otalign_cli.alignment.readouts import Piece
from otalign_cli.alignment.spans import Spans, ot_spans
from otalign_cli.inference import ModelOutput


def read(out: ModelOutput, targets: torch.Tensor, word_of_phone: Sequence[int], pieces: list[Piece],
         vocab: tuple[str, ...], device: str) -> list[Spans]:
    return [ot_spans(out.alpha[f0:f1], j1 - j0) for f0, f1, j0, j1 in pieces]
