"""Corrections after the refine readout, as ``otalign align`` writes it: the boundary model
(``alignment.boundaries``), the edges at pauses (``alignment.endpoints``), the frame model's
re-segmentation (``alignment.frames``) and the spectral landmarks (``alignment.landmarks``)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from otalign_cli.alignment.anchors import word_end_mask
from otalign_cli.alignment.boundaries import correct_boundaries
from otalign_cli.alignment.endpoints import snap_pause_edges
from otalign_cli.alignment.frames import resegment
from otalign_cli.alignment.landmarks import snap_to_landmarks
from otalign_cli.alignment.spans import Spans
from otalign_cli.model import AlignmentModel

SNAP_PAUSE_EDGES = True  # edges at pauses go onto the energy onset/offset


def boundary_corrected(model: AlignmentModel, feats: torch.Tensor, spans: Spans, targets: torch.Tensor,
                       duration: float) -> Spans:
    """Spans (frames) with each boundary moved by the model's boundary model (``alignment.boundaries``).

    It was trained on the residuals of the refine readout, so it follows that readout only. On the
    dev set (bundled model, 2 passes) it brought phone boundaries within 20 ms from 86.9 to
    98.0 % and word boundaries from 85.3 to 96.9 % (models/MODEL_CARD.md).
    """
    fs = model.frame_shift
    on, off = correct_boundaries(model.boundary_model, feats, spans.onset * fs, spans.offset * fs, targets, duration)
    return Spans(on / fs, off / fs)


def corrected(model: AlignmentModel, feats: torch.Tensor, energy: np.ndarray | None, spans: Spans,
              targets: torch.Tensor, duration: float, word_of_phone: Sequence[int] = (),
              change: np.ndarray | None = None) -> Spans:
    """The refine readout's spans as they are written out: each boundary moved by the model's
    boundary model (if it has one); the edges at pauses put on the energy onsets and offsets
    (``alignment.endpoints``, given ``energy``; on the TIMIT sample this took the first phone's
    onset error from 27.5 to 12.7 ms); the whole alignment re-segmented by the model's frame
    model (``alignment.frames``, if it has one); boundaries between phones pulled to spectral
    landmarks (``alignment.landmarks``, given ``change``). Figures: docs/results.md."""
    fs = model.frame_shift
    if model.boundary_model is not None:
        spans = boundary_corrected(model, feats, spans, targets, duration)
    on, off = spans.onset * fs, spans.offset * fs
    if energy is not None and SNAP_PAUSE_EDGES:
        on, off = snap_pause_edges(on, off, energy, duration)
    if model.frame_model is not None and len(word_of_phone) == targets.numel():
        vocab = model.cfg.vocab
        phones = [vocab[i] if i < len(vocab) else "<unk>" for i in targets.tolist()]
        word_end = word_end_mask(list(word_of_phone)).tolist()
        on, off = resegment(model.frame_model, feats, on, off, phones, word_end, duration)
    if change is not None:
        on, off = snap_to_landmarks(on, off, change, duration)
    return Spans(on / fs, off / fs)
