"""Speaker adaptation at alignment time: the transcript is known, so its OTTC cost is a training signal.

A copy of the OTTC model has its output heads (token posteriors and alpha) tuned for a few steps on
the recordings of one speaker (or one file), against their own transcripts, with the encoder
frozen. The encoder runs once per recording; each step only re-runs the two linear heads, so
adaptation costs little beside the alignment itself. An L2 pull towards the original heads keeps
a few seconds of audio from taking the model far.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import torch

from otalign_cli.alignment.ot import ottc_loss
from otalign_cli.model import ALPHA_EPS, ALPHA_FUNCTIONS, AlignmentModel


@dataclass(frozen=True)
class AdaptConfig:
    steps: int = 20
    lr: float = 1e-3
    pull: float = 1.0  # weight of the L2 distance to the original heads (per parameter, summed)
    max_frames: int = 3000  # recordings longer than this many output frames (a minute) are not adapted on


def adapt_heads(model: AlignmentModel, feats: list[torch.Tensor], targets: list[torch.Tensor],
                cfg: AdaptConfig = AdaptConfig()) -> AlignmentModel:
    """A copy of ``model`` whose heads fit ``feats`` (K_i, n_mels) read as ``targets`` (m_i,) token ids.

    The boundary model (held outside the module) comes along unchanged.
    """
    if model.cfg.kind != "ottc" or not feats or cfg.steps <= 0:
        return model
    model.eval()
    dev = next(model.parameters()).device
    sub = model.cfg.subsample
    # a recording past max_frames is left out: its transcript cannot be cut to the frames kept
    usable = [(f, t) for f, t in zip(feats, targets) if f.shape[0] <= cfg.max_frames * sub]
    with torch.no_grad():
        hidden = [model.encoder(f[None].to(dev), torch.tensor([f.shape[0]]))[0][0] for f, _ in usable]
    pairs = [(h, t.to(dev)) for h, (_, t) in zip(hidden, usable) if h.shape[0] >= t.numel() > 0]
    if not pairs:
        return model
    adapted = copy.deepcopy(model)  # 1.4 M parameters: a copy costs milliseconds
    heads = [*adapted.token_head.parameters(), *adapted.alpha_head.parameters()]
    origin = [p.detach().clone() for p in heads]
    opt = torch.optim.Adam(heads, lr=cfg.lr)
    lengths = torch.tensor([h.shape[0] for h, _ in pairs], device=dev)
    h_pad = torch.nn.utils.rnn.pad_sequence([h for h, _ in pairs], batch_first=True)
    t_len = torch.tensor([t.numel() for _, t in pairs], device=dev)
    t_pad = torch.nn.utils.rnn.pad_sequence([t for _, t in pairs], batch_first=True)
    valid = torch.arange(h_pad.shape[1], device=dev)[None, :] < lengths[:, None]
    squash = ALPHA_FUNCTIONS[model.cfg.alpha]
    for _ in range(cfg.steps):
        log_probs = torch.log_softmax(adapted.token_head(h_pad), dim=-1)
        alpha = (squash(adapted.alpha_head(h_pad).squeeze(-1)) + ALPHA_EPS) * valid
        loss = ottc_loss(log_probs, alpha, t_pad, lengths, t_len).float()
        loss = loss + cfg.pull * sum(((p - o) ** 2).sum() for p, o in zip(heads, origin))
        opt.zero_grad()
        loss.backward()
        opt.step()
    for p in heads:
        p.requires_grad_(False)
    return adapted
