"""Training the boundary model (``alignment.boundaries``) of an OTTC model on a corpus with gold times.

The OTTC model aligns each utterance with the readout it will correct (refine, with the default
passes); every boundary then gives one example: the 10 ms features around where the aligner put
it, the phones on each side, and how far the gold boundary lies from it. The boundary model
learns that residual. The result is the OTTC checkpoint again, with the boundary model inside.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from otalign_cli.alignment.boundaries import (
    BoundaryConfig,
    BoundaryModel,
    boundary_points,
    feature_windows,
)
from otalign_cli.alignment.readouts import DEFAULT_READOUT
from otalign_cli.audio import SAMPLE_RATE
from otalign_cli.augment import augment
from otalign_cli.devset import word_owner
from otalign_cli.features import log_mel
from otalign_cli.model import AlignmentModel
from otalign_cli.pipeline import DEFAULT_PASSES, forward, read_spans
from otalign_cli.train import Example

HUBER_MS = 5.0  # the loss is quadratic within this many ms of the gold, linear beyond


@dataclass
class Residuals:
    """One utterance as the aligner read it: features, tokens, aligned and gold phone times (s)."""

    feats: torch.Tensor  # (K, n_mels) float16: an hour of training audio stays under 100 MB
    targets: torch.Tensor
    onset: torch.Tensor
    offset: torch.Tensor
    gold: torch.Tensor  # (m, 2)


def collect(model: AlignmentModel, examples: list[Example], passes: int = DEFAULT_PASSES,
            on_item: Callable[[], None] | None = None, augmentation: str | None = None,
            seed: int = 0) -> list[Residuals]:
    """The refine readout of every example that has gold phone and word times.

    With ``augmentation`` ("noise" or "full", as ``otalign train --augment``), each utterance is
    first degraded at random (times stay exact), so the boundary model also learns the residuals
    the aligner makes on noisy, reverberant or band-limited audio.
    """
    rng = random.Random(seed)
    vocab = {t: i for i, t in enumerate(model.cfg.vocab)}
    device = str(next(model.parameters()).device)
    items = []
    for ex in examples:
        if on_item:
            on_item()
        if not ex.intervals or not ex.words or any(p not in vocab for p in ex.phones):
            continue
        owner = word_owner(ex.words, ex.intervals)
        audio = augment(ex.audio, rng, augmentation) if augmentation else torch.from_numpy(ex.audio)
        feats = log_mel(audio)
        out = forward(model, feats, device, passes)
        targets = torch.tensor([vocab[p] for p in ex.phones])
        if -1 in owner or out.frames < len(targets):
            continue
        # the readout as align runs it, before the corrections this model learns to make
        sp = read_spans(model, out, targets, owner, DEFAULT_READOUT, feats, None, len(audio) / SAMPLE_RATE, device,
                        correct=False).spans
        items.append(Residuals(feats.half(), targets, sp.onset * model.frame_shift, sp.offset * model.frame_shift,
                               torch.tensor(ex.intervals, dtype=torch.float64)))
    return items


@dataclass
class PointSet:
    """Every boundary of a set of utterances, ready for the boundary model."""

    windows: torch.Tensor  # (B, 2 window + 1, n_mels) float16
    frac: torch.Tensor
    left: torch.Tensor
    right: torch.Tensor
    residual: torch.Tensor  # (B,) gold minus aligned, s

    def __len__(self) -> int:
        return self.residual.numel()


def point_set(items: list[Residuals], cfg: BoundaryConfig) -> PointSet:
    parts = []
    for it in items:
        p = boundary_points(it.onset, it.offset, it.targets, cfg.edge_id)
        gold = torch.where(p.is_onset, it.gold[p.phone, 0], it.gold[p.phone, 1])
        w, f = feature_windows(it.feats, p.time, cfg.window)
        parts.append((w.half(), f, p.left, p.right, (gold - p.time).float()))
    return PointSet(*(torch.cat(c) for c in zip(*parts)))


@torch.no_grad()
def predict(bm: BoundaryModel, pts: PointSet, chunk: int = 4096) -> torch.Tensor:
    bm.eval()
    return torch.cat([bm(pts.windows[i:i + chunk].float(), pts.frac[i:i + chunk], pts.left[i:i + chunk],
                         pts.right[i:i + chunk]) for i in range(0, len(pts), chunk)])


def point_accuracy(residual: torch.Tensor) -> dict[str, float]:
    """Mean error (ms) and % of boundaries within 10/20/50 ms, from residuals in seconds."""
    e = residual.abs() * 1000
    return {"mean_ms": float(e.mean()), "within_10ms": float((e <= 10).float().mean() * 100),
            "within_20ms": float((e <= 20).float().mean() * 100), "within_50ms": float((e <= 50).float().mean() * 100),
            "count": int(e.numel())}


def fit(cfg: BoundaryConfig, train: PointSet, steps: int = 4000, lr: float = 2e-3, batch: int = 256,
        seed: int = 0, on_step: Callable[[int, float], None] | None = None) -> BoundaryModel:
    """AdamW with one-cycle learning rate on a Huber loss of the residual (clipped to the model's reach)."""
    torch.manual_seed(seed)
    rng = torch.Generator().manual_seed(seed)
    bm = BoundaryModel(cfg)
    opt = torch.optim.AdamW(bm.parameters(), lr, weight_decay=0.01)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, lr, total_steps=steps, pct_start=0.05)
    target = train.residual.clamp(-cfg.max_shift, cfg.max_shift) * 1000
    bm.train()
    for step in range(1, steps + 1):
        idx = torch.randint(0, len(train), (batch,), generator=rng)
        pred = bm(train.windows[idx].float(), train.frac[idx], train.left[idx], train.right[idx]) * 1000
        loss = F.huber_loss(pred, target[idx], delta=HUBER_MS)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        if on_step:
            on_step(step, loss.item())
    return bm.eval()


def train_boundary_model(model: AlignmentModel, train_examples: list[Example], dev_examples: list[Example],
                         steps: int = 4000, seed: int = 0, passes: int = DEFAULT_PASSES,
                         augmentation: str | None = None, on_item: Callable[[], None] | None = None,
                         on_step: Callable[[int, float], None] | None = None) -> tuple[BoundaryModel, dict]:
    """A boundary model for ``model`` and its training summary (data, time, dev boundaries before/after)."""
    t0 = time.time()
    cfg = BoundaryConfig(vocab=tuple(model.cfg.vocab))
    train_items = collect(model, train_examples, passes, on_item, augmentation, seed)
    if not train_items:
        raise ValueError("no training utterance has gold phone and word times (same-stem TextGrids)")
    dev_items = collect(model, dev_examples, passes, on_item)
    train_pts = point_set(train_items, cfg)
    bm = fit(cfg, train_pts, steps, seed=seed, on_step=on_step)
    summary = {"utterances": len(train_items), "boundaries": len(train_pts),
               "hours": sum(it.feats.shape[0] for it in train_items) * 0.01 / 3600, "steps": steps, "seed": seed,
               "readout": DEFAULT_READOUT, "passes": passes, "augment": augmentation or "none", "wall_seconds": round(time.time() - t0, 1),
               "parameters": sum(p.numel() for p in bm.parameters())}
    if dev_items:
        dev_pts = point_set(dev_items, cfg)
        summary["dev_before"] = point_accuracy(dev_pts.residual)
        summary["dev_after"] = point_accuracy(dev_pts.residual - predict(bm, dev_pts))
    return bm, summary

