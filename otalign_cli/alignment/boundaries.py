"""Boundary correction: a small network that moves each boundary of an alignment to where the
audio around it says the change is.

The OTTC model places boundaries on a 20 ms grid of frames that each see a wide context; its
errors are mostly small (the median is under 10 ms) but spread. A boundary correction model
(the idea of Stolcke et al., ICASSP 2014, "Highly accurate phonetic segmentation using boundary
correction models and system fusion") looks only at the 10 ms features in a short window around
one hypothesised boundary, is told which two phones meet there, and predicts how far the
boundary should move. It is trained on the residuals of the aligner it corrects (gold minus
aligned, on utterances with exact timings), so it belongs to that OTTC model and is stored in its
checkpoint. Each boundary is corrected independently: the cost is linear in the number of
boundaries.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

from otalign_cli.devices import full_float32

HOP = 0.01  # s: the feature frame shift the windows are cut on
MIN_PHONE = 0.01  # s: a corrected phone keeps at least this duration
CHUNK = 2048  # boundaries per forward pass: bounded memory on hour-long files


@dataclass(frozen=True)
class BoundaryConfig:
    vocab: tuple[str, ...]  # the OTTC model's phones; one more id stands for a pause or the file's edge
    window: int = 16  # feature frames on each side of the boundary
    n_mels: int = 80
    channels: int = 64
    hidden: int = 128
    embed: int = 16
    max_shift: float = 0.04  # s: the largest correction it can make

    def to_dict(self) -> dict:
        d = asdict(self)
        d["vocab"] = list(self.vocab)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> BoundaryConfig:
        return cls(**{**d, "vocab": tuple(d["vocab"])})

    @property
    def edge_id(self) -> int:
        return len(self.vocab)


class BoundaryModel(nn.Module):
    """(features window, sub-frame position, left phone, right phone) -> shift in seconds."""

    def __init__(self, cfg: BoundaryConfig):
        super().__init__()
        self.cfg = cfg
        width = 2 * cfg.window + 1
        self.conv = nn.Sequential(
            nn.Conv1d(cfg.n_mels, cfg.channels, 5, padding=2), nn.GELU(),
            nn.Conv1d(cfg.channels, cfg.channels, 5, padding=2), nn.GELU(),
        )
        self.phone = nn.Embedding(cfg.edge_id + 1, cfg.embed)
        self.mlp = nn.Sequential(
            nn.Linear(cfg.channels * width + 2 * cfg.embed + 1, cfg.hidden), nn.GELU(),
            nn.Linear(cfg.hidden, cfg.hidden), nn.GELU(),
            nn.Linear(cfg.hidden, 1),
        )
        nn.init.zeros_(self.mlp[-1].weight)
        nn.init.zeros_(self.mlp[-1].bias)  # starts as the identity: no shift

    def forward(self, windows: torch.Tensor, frac: torch.Tensor, left: torch.Tensor,
                right: torch.Tensor) -> torch.Tensor:
        h = self.conv(windows.transpose(1, 2)).flatten(1)
        z = torch.cat([h, self.phone(left), self.phone(right), frac[:, None].to(h.dtype)], 1)
        return self.cfg.max_shift * torch.tanh(self.mlp(z)[:, 0])


@dataclass
class Points:
    """The boundaries of one alignment: time (s), the phones on each side, and which span edge each is."""

    time: torch.Tensor  # (B,) float64
    left: torch.Tensor  # (B,) phone id, or edge_id for a pause / the file's start
    right: torch.Tensor  # (B,) phone id, or edge_id for a pause / the file's end
    phone: torch.Tensor  # (B,) the phone whose onset (is_onset) or offset this is
    is_onset: torch.Tensor  # (B,) bool


def boundary_points(onset: torch.Tensor, offset: torch.Tensor, phones: torch.Tensor, edge_id: int,
                    tol: float = 1e-6) -> Points:
    """Each phone onset, and each phone offset that is followed by a pause or ends the file.

    Where one phone ends as the next begins, that is one boundary (the onset of the second).
    """
    m = phones.numel()
    joined = torch.zeros(m, dtype=torch.bool)
    if m > 1:
        joined[1:] = offset[:-1] >= onset[1:] - tol  # phone k starts where k - 1 ends
    left_of_onset = torch.where(joined, torch.cat([phones[:1], phones[:-1]]), torch.full_like(phones, edge_id))
    free_offset = torch.cat([~joined[1:], torch.tensor([True])])  # offset not shared with the next onset
    k_off = torch.nonzero(free_offset).flatten()
    time = torch.cat([onset, offset[k_off]]).to(torch.float64)
    left = torch.cat([left_of_onset, phones[k_off]])
    right = torch.cat([phones, torch.full_like(k_off, edge_id)])
    phone = torch.cat([torch.arange(m), k_off])
    is_onset = torch.cat([torch.ones(m, dtype=torch.bool), torch.zeros(k_off.numel(), dtype=torch.bool)])
    return Points(time, left, right, phone, is_onset)


def feature_windows(feats: torch.Tensor, time: torch.Tensor, window: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(B, 2 window + 1, n_mels) features around each time (edge frames repeated past the ends)
    and each time's position within its centre frame, in frames (-0.5 .. 0.5).

    Feature frame k is centred at k * HOP (``features.log_mel``).
    """
    pos = time / HOP
    centre = pos.round()
    idx = centre.long()[:, None] + torch.arange(-window, window + 1)[None, :]
    idx = idx.clamp(0, feats.shape[0] - 1)
    return feats[idx].float(), (pos - centre).float()


