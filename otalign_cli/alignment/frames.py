"""The frame model: a 10 ms phone-state classifier that re-segments an alignment, as an HMM
aligner's last pass would.

Why: the encoder reads 20 ms frames and its boundaries are set by synthetic labels; the frame
model sees every 10 ms frame with +-170 ms of context and is trained on real speech (the
aligner's own output on transcripts-only corpora, which is how a forced aligner trains on a
corpus: Viterbi training) together with synthetic speech with gold times (``train_frames``).
Each phone has ``states`` left-to-right states (begin, middle, end) and pauses one.

``resegment`` re-reads a finished alignment with it: a Viterbi over the alignment's own
phones (and pauses, with an optional pause at every word join) where each segment may move
at most ``window`` from where the alignment put it, so the models agree on the phones and the
frame model only places the boundaries; each boundary then moves ``pull`` of the way to the
frame model's (the two aligners' errors are partly independent, so their mean is better than
either: TIMIT sample, docs/results.md). Banded, so an hour costs seconds.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from otalign_cli.devices import full_float32
from otalign_cli.text.phones import PHONES

HOP = 0.01  # s: the feature frame
NEG = -1e30
# The model normalizes over the frames it is given (GroupNorm over time and channels), and it was
# trained on 4 s crops: it is run on 4 s chunks too, each with context beyond the receptive field
# (+-17 frames) on both sides, which also bounds the memory an hour-long file needs.
CHUNK = 400  # frames per chunk, the training crop (``train_frames.CROP``)
CONTEXT = 32  # frames of context on each side of a chunk
MIN_PHONE = 0.01  # s: a phone keeps at least this duration


@dataclass(frozen=True)
class FrameConfig:
    n_mels: int = 80
    hidden: int = 256
    dilations: tuple[int, ...] = (1, 2, 4, 8)
    states: int = 3  # per phone; a pause has one
    phones: tuple[str, ...] = PHONES
    window: float = 0.07  # s a segment may move in ``resegment``
    pull: float = 0.5  # how far a boundary moves towards the frame model's
    prior_scale: float = 0.5  # posteriors divided by prior ** prior_scale (hybrid-HMM scaled likelihoods)

    @property
    def classes(self) -> int:
        return len(self.phones) * self.states + 1  # the pause is the last class

    def to_dict(self) -> dict:
        d = asdict(self)
        d["dilations"], d["phones"] = list(self.dilations), list(self.phones)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> FrameConfig:
        return cls(**{**d, "dilations": tuple(d["dilations"]), "phones": tuple(d["phones"])})


class FrameModel(nn.Module):
    """(B, T, n_mels) log-mel -> (B, T, classes) log-posteriors: a convolution and residual dilated
    convolutions, 0.9 M parameters at the default width."""

    def __init__(self, cfg: FrameConfig) -> None:
        super().__init__()
        self.cfg = cfg
        h = cfg.hidden
        self.inp = nn.Conv1d(cfg.n_mels, h, 5, padding=2)
        self.blocks = nn.ModuleList([nn.Conv1d(h, h, 3, dilation=d, padding=d) for d in cfg.dilations])
        self.norms = nn.ModuleList([nn.GroupNorm(1, h) for _ in cfg.dilations])
        self.out = nn.Conv1d(h, cfg.classes, 1)
        self.drop = nn.Dropout(0.1)
        self.register_buffer("log_prior", torch.full((cfg.classes,), -math.log(cfg.classes)))

    def forward(self, feats: torch.Tensor) -> torch.Tensor:
        h = F.relu(self.inp(feats.transpose(1, 2)))
        for conv, norm in zip(self.blocks, self.norms):
            h = h + self.drop(F.relu(norm(conv(h))))
        return F.log_softmax(self.out(h).transpose(1, 2), -1)


def frame_labels(cfg: FrameConfig, phones: list[str], onset: list[float], offset: list[float],
                 n_frames: int) -> torch.Tensor:
    """(T,) class per 10 ms frame of an alignment (frame k centred at k * HOP): each phone's frames
    split evenly into its states, pauses the pause class, frames of a phone outside the
    inventory (``<unk>``) -1 (not trained on)."""
    index = {p: i for i, p in enumerate(cfg.phones)}
    labels = torch.full((n_frames,), cfg.classes - 1, dtype=torch.long)
    t = torch.arange(n_frames, dtype=torch.float64) * HOP
    for p, a, b in zip(phones, onset, offset):
        idx = torch.nonzero((t >= a) & (t < b)).flatten()
        if idx.numel() == 0:
            continue
        if p not in index:
            labels[idx] = -1
            continue
        pos = torch.clamp(torch.arange(idx.numel()) * cfg.states // idx.numel(), max=cfg.states - 1)
        labels[idx] = index[p] * cfg.states + pos
    return labels


@torch.no_grad()
def frame_scores(model: FrameModel, feats: torch.Tensor) -> np.ndarray:
    """(T, classes) scaled log-likelihoods (log-posterior - prior_scale * log-prior) of a recording's
    features, chunk by chunk as the model was trained (see ``CHUNK``)."""
    model.eval()
    n = feats.shape[0]
    out = np.empty((n, model.cfg.classes), dtype=np.float32)
    device = next(model.parameters()).device
    full_float32(device)
    for a in range(0, n, CHUNK):
        b = min(a + CHUNK, n)
        lo, hi = max(0, a - CONTEXT), min(n, b + CONTEXT)
        lp = model(feats[lo:hi].float()[None].to(device))[0].cpu()
        out[a:b] = lp[a - lo:b - lo].numpy()
    out -= model.cfg.prior_scale * model.log_prior.cpu().numpy()[None]
    return out


@dataclass
class _States:
    cls: np.ndarray  # (S,) class per state
    seg: np.ndarray  # (S,) segment per state
    lo: np.ndarray  # (S,) first frame the state may hold
    hi: np.ndarray  # (S,) one past the last
    skip_from: np.ndarray  # (S,) state a skip enters from (-1: none)


def _states(seg_cls: list[int], lo: list[int], hi: list[int], optional: list[bool], cfg: FrameConfig) -> _States:
    pause = cfg.classes - 1
    cls, seg = [], []
    for j, c in enumerate(seg_cls):
        ks = [pause] if c < 0 else [c * cfg.states + k for k in range(cfg.states)]
        cls += ks
        seg += [j] * len(ks)
    seg_a = np.array(seg)
    first = np.searchsorted(seg_a, np.arange(len(seg_cls)))
    last = np.searchsorted(seg_a, np.arange(len(seg_cls)), side="right") - 1
    skip_from = np.full(len(cls), -1)
    for j in range(2, len(seg_cls)):
        if optional[j - 1]:
            skip_from[first[j]] = last[j - 2]
    return _States(np.array(cls), seg_a, np.array(lo)[seg_a], np.array(hi)[seg_a], skip_from)


def _viterbi(score: np.ndarray, st: _States, starts: list[int], ends: list[int]) -> np.ndarray | None:
    """The best state per frame (T,) through states in order (stay, advance, or skip an optional
    segment), each state only within its frames [lo, hi); None if no path fits. The states a frame
    may hold are a contiguous band, so each step costs the band's width."""
    n = score.shape[0]
    band_lo = np.searchsorted(st.hi, np.arange(n), side="right")  # first state with hi > t
    band_hi = np.searchsorted(st.lo, np.arange(n), side="right")  # one past the last state with lo <= t
    a, b = band_lo[0], band_hi[0]
    v = np.full(b - a, NEG)
    for s in starts:
        if a <= s < b:
            v[s - a] = score[0, st.cls[s]]
    back: list[tuple[int, np.ndarray]] = [(a, np.zeros(b - a, np.int8))]
    for t in range(1, n):
        pa, prev = a, v
        a, b = band_lo[t], band_hi[t]
        if b <= a:
            return None
        idx = np.arange(a, b)

        def at(states: np.ndarray) -> np.ndarray:
            k = states - pa
            ok = (k >= 0) & (k < len(prev)) & (states >= 0)
            out = np.full(len(states), NEG)
            out[ok] = prev[k[ok]]
            return out

        stay, adv, skip = at(idx), at(idx - 1), at(st.skip_from[a:b])
        best = np.maximum(np.maximum(stay, adv), skip)
        back.append((a, np.where(best == stay, 0, np.where(best == adv, 1, 2)).astype(np.int8)))
        v = best + score[t, st.cls[a:b]]
    final = [s for s in ends if a <= s < b and v[s - a] > NEG / 2]
    if not final:
        return None
    s = max(final, key=lambda e: v[e - a])
    path = np.empty(n, dtype=np.int64)
    for t in range(n - 1, -1, -1):
        path[t] = s
        ba, moves = back[t]
        move = moves[s - ba]
        s = s if move == 0 else s - 1 if move == 1 else st.skip_from[s]
    return path


