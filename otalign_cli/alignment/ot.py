"""One-dimensional optimal transport between frame weights and token weights (OTTC).

In 1-D the optimal plan for any convex cost is the monotone (north-west corner) coupling.
It is computed here sparsely in O(n + m) memory: the cumulative masses of frames (A) and
tokens (B) are merged into one sorted list of breakpoints, and every slot of the merged
list is one nonzero of the plan (frame index, token index, mass). Nothing is n x m.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

PAD_VALUE = 2.0  # any value > 1 sorts padding after every real breakpoint


@dataclass
class SparsePlan:
    """Nonzeros of a batch of monotone plans, one row per item, ``n + m`` slots each.

    Slots past an item's ``n_i + m_i`` and ties have ``mass == 0``; indices there are clamped
    to valid positions so they can be used for gathers without masking.
    """

    frame: torch.Tensor  # (B, N + M) long
    token: torch.Tensor  # (B, N + M) long
    mass: torch.Tensor  # (B, N + M) float64, sums to 1 per item


def cumulative_mass(weights: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Normalized cumulative sums in float64, exactly 1 at each item's last valid position.

    float32 cumsums drift by ~1e-2 of a token's mass at 300k frames, hence float64.
    Positions past the length are set to ``PAD_VALUE``.
    """
    n = weights.shape[1]
    valid = torch.arange(n, device=weights.device)[None, :] < lengths[:, None]
    w = torch.where(valid, weights.to(torch.float64), torch.zeros((), dtype=torch.float64, device=weights.device))
    c = torch.cumsum(w, dim=1)
    total = c.gather(1, (lengths - 1).clamp(min=0)[:, None])
    c = c / total
    return torch.where(valid, c, torch.full_like(c, PAD_VALUE))


def uniform_token_mass(token_lengths: torch.Tensor, m_max: int) -> torch.Tensor:
    """Cumulative masses j/m of uniformly weighted tokens (the paper's beta), padded."""
    j = torch.arange(1, m_max + 1, device=token_lengths.device, dtype=torch.float64)[None, :]
    m = token_lengths.to(torch.float64)[:, None]
    b = j / m
    return torch.where(j <= m, b, torch.full_like(b, PAD_VALUE))


def monotone_plan(
    alpha: torch.Tensor,
    frame_lengths: torch.Tensor,
    token_lengths: torch.Tensor,
    m_max: int | None = None,
    token_cummass: torch.Tensor | None = None,
) -> SparsePlan:
    """Sparse monotone OT plan between frame weights ``alpha`` (B, N) and tokens.

    Tokens are uniform (``j / m``) unless ``token_cummass`` (B, M) gives their cumulative
    masses. Differentiable with respect to ``alpha`` through the masses; indices come from
    ``searchsorted`` and carry no gradient, as in the exact plan.
    """
    a = cumulative_mass(alpha, frame_lengths)
    if token_cummass is None:
        if m_max is None:
            m_max = int(token_lengths.max())
        b = uniform_token_mass(token_lengths, m_max)
    else:
        b = token_cummass.to(torch.float64)
    bsz, n = a.shape
    m = b.shape[1]
    # rank of A_i in the merged list: i + #(B < A_i); of B_j: j + #(A <= B_j). At ties A comes first.
    tok_of_a = torch.searchsorted(b, a, right=False)
    frame_of_b = torch.searchsorted(a, b, right=True)
    ar = torch.arange(n, device=a.device)[None, :] + tok_of_a
    br = torch.arange(m, device=a.device)[None, :] + frame_of_b
    size = n + m
    values = torch.empty(bsz, size, dtype=torch.float64, device=a.device)
    values = values.scatter(1, ar, a).scatter(1, br, b)
    frame = torch.empty(bsz, size, dtype=torch.long, device=a.device)
    frame = frame.scatter(1, ar, torch.arange(n, device=a.device).expand(bsz, n))
    # a slot that closes token j's interval lies in the first frame whose A is >= B_j
    frame = frame.scatter(1, br, torch.searchsorted(a, b, right=False))
    token = torch.empty(bsz, size, dtype=torch.long, device=a.device)
    token = token.scatter(1, ar, tok_of_a)
    token = token.scatter(1, br, torch.arange(m, device=a.device).expand(bsz, m))
    prev = torch.cat([torch.zeros(bsz, 1, dtype=torch.float64, device=a.device), values[:, :-1]], dim=1)
    used = torch.arange(size, device=a.device)[None, :] < (frame_lengths + token_lengths)[:, None]
    mass = torch.where(used, values - prev, torch.zeros((), dtype=torch.float64, device=a.device))
    frame = torch.minimum(frame, (frame_lengths - 1)[:, None])
    token = torch.minimum(token, (token_lengths - 1)[:, None])
    return SparsePlan(frame=frame, token=token, mass=mass)


def plan_cost(plan: SparsePlan, log_probs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Per-item transport cost sum_ij gamma_ij * (-log p_i[y_j]), gathered at the nonzeros only.

    ``log_probs`` is (B, N, V), ``targets`` (B, M) token ids. Returns (B,) float64.
    """
    ids = targets.gather(1, plan.token)
    lp = log_probs[torch.arange(log_probs.shape[0], device=log_probs.device)[:, None], plan.frame, ids]
    return -(plan.mass * lp.to(torch.float64)).sum(dim=1)


def ottc_loss(
    log_probs: torch.Tensor,
    alpha: torch.Tensor,
    targets: torch.Tensor,
    frame_lengths: torch.Tensor,
    target_lengths: torch.Tensor,
) -> torch.Tensor:
    """OTTC loss: each item's plan cost times its token count, over the batch's total tokens.

    Scaling by m makes each token weigh one, so long and short utterances count per token.
    """
    plan = monotone_plan(alpha, frame_lengths, target_lengths, m_max=targets.shape[1])
    cost = plan_cost(plan, log_probs, targets)
    m = target_lengths.to(torch.float64)
    return (cost * m).sum() / m.sum()