def order_boundaries(onset: torch.Tensor, offset: torch.Tensor, duration: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Spans made valid again after independent moves: inside the file, in order, each phone at
    least ``MIN_PHONE`` long where there is room (a forward then a backward sweep)."""
    m = onset.numel()
    on = onset.to(torch.float64).clamp(0, duration).numpy().copy()  # plain floats: the sweeps are
    off = offset.to(torch.float64).clamp(0, duration).numpy().copy()  # scalar loops over phones
    for k in range(m):
        if k:
            on[k] = max(on[k], off[k - 1])
        off[k] = max(off[k], on[k] + MIN_PHONE)
    for k in reversed(range(m)):
        off[k] = min(off[k], on[k + 1] if k + 1 < m else duration)
        on[k] = min(on[k], off[k] - MIN_PHONE)
        on[k] = max(on[k], off[k - 1] if k else 0.0)
    return torch.from_numpy(on), torch.from_numpy(off)


@torch.no_grad()
def correct_boundaries(model: BoundaryModel, feats: torch.Tensor, onset: torch.Tensor, offset: torch.Tensor,
                       phones: torch.Tensor, duration: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Phone onsets and offsets (s) moved by the boundary model; a shared boundary moves as one.

    ``feats`` are the recording's ``log_mel`` features; ``phones`` the OTTC model's token ids
    (ids past the vocabulary mark unknown speech, whose edges are left where they are).
    """
    if onset.numel() == 0:
        return onset, offset
    edge = model.cfg.edge_id
    pts = boundary_points(onset, offset, phones.clamp(max=edge), edge)
    dev = next(model.parameters()).device
    full_float32(dev)
    shifts = []
    for i in range(0, pts.time.numel(), CHUNK):  # an hour has ~50k boundaries: windows of all at once take GBs
        windows, frac = feature_windows(feats, pts.time[i:i + CHUNK], model.cfg.window)
        shifts.append(model(windows.to(dev), frac.to(dev), pts.left[i:i + CHUNK].to(dev),
                            pts.right[i:i + CHUNK].to(dev)).cpu().to(torch.float64))
    shift = torch.cat(shifts)
    unknown = phones >= edge  # unknown speech (<unk>): its edges come from the anchoring path and stay
    shift[unknown[pts.phone]] = 0.0
    k_on = pts.phone[pts.is_onset]
    shift[torch.nonzero(pts.is_onset).flatten()[unknown[(k_on - 1).clamp(min=0)] & (k_on > 0)]] = 0.0
    moved = pts.time + shift
    on, off = onset.to(torch.float64).clone(), offset.to(torch.float64).clone()
    on[pts.phone[pts.is_onset]] = moved[pts.is_onset]
    off[pts.phone[~pts.is_onset]] = moved[~pts.is_onset]
    joined = pts.left[pts.is_onset] != model.cfg.edge_id
    k = torch.nonzero(joined).flatten()
    off[k - 1] = on[k]
    return order_boundaries(on, off, duration)
