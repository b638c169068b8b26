"""Speech edges at pauses, placed where the signal's energy rises out of (or falls into) the pause.

The acoustic model sees 20 ms frames with wide context and was trained on synthetic speech, whose
labels put a stop's silent closure inside the stop even after a pause: on real speech it starts
the first phone after a pause early and ends the last one late, by 20 to 80 ms. A human labeller
cannot see a closure in silence and puts the edge where energy begins. So each edge between a
pause (or the file's start or end) and a phone is moved to where the short-time energy crosses
half-way, in dB, between the pause's level (its median) and the phone's peak: a rule with no
fitted constant, which follows a loud vowel and a faint fricative alike. An edge moves at most
``REACH`` either way, never across a neighbouring edge, and only where the phone clearly rises above the
pause (``MIN_RISE``).
"""

from __future__ import annotations

import numpy as np
import torch

HOP = 0.005  # s: energy frame shift
WINDOW = 0.02  # s: energy window
REACH = 0.08  # s: the furthest an edge moves (about a stop closure)
MIN_PAUSE = 0.02  # s: shorter gaps hold too few frames to measure the pause's level
MIN_RISE = 6.0  # dB: a phone less than this above the pause gives no edge to find
MIN_PHONE = 0.01  # s: a phone keeps at least this duration


def frame_energy_db(samples: np.ndarray, sample_rate: int) -> np.ndarray:
    """(K,) short-time energy in dB of ``WINDOW``-long frames, frame k centred at k * HOP seconds.

    Summed hop by hop in blocks, so an hour of audio needs a few MB beside its samples.
    """
    hop, win = int(round(HOP * sample_rate)), int(round(WINDOW * sample_rate))
    half = win // (2 * hop)  # the window spans hops k - half .. k + half - 1
    n_hops = -(-len(samples) // hop)
    per_hop = np.zeros(n_hops + 2 * half)
    block = hop * 65536
    for start in range(0, len(samples), block):
        seg = samples[start:start + block].astype(np.float64)
        seg = np.pad(seg, (0, -len(seg) % hop))
        per_hop[half + start // hop: half + start // hop + len(seg) // hop] = (seg * seg).reshape(-1, hop).sum(1)
    c = np.concatenate([[0.0], np.cumsum(per_hop)])
    k = np.arange(len(samples) // hop + 1)
    power = (c[k + 2 * half] - c[k]) / win
    return 10.0 * np.log10(power + 1e-12)


def _times(a: float, b: float, n: int) -> np.ndarray:
    """Indices of the frames centred in [a, b)."""
    lo, hi = max(0, int(np.ceil(a / HOP))), min(n, int(np.ceil(b / HOP)))
    return np.arange(lo, max(lo, hi))


def _crossing(e: np.ndarray, i: int, thr: float) -> float:
    """Time where energy passes ``thr`` between frames i and i + 1 (linear in dB)."""
    a, b = e[i], e[i + 1]
    frac = 0.5 if a == b else min(1.0, max(0.0, (thr - a) / (b - a)))
    return (i + frac) * HOP


def snap_pause_edges(onset: torch.Tensor, offset: torch.Tensor, energy: np.ndarray,
                     duration: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Phone spans (seconds, (m,) each) with every edge that meets a pause moved onto the energy
    onset or offset; edges between two phones stay where they are."""
    on, off = onset.clone().double(), offset.clone().double()
    n, m = len(energy), len(on)
    for k in range(m):
        pause_start = 0.0 if k == 0 else float(off[k - 1])
        if float(on[k]) - pause_start >= MIN_PAUSE:  # a pause before phone k
            pause = energy[_times(pause_start, float(on[k]), n)]
            body = energy[_times(float(on[k]), float(off[k]), n)]
            if len(pause) and len(body) and body.max() - np.median(pause) >= MIN_RISE:
                thr = (np.median(pause) + body.max()) / 2
                idx = _times(max(pause_start, float(on[k]) - REACH), min(float(off[k]) - MIN_PHONE, float(on[k]) + REACH), n)
                up = [i for i in idx[:-1] if energy[i] < thr <= energy[i + 1]]
                if up and energy[idx[0]] < thr:
                    on[k] = min(max(_crossing(energy, up[0], thr), pause_start), float(off[k]) - MIN_PHONE)
        pause_end = duration if k == m - 1 else float(on[k + 1])
        if pause_end - float(off[k]) >= MIN_PAUSE:  # a pause after phone k
            pause = energy[_times(float(off[k]), pause_end, n)]
            body = energy[_times(float(on[k]), float(off[k]), n)]
            if len(pause) and len(body) and body.max() - np.median(pause) >= MIN_RISE:
                thr = (np.median(pause) + body.max()) / 2
                idx = _times(max(float(on[k]) + MIN_PHONE, float(off[k]) - REACH), min(pause_end, float(off[k]) + REACH), n)
                down = [i for i in idx[:-1] if energy[i] >= thr > energy[i + 1]]
                if down and energy[idx[-1]] < thr:
                    off[k] = max(min(_crossing(energy, down[-1], thr), pause_end), float(on[k]) + MIN_PHONE)
    return on, off
