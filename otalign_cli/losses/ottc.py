"""The OTTC loss, and the supervised term on items with gold phone times."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from otalign_cli.alignment.ot import ottc_loss
from otalign_cli.losses import LossBatch
from otalign_cli.text.phones import SILENCE


def ottc(out: dict, batch: LossBatch, model, cfg, step: int) -> tuple[torch.Tensor, dict[str, float]]:
    loss = ottc_loss(out["log_probs"], out["alpha"], batch.targets, out["lengths"], batch.target_lengths).float()
    return loss, {"ottc": float(loss.detach())}


def supervised_weight(step: int, cfg) -> float:
    """1 for ``supervised_steps`` steps, then down linearly to the floor over as many steps."""
    if cfg.supervised_steps <= 0:
        return cfg.supervised_floor
    decay = max(0.0, 1 - max(0, step - cfg.supervised_steps) / cfg.supervised_steps)
    return cfg.supervised_floor + (1 - cfg.supervised_floor) * decay


def oracle_targets(intervals: list[tuple[float, float]], n: int, frame_shift: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Frame labels (token index, or -1 for silence) and the oracle alpha of gold phone times.

    Oracle alpha gives frame i the share of each token's time it overlaps, divided by that token's
    duration and by m, so every token gets exactly 1/m and silence gets nothing.
    """
    m = len(intervals)
    starts = torch.tensor([s for s, _ in intervals], dtype=torch.float64)
    ends = torch.tensor([e for _, e in intervals], dtype=torch.float64)
    f0 = torch.arange(n, dtype=torch.float64)[:, None] * frame_shift
    overlap = (torch.minimum(f0 + frame_shift, ends[None]) - torch.maximum(f0, starts[None])).clamp(min=0)
    alpha = (overlap / (ends - starts).clamp(min=1e-6)[None]).sum(1) / m
    centre = f0[:, 0] + frame_shift / 2
    inside = (centre[:, None] >= starts[None]) & (centre[:, None] < ends[None])
    label = torch.where(inside.any(1), inside.float().argmax(1), torch.full((n,), -1))
    return label, alpha


def supervised(out: dict, batch: LossBatch, model, cfg, step: int) -> tuple[torch.Tensor | None, dict[str, float]]:
    """On the items with gold times (a batch may mix real speech, transcripts only, with synthetic
    speech), over their own frames: frame cross-entropy on the token head (silence included) and
    alpha regressed to the oracle alpha, weighted by ``supervised_weight``.

    Items whose times are an aligner's output (``LossBatch.aligned``: pseudo-labels of real
    speech) teach the alpha target only: their frame cross-entropy flattened the phone head's
    posteriors on speech it had not heard (the posterior of the right phone fell from 0.58 to
    0.25 on the shipped example), which the anchoring path, the suspect detector and ``<unk>``
    rely on (models/MODEL_CARD.md). The cross-entropy is then averaged over the gold items'
    frames alone."""
    w = supervised_weight(step, cfg)
    gold = [b for b, iv in enumerate(batch.intervals) if iv is not None]
    if not gold or w <= 0:
        return None, {}
    lp, n_len, y = out["log_probs"], out["lengths"], batch.targets
    sil = model.cfg.vocab.index(SILENCE)
    aligned = batch.aligned or [False] * len(batch.intervals)
    ce_terms, a_terms, ce_frames = [], [], 0
    for b in gold:
        n = int(n_len[b])
        label, oracle = (t.to(lp.device) for t in oracle_targets(batch.intervals[b], n, model.frame_shift))
        tok = torch.where(label >= 0, y[b, label.clamp(min=0)], torch.full_like(label, sil))
        if not aligned[b]:
            ce_terms.append(F.nll_loss(lp[b, :n], tok, reduction="sum"))
            ce_frames += n
        alpha = out["alpha"][b, :n]
        a_terms.append(((alpha / alpha.sum() - oracle.float()) * n).pow(2).sum())
    frames = n_len[gold].sum()
    amse = torch.stack(a_terms).sum() / frames
    if not ce_terms:  # every item's times came from an aligner
        return w * amse, {"alpha_mse": float(amse.detach())}
    ce = torch.stack(ce_terms).sum() / ce_frames
    return w * (ce + amse), {"ce": float(ce.detach()), "alpha_mse": float(amse.detach())}
