"""CTC Viterbi alignment (the baseline otalign compares against), guarded for long inputs.

``torchaudio.functional.forced_align`` is O(n * m) in memory and segfaults once
n * (2m + 1) exceeds 2**31. Long inputs are therefore cut into pieces at word boundaries of a
guide alignment (the OT one) and each piece is aligned on its own.
"""

from __future__ import annotations

import torch
import torchaudio.functional as AF

from otalign_cli.alignment.spans import Spans

MAX_CELLS = 2**28  # n * (2m + 1) per forced_align call, far below the overflow at 2**31


def _align_piece(log_probs: torch.Tensor, targets: torch.Tensor, blank: int) -> tuple[Spans, torch.Tensor]:
    labels, _ = AF.forced_align(log_probs[None].float().cpu(), targets[None].int().cpu(), blank=blank)
    labels = labels[0]
    m = targets.numel()
    onset = torch.full((m,), float("nan"), dtype=torch.float64)
    offset = torch.full((m,), float("nan"), dtype=torch.float64)
    j = -1
    prev = blank
    for t, lab in enumerate(labels.tolist()):
        if lab != blank and (lab != prev or prev == blank):
            j += 1
            onset[j] = t
        if lab != blank:
            offset[j] = t + 1
        prev = lab
    return Spans(onset, offset), labels == blank


def min_frames(targets: torch.Tensor) -> int:
    """Frames CTC needs: one per token plus a blank between each pair of equal neighbours."""
    repeats = int((targets[1:] == targets[:-1]).sum()) if targets.numel() > 1 else 0
    return int(targets.numel()) + repeats


def ctc_spans(log_probs: torch.Tensor, targets: torch.Tensor, blank: int = 0,
              cuts: list[tuple[int, int, int, int]] | None = None) -> tuple[Spans, float]:
    """Token spans (frames) of the CTC Viterbi path and the peaky % (share of frames on blank).

    ``cuts`` lists pieces (frame_start, frame_end, token_start, token_end) to align separately;
    without it the input is aligned in one call, which must then fit ``MAX_CELLS``.
    """
    n, m = log_probs.shape[0], targets.numel()
    if cuts is None:
        if n * (2 * m + 1) > MAX_CELLS:
            raise ValueError(f"{n} frames x {m} tokens is too large for one CTC Viterbi call; pass cuts")
        cuts = [(0, n, 0, m)]
    onset = torch.empty(m, dtype=torch.float64)
    offset = torch.empty(m, dtype=torch.float64)
    blanks = 0
    for f0, f1, j0, j1 in cuts:
        piece_targets = targets[j0:j1]
        if f1 - f0 < min_frames(piece_targets):
            raise ValueError(f"{f1 - f0} frames cannot hold {j1 - j0} CTC tokens")
        spans, is_blank = _align_piece(log_probs[f0:f1], piece_targets, blank)
        onset[j0:j1] = spans.onset + f0
        offset[j0:j1] = spans.offset + f0
        blanks += int(is_blank.sum())
    return Spans(onset, offset), 100.0 * blanks / n


def cuts_from_guide(word_onsets: list[float], word_offsets: list[float], word_first_token: list[int],
                    n: int, m: int, max_cells: int = MAX_CELLS) -> list[tuple[int, int, int, int]]:
    """Split at gaps between words of a guide alignment so each piece stays under ``max_cells``.

    A cut goes at the middle of the gap between two words; pieces grow word by word.
    """
    cuts: list[tuple[int, int, int, int]] = []
    f_start, j_start = 0, 0
    for w in range(1, len(word_onsets)):
        cut_frame = int(round((word_offsets[w - 1] + word_onsets[w]) / 2))
        j = word_first_token[w]
        next_end_frame = int(round(word_offsets[w])) if w + 1 < len(word_onsets) else n
        next_j = word_first_token[w + 1] if w + 1 < len(word_onsets) else m
        if (next_end_frame - f_start) * (2 * (next_j - j_start) + 1) > max_cells and cut_frame > f_start:
            cuts.append((f_start, cut_frame, j_start, j))
            f_start, j_start = cut_frame, j
    cuts.append((f_start, n, j_start, m))
    return cuts