Seg = tuple[int, float, float, bool, int]  # (class or -1 for a pause, start s, end s, optional, phone index or -1)


def _starts(score: np.ndarray, segs: list[Seg], cfg: FrameConfig, f0: int, f1: int) -> dict[int, float] | None:
    """Where the Viterbi over frames [f0, f1) enters each segment (seconds, keyed by its index in
    ``segs``, whose first and last segments are optional pauses); None if no path fits."""
    sub, n = score[f0:f1], f1 - f0
    if n < 1:
        return None
    lo = [min(n, max(0, int(math.floor((s - cfg.window) / HOP)) - f0)) for _, s, _, _, _ in segs]
    hi = [min(n, max(0, int(math.ceil((e + cfg.window) / HOP)) + 1 - f0)) for _, _, e, _, _ in segs]
    lo, hi = np.maximum.accumulate(lo).tolist(), np.maximum.accumulate(hi).tolist()
    st = _states([c for c, *_ in segs], lo, hi, [o for *_, o, _ in segs], cfg)
    first = np.searchsorted(st.seg, np.arange(len(segs)))
    last = np.searchsorted(st.seg, np.arange(len(segs)), side="right") - 1
    path = _viterbi(sub, st, [int(first[0]), int(first[min(1, len(segs) - 1)])],
                    [int(last[-1]), int(last[max(len(segs) - 2, 0)])])
    if path is None:
        return None
    seg_path = st.seg[path]
    start = {int(seg_path[0]): f0 * HOP}
    for t in np.flatnonzero(np.diff(seg_path)) + 1:  # first frame of each segment the path enters
        b = t - 0.5
        ca, cb = st.cls[path[t - 1]], st.cls[path[t]]
        d0, d1 = sub[t - 1, ca] - sub[t - 1, cb], sub[t, ca] - sub[t, cb]
        if d0 > 0 > d1:  # where the two states' scores cross, between the frame centres
            b = t - 1 + d0 / (d0 - d1)
        start[int(seg_path[t])] = (b + f0) * HOP
    return start


