"""Training the frame model (``alignment.frames``) of an OTTC model.

Its frame labels come from two kinds of corpus folder: one with gold TextGrids (``otalign synth``)
gives the gold phone times; one with transcripts only (real speech) is first aligned by the
OTTC model itself, exactly as ``otalign align`` aligns it, and those times are the labels. That
is Viterbi training, the way HMM aligners learn from a corpus: the frame model learns what each
phone state sounds like on real voices, the gold times keep it from drifting into the aligner's
own habits.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F

from otalign_cli.alignment.frames import FrameConfig, FrameModel, frame_labels
from otalign_cli.alignment.readouts import DEFAULT_PASSES, DEFAULT_READOUT
from otalign_cli.audio import load_audio
from otalign_cli.errors import OtalignError
from otalign_cli.features import log_mel
from otalign_cli.model import AlignmentModel
from otalign_cli.pipeline import finish, forward, prepare
from otalign_cli.train import _transcript_of, corpus_entries, read_gold

CROP = 400  # frames per training crop (4 s)


@dataclass
class Labelled:
    feats: torch.Tensor  # (T, n_mels) float16
    labels: torch.Tensor  # (T,) int16, -1 where not trained on
    gold: bool


def label_corpus(model: AlignmentModel, entries: list[Path], cfg: FrameConfig,
                 on_item: Callable[[], None] | None = None) -> list[Labelled]:
    """Audio files with frame labels: gold where a same-stem TextGrid gives phone times, else the
    OTTC model's own alignment of the transcript, as ``otalign align`` makes it (files it cannot
    align are left out)."""
    items, listings = [], {}
    for audio in entries:
        if on_item:
            on_item()
        tg = audio.with_suffix(".TextGrid")
        if tg.is_file():
            labs, times, _ = read_gold(tg)
            on, off, gold = [a for a, _ in times], [b for _, b in times], True
            feats = log_mel(torch.from_numpy(load_audio(audio)))
        else:
            transcript = _transcript_of(audio, listings)
            if transcript is None:
                continue
            try:
                p = prepare(audio, transcript, None, model.cfg.language)
                res = finish(p, forward(model, p.feats, "cpu", DEFAULT_PASSES), None, model, None, DEFAULT_READOUT)
            except OtalignError:
                continue
            labs, feats, gold = [x.label for x in res.ot.phones], p.feats, False
            on, off = [x.start for x in res.ot.phones], [x.end for x in res.ot.phones]
        items.append(Labelled(feats.half(), frame_labels(cfg, labs, on, off, feats.shape[0]).short(), gold))
    return items


def train_entries(root: Path, limit: int | None = None, seed: int = 0) -> list[Path]:
    """The audio of ``root``'s train split, at most ``limit`` of them, sampled with ``seed``."""
    entries = [audio for audio, _ in corpus_entries(root, split="train")]
    random.Random(seed).shuffle(entries)
    return entries[:limit]


def train_frame_model(items: list[Labelled], cfg: FrameConfig = FrameConfig(), steps: int = 1500, batch: int = 32,
                      lr: float = 2e-3, seed: int = 0,
                      on_step: Callable[[int, float], None] | None = None) -> tuple[FrameModel, dict]:
    """Frame cross-entropy on random 4 s crops, AdamW with a one-cycle schedule; the class prior
    (for the scaled likelihoods) is counted over all labels. Returns the model and its summary."""
    torch.manual_seed(seed)
    rng = random.Random(seed)
    items = [it for it in items if it.feats.shape[0] >= 50]
    if not items:
        raise ValueError("no labelled utterances of at least 0.5 s to train the frame model on")
    model = FrameModel(cfg)
    counts = torch.zeros(cfg.classes)
    for it in items:
        lab = it.labels[it.labels >= 0].long()
        counts += torch.bincount(lab, minlength=cfg.classes).float()
    model.log_prior.copy_(((counts + 1) / (counts.sum() + cfg.classes)).log())
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-4)
    # a warm-up of 5 % of the steps, but at least two (OneCycleLR divides by its length minus one)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, lr, total_steps=max(steps, 4), pct_start=max(0.05, 2.0 / max(steps, 4)))
    t0, loss_value = time.time(), float("nan")
    model.train()
    for step in range(steps):
        xs, ys = [], []
        for _ in range(batch):
            it = rng.choice(items)
            a = rng.randint(0, max(0, it.feats.shape[0] - CROP))
            x, y = it.feats[a:a + CROP].float(), it.labels[a:a + CROP].long()
            pad = CROP - x.shape[0]
            xs.append(F.pad(x, (0, 0, 0, pad)))
            ys.append(F.pad(y, (0, pad), value=-1))
        lp = model(torch.stack(xs))
        loss = F.nll_loss(lp.reshape(-1, cfg.classes), torch.stack(ys).reshape(-1), ignore_index=-1)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        loss_value = float(loss.detach())
        if on_step:
            on_step(step + 1, loss_value)
    model.eval()
    frames = int(sum(it.feats.shape[0] for it in items))
    summary = {"utterances": len(items), "gold_utterances": sum(it.gold for it in items),
               "hours": round(frames * 0.01 / 3600, 3), "steps": steps, "batch": batch, "lr": lr, "seed": seed,
               "final_loss": round(loss_value, 4), "wall_seconds": round(time.time() - t0, 1)}
    return model, summary
