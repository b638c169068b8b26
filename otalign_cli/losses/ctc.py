"""CTC: the CTC twin's loss, and the auxiliary CTC head an OTTC model may train with."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from otalign_cli.losses import LossBatch


def ctc(out: dict, batch: LossBatch, model, cfg, step: int) -> tuple[torch.Tensor, dict[str, float]]:
    """Plain CTC, blank at index 0, per target token."""
    lp, n = out["log_probs"], out["lengths"]
    loss = F.ctc_loss(lp.transpose(0, 1), batch.targets, n, batch.target_lengths, blank=0, zero_infinity=True,
                      reduction="sum") / batch.target_lengths.sum()
    return loss, {"ctc": float(loss.detach())}


def ctc_aux(out: dict, batch: LossBatch, model, cfg, step: int) -> tuple[torch.Tensor | None, dict[str, float]]:
    """``cfg.ctc_weight`` x CTC on the OTTC model's auxiliary head (its blank after the phones)."""
    if cfg.ctc_weight <= 0:
        return None, {}
    aux = F.ctc_loss(out["ctc_log_probs"].transpose(0, 1), batch.targets, out["lengths"], batch.target_lengths,
                     blank=len(model.cfg.vocab), zero_infinity=True, reduction="sum") / batch.target_lengths.sum()
    return cfg.ctc_weight * aux, {"ctc_aux": float(aux.detach())}
