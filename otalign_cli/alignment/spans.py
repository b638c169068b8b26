"""Token spans (in frames) from a model's outputs and a transcript's tokens: the primitives the readouts
(``alignment.readouts``) are built from.

- ``ot_spans``: the plain OTTC readout, token j spans where the cumulative frame mass crosses
  j/m and (j+1)/m. Ignores the posteriors, so its error accumulates along the file.
- ``refine_alpha``: test-time refinement, a few gradient steps on alpha that lower this
  transcript's OT cost, then the plain readout (each step is one O(n + m) plan).
- ``viterbi_spans``: the best monotone path through the transcript's posteriors (each token at
  least one frame, optional silence between words). With ``band`` it only searches states near
  the OT path, which keeps it O(n * band); without, it is the O(n * m) reference.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from otalign_cli.alignment.ot import monotone_plan, plan_cost

DROP_THRESHOLD = 0.1  # a frame with normalized alpha below 0.1 / n counts as dropped
TIE_TOL = 1e-9


@dataclass
class Spans:
    """Token spans in fractional frames: token j covers [onset[j], offset[j])."""

    onset: torch.Tensor  # (m,) float64
    offset: torch.Tensor  # (m,) float64


def dropped_frames(alpha: torch.Tensor, threshold: float = DROP_THRESHOLD) -> torch.Tensor:
    """Boolean mask of frames whose share of the mass is below ``threshold / n``."""
    a = alpha.to(torch.float64)
    return a / a.sum() * a.numel() < threshold


def ot_spans(alpha: torch.Tensor, m: int, threshold: float = DROP_THRESHOLD, tol: float = TIE_TOL) -> Spans:
    """Plain OT readout with sub-frame interpolation; dropped frames get no mass.

    An onset is the first point where the cumulative mass rises above j/m (so an onset never
    lands inside a dropped gap before it), an offset the first point where it reaches (j+1)/m.
    """
    a = alpha.detach().to(torch.float64).clone()
    drop = dropped_frames(a, threshold)
    if bool(drop.all()):
        drop = torch.zeros_like(drop)
    a[drop] = 0.0
    a = a / a.sum()
    cum = torch.cumsum(a, 0)
    cum = cum / cum[-1]
    prev = torch.cat([cum.new_zeros(1), cum[:-1]])
    n = a.numel()
    b = torch.arange(m + 1, dtype=torch.float64) / m

    def cross(values: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
        idx = idx.clamp(max=n - 1)
        frac = ((values - prev[idx]) / a[idx].clamp(min=1e-300)).clamp(0.0, 1.0)
        return idx.to(torch.float64) + frac

    onset = cross(b[:-1], torch.searchsorted(cum, b[:-1] + tol, right=True))
    offset = cross(b[1:], torch.searchsorted(cum, b[1:] - tol, right=False))
    offset = torch.maximum(offset, onset)
    return Spans(onset, offset)


def snap_to_pauses(spans: Spans, alpha: torch.Tensor, min_gap: int = 4,
                   threshold: float = DROP_THRESHOLD) -> Spans:
    """Give each pause (a run of at least ``min_gap`` dropped frames) to no token.

    The plain readout lets a token start where the cumulative mass crosses j/m, which can be a
    frame before a pause, so the token's span swallows the pause. When a pause lies inside a
    token's span, the token keeps the side holding most of its mass; the sliver on the other
    side goes to the neighbouring token. Shorter runs (a stop closure) are left inside.
    """
    a = alpha.detach().to(torch.float64).clone()
    drop = dropped_frames(a, threshold)
    if bool(drop.all()):
        return spans
    a[drop] = 0.0
    cum = torch.cumsum(a / a.sum(), 0)
    onset, offset = spans.onset.clone(), spans.offset.clone()
    m = onset.numel()
    flags = torch.cat([torch.tensor([False]), drop, torch.tensor([False])]).to(torch.int8)
    edges = torch.diff(flags)
    starts = torch.nonzero(edges == 1).flatten().tolist()
    ends = torch.nonzero(edges == -1).flatten().tolist()
    for g0, g1 in zip(starts, ends):
        if g1 - g0 < min_gap:
            continue
        j = int(torch.searchsorted(onset, torch.tensor(float(g0), dtype=torch.float64), right=True)) - 1
        if j < 0 or not (onset[j] < g0 and offset[j] > g1):
            continue  # the pause already lies between tokens
        before = float(cum[g0 - 1]) - j / m if g0 > 0 else 0.0
        if before < 0.5 / m:
            onset[j] = float(g1)
            if j > 0:
                offset[j - 1] = float(g0)
        else:
            offset[j] = float(g0)
            if j + 1 < m:
                onset[j + 1] = float(g1)
    return Spans(onset, offset)


def refine_alpha(alpha: torch.Tensor, log_probs: torch.Tensor, targets: torch.Tensor,
                 steps: int = 40, lr: float = 0.1, pull: float = 0.01) -> torch.Tensor:
    """Alpha moved by Adam on log-alpha to lower the OT cost of this transcript.

    ``pull`` keeps log-alpha near the network's prediction so pauses stay dropped. The step
    falls linearly from ``lr`` to nearly 0: the cost is piecewise smooth (its gradient jumps
    where a frame's cumulative mass crosses a token's), and a fixed step leaves the last
    iterate circling those kinks, so changes of 1e-5 in the log-probabilities (a batched
    matrix product, another machine) moved boundaries by up to 3.5 frames; a decaying step
    settles (the test checks it).
    """
    return refine_alpha_many([alpha], [log_probs], [targets], steps, lr, pull)[0]


def refine_alpha_many(alphas: list[torch.Tensor], log_probs: list[torch.Tensor], targets: list[torch.Tensor],
                      steps: int = 40, lr: float = 0.1, pull: float = 0.01) -> list[torch.Tensor]:
    """``refine_alpha`` of several independent pieces at once, padded into one batch.

    The loss is a sum of per-piece terms, so each piece moves exactly as it would alone; one
    batched plan per step replaces a plan per piece (hundreds of pieces in an hour of audio),
    and the whole batch runs on the device its inputs are on.
    """
    dev = alphas[0].device
    lengths_n = torch.tensor([a.numel() for a in alphas], device=dev)
    lengths_m = torch.tensor([t.numel() for t in targets], device=dev)
    valid = torch.arange(int(lengths_n.max()), device=dev)[None, :] < lengths_n[:, None]
    theta0 = torch.nn.utils.rnn.pad_sequence([a.detach().to(torch.float64).clamp(min=1e-12).log() for a in alphas],
                                             batch_first=True)
    lp = torch.nn.utils.rnn.pad_sequence([x.detach() for x in log_probs], batch_first=True)
    tg = torch.nn.utils.rnn.pad_sequence(list(targets), batch_first=True)
    weight = lengths_m.to(torch.float64)
    theta = theta0.clone()
    m1, m2 = torch.zeros_like(theta), torch.zeros_like(theta)
    b1, b2 = 0.9, 0.999
    for t in range(1, steps + 1):
        # Adam written out: torch.optim's first step costs seconds of one-time set-up per process
        with torch.enable_grad():  # callers may run under no_grad
            theta.requires_grad_(True)
            plan = monotone_plan(theta.exp() * valid, lengths_n, lengths_m)
            loss = (plan_cost(plan, lp, tg) * weight).sum() + pull * (((theta - theta0) * valid) ** 2).sum()
            (grad,) = torch.autograd.grad(loss, theta)
        theta = theta.detach()
        m1 = b1 * m1 + (1 - b1) * grad
        m2 = b2 * m2 + (1 - b2) * grad * grad
        step = lr * (steps + 1 - t) / steps  # see refine_alpha
        theta = theta - step * (m1 / (1 - b1**t)) / ((m2 / (1 - b2**t)).sqrt() + 1e-8)
    return [theta[b, :n].exp().to(a.dtype) for b, (a, n) in enumerate(zip(alphas, lengths_n.tolist()))]


def _states(targets: torch.Tensor, word_end: torch.Tensor | None, sil_id: int | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """HMM states: tokens, with an optional silence state before the first token, after each word
    and after the last token when ``sil_id`` is given. Returns (ids, optional, token index or -1)."""
    ids: list[int] = []
    optional: list[bool] = []
    token: list[int] = []
    if sil_id is not None:
        ids.append(sil_id), optional.append(True), token.append(-1)
    for j, t in enumerate(targets.tolist()):
        ids.append(int(t)), optional.append(False), token.append(j)
        if sil_id is not None and (word_end is None or bool(word_end[j])):
            ids.append(sil_id), optional.append(True), token.append(-1)
    return np.array(ids), np.array(optional), np.array(token)


def viterbi_path(log_probs: torch.Tensor, targets: torch.Tensor, word_end: torch.Tensor | None = None,
                 sil_id: int | None = None, center: torch.Tensor | None = None,
                 band: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Best monotone path of the transcript through per-frame log-posteriors.

    Returns the transcript token of each frame (-1 on a silence state) and the path's states.
    With ``band`` only ``band`` states are searched per frame: around ``center`` (n,), the token
    each frame holds on a guide path, or, without a guide, a band that follows the best state
    of the previous frame (a beam: O(n * band) whatever the length, anchored on the posteriors).
    Raises ``ValueError`` if there are fewer frames than tokens or no path reaches the end
    inside the band.
    """
    lp = log_probs.detach().to(torch.float32).cpu().numpy()
    n = lp.shape[0]
    ids, optional, token = _states(targets, word_end, sil_id)
    k_total = len(ids)
    m = int(targets.numel())
    if n < m:
        raise ValueError(f"{n} frames cannot hold {m} tokens")
    width = k_total if band is None or band >= k_total else band
    follow = width < k_total and center is None
    if width < k_total and not follow:
        state_of_token = np.flatnonzero(token >= 0)
        mid = state_of_token[center.cpu().numpy().clip(0, m - 1)]
        lo = np.clip(mid - width // 2, 0, k_total - width)
        lo[0], lo[-1] = 0, k_total - width  # the path must start and end inside the band
        lo = np.maximum.accumulate(lo)
    else:
        lo = np.zeros(n, dtype=np.int64)
    neg = np.float32(-1e30)
    skip_ok = np.concatenate([[False], optional[:-1]])  # s may be entered from s - 2 past an optional s - 1
    delta = np.full(width, neg, dtype=np.float32)
    delta[0] = lp[0, ids[0]]
    if optional[0] and k_total > 1 and width > 1:
        delta[1] = lp[0, ids[1]]
    back = np.zeros((n, width), dtype=np.int8)
    pad = np.full(2, neg, dtype=np.float32)
    ahead = width // 2  # a followed band is centred on the best state
    for t in range(1, n):
        if follow:
            lo[t] = min(max(lo[t - 1], lo[t - 1] + int(np.argmax(delta)) - ahead), k_total - width)
        shift = int(lo[t] - lo[t - 1])
        ext = np.concatenate([pad, delta, np.full(shift, neg, dtype=np.float32)])
        # ext[i + 2] is state lo[t-1] + i; state s = lo[t] + k sits at ext[k + shift + 2]
        base = np.arange(width) + shift + 2
        stay, adv, skip = ext[base], ext[base - 1], ext[base - 2]
        states = lo[t] + np.arange(width)
        skip = np.where(skip_ok[states.clip(max=k_total - 1)] & (states >= 2), skip, neg)
        cand = np.stack([stay, adv, skip])
        best = cand.argmax(0)
        delta = cand[best, np.arange(width)] + lp[t, ids[lo[t]:lo[t] + width]]
        back[t] = best
    end_states = [k_total - 1] + ([k_total - 2] if optional[-1] and k_total > 1 else [])
    end_scores = [(delta[s - lo[-1]] if 0 <= s - lo[-1] < width else neg) for s in end_states]
    s = end_states[int(np.argmax(end_scores))]
    if max(end_scores) <= neg / 2:
        raise ValueError("no path reaches the end of the transcript inside the search band")
    path = np.empty(n, dtype=np.int64)
    for t in range(n - 1, -1, -1):
        path[t] = s
        s -= int(back[t, s - lo[t]])
    return token[path], path


def spans_of_path(tok_path: np.ndarray, m: int) -> Spans:
    """Token spans of a frame-to-token path (-1 frames belong to no token)."""
    n = tok_path.size
    frames = np.arange(n)
    keep = tok_path >= 0
    first = np.full(m, n, dtype=np.int64)
    last = np.full(m, -1, dtype=np.int64)
    np.minimum.at(first, tok_path[keep], frames[keep])
    np.maximum.at(last, tok_path[keep], frames[keep])
    onset, offset = first.astype(np.float64), (last + 1).astype(np.float64)
    return Spans(torch.from_numpy(onset), torch.from_numpy(offset))


def viterbi_spans(log_probs: torch.Tensor, targets: torch.Tensor, word_end: torch.Tensor | None = None,
                  sil_id: int | None = None, center: torch.Tensor | None = None, band: int | None = None) -> Spans:
    """Token spans of ``viterbi_path``."""
    tok_path, _ = viterbi_path(log_probs, targets, word_end, sil_id, center, band)
    return spans_of_path(tok_path, int(targets.numel()))


def ot_token_of_frame(alpha: torch.Tensor, m: int) -> torch.Tensor:
    """Token index the plain OT readout gives each frame (the guide for the banded search)."""
    a = alpha.detach().to(torch.float64)
    cum = torch.cumsum(a, 0)
    mid = (cum - a / 2) / cum[-1]
    return (mid * m).floor().long().clamp(0, m - 1)
