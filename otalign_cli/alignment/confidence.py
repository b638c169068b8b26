"""Confidence of an alignment: how well each token's span sounds like the token."""

from __future__ import annotations

import torch

from otalign_cli.alignment.spans import Spans


def span_confidence(log_probs: torch.Tensor, targets: torch.Tensor, spans: Spans) -> torch.Tensor:
    """Per token, its posterior averaged over its span (frames weighted by their overlap).

    Low values mark stretches where the audio does not sound like the transcript says.
    """
    probs = log_probs.exp()
    n = probs.shape[0]
    out = torch.empty(targets.numel(), dtype=torch.float64)
    for j, (a, b) in enumerate(zip(spans.onset.tolist(), spans.offset.tolist())):
        if int(targets[j]) >= probs.shape[1]:  # unknown speech has no posterior
            out[j] = float("nan")
            continue
        first, last = min(int(a), n - 1), min(max(int(a), int(-(-b // 1)) - 1), n - 1)
        k = torch.arange(first, last + 1)
        w = (torch.minimum(torch.tensor(b), k + 1.0) - torch.maximum(torch.tensor(a), k.double())).clamp(min=0)
        if float(w.sum()) <= 0:
            w = torch.ones_like(w)
        out[j] = float((probs[k, targets[j]].double() * w).sum() / w.sum())
    return out