def _pieces(segs: list[Seg], n: int, f0: int = 0) -> list[tuple[int, list[Seg], int, int]]:
    """The segments (over frames [f0, n)) cut in the middle of every pause of two frames or more:
    (index of the first segment, the piece's segments with its cut pauses optional, first frame,
    one past the last)."""
    pieces, first = [], 0
    current: list[Seg] = []
    for j, (c, s, e, optional, k) in enumerate(segs):
        if c < 0 and not optional and e - s >= 2 * HOP and current:
            mid = (s + e) / 2
            m = min(n, max(f0 + 1, int(round(mid / HOP))))
            pieces.append((first, [*current, (c, s, mid, True, k)], f0, m))
            first, f0, current = j, m, [(c, mid, e, True, k)]
        else:
            current.append((c, s, e, optional, k))
    pieces.append((first, current, f0, n))
    return pieces


def resegment(model: FrameModel, feats: torch.Tensor, onset: torch.Tensor, offset: torch.Tensor,
              phones: list[str], word_end: list[bool], duration: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Onsets/offsets (s, float64) of ``phones`` moved ``pull`` of the way to where the frame
    model places them (see the module's docstring). A phone outside the model's inventory
    (``<unk>``'s and an event's pseudo-phones) keeps its times, and the phones between two such
    are re-segmented on their own, inside the time those leave them. Where no path fits a run
    (phones squeezed tighter than three frames each, around a transcript error say), it is read
    piece by piece between pauses, and a piece where none fits keeps its times."""
    cfg = model.cfg
    index = {p: i for i, p in enumerate(cfg.phones)}
    if not phones:
        return onset, offset
    on, off = onset.tolist(), offset.tolist()
    new_on, new_off = list(on), list(off)
    known = [p in index for p in phones]
    if any(known):
        score = frame_scores(model, feats)
        k = 0
        while k < len(phones):
            if not known[k]:
                k += 1
                continue
            k1 = k
            while k1 < len(phones) and known[k1]:
                k1 += 1
            t0, f0 = (off[k - 1], int(round(off[k - 1] / HOP))) if k > 0 else (0.0, 0)
            t1, f1 = (on[k1], int(round(on[k1] / HOP))) if k1 < len(phones) else (duration, score.shape[0])
            got = _resegment_run(score, cfg, [index[p] for p in phones[k:k1]], on[k:k1], off[k:k1],
                                 word_end[k:k1], t0, t1, min(f0, score.shape[0]), min(max(f0, f1), score.shape[0]))
            new_on[k:k1], new_off[k:k1] = got
            k = k1
    w = cfg.pull
    mixed_on = [a + w * (b - a) for a, b in zip(on, new_on)]
    mixed_off = [a + w * (b - a) for a, b in zip(off, new_off)]
    for k in range(len(phones)):  # in order, each phone at least MIN_PHONE long
        if k > 0:
            mixed_on[k] = max(mixed_on[k], mixed_off[k - 1])
        mixed_off[k] = max(mixed_off[k], mixed_on[k] + MIN_PHONE)
    return (torch.tensor(mixed_on, dtype=torch.float64).clamp(0, duration),
            torch.tensor(mixed_off, dtype=torch.float64).clamp(0, duration))


def _resegment_run(score: np.ndarray, cfg: FrameConfig, classes: list[int], on: list[float], off: list[float],
                   word_end: list[bool], t0: float, t1: float, f0: int, f1: int) -> tuple[list[float], list[float]]:
    """Where the frame model's Viterbi over [t0, t1) s (frames [f0, f1)) places a run of phones
    (``classes``, with their readout times ``on``/``off``), each phone's onset and offset; the
    readout's where no path fits."""
    # segments: leading pause, then each phone, a pause where the alignment has a gap, an optional
    # pause at a word join without one, and a trailing pause; edge pauses may vanish
    segs: list[Seg] = [(-1, t0, on[0], True, -1)]
    for k, c in enumerate(classes):
        if k > 0:
            gap = on[k] - off[k - 1]
            if gap >= HOP:
                segs.append((-1, off[k - 1], on[k], False, -1))
            elif word_end[k - 1]:
                segs.append((-1, on[k], on[k], True, -1))
        segs.append((c, on[k], off[k], False, k))
    segs.append((-1, off[-1], t1, True, -1))
    start = _starts(score, segs, cfg, f0, f1)
    if start is None:
        start = {}
        for first, piece, p0, p1 in _pieces(segs, f1, f0):
            got = _starts(score, piece, cfg, p0, p1) or {j: seg[1] for j, seg in enumerate(piece)}
            for j, t in got.items():
                start.setdefault(first + j, t)
    entered = sorted(start)
    new_on, new_off = list(on), list(off)
    for i, j in enumerate(entered):
        k = segs[j][4]
        if k < 0:
            continue
        new_on[k] = start[j]
        new_off[k] = start[entered[i + 1]] if i + 1 < len(entered) else t1
    return new_on, new_off
