"""The sparse monotone OT plan against a brute-force north-west-corner reference."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from otalign_cli.alignment.ot import monotone_plan, ottc_loss, plan_cost


def nw_corner(a: np.ndarray, m: int) -> np.ndarray:
    """Dense north-west-corner plan between normalized frame masses ``a`` and m uniform tokens."""
    a = a / a.sum()
    b = np.full(m, 1.0 / m)
    plan = np.zeros((len(a), m))
    ra, rb = a.copy(), b.copy()
    i = j = 0
    while i < len(a) and j < m:
        x = min(ra[i], rb[j])
        plan[i, j] += x
        ra[i] -= x
        rb[j] -= x
        if ra[i] <= 1e-15:
            i += 1
        else:
            j += 1
    return plan


def dense(plan, n: int, m: int, item: int = 0) -> np.ndarray:
    out = np.zeros((n, m))
    np.add.at(out, (plan.frame[item].numpy(), plan.token[item].numpy()), plan.mass[item].numpy())
    return out


@pytest.mark.parametrize("n,m", [(10, 3), (50, 49), (37, 37), (200, 17), (5, 1)])
def test_plan_matches_north_west_corner(n, m):
    gen = torch.Generator().manual_seed(n * 100 + m)
    alpha = torch.rand(n, generator=gen, dtype=torch.float64)
    alpha[torch.rand(n, generator=gen) < 0.3] = 0.0  # exact zeros: dropped frames
    alpha[0] = 0.5
    plan = monotone_plan(alpha[None], torch.tensor([n]), torch.tensor([m]))
    np.testing.assert_allclose(dense(plan, n, m), nw_corner(alpha.numpy(), m), atol=1e-12)


def test_batched_items_equal_single_items():
    gen = torch.Generator().manual_seed(0)
    lens_n, lens_m = [30, 12, 21], [7, 12, 3]
    alpha = torch.rand(3, 30, generator=gen, dtype=torch.float64)
    plan = monotone_plan(alpha, torch.tensor(lens_n), torch.tensor(lens_m))
    for b, (n, m) in enumerate(zip(lens_n, lens_m)):
        single = monotone_plan(alpha[b : b + 1, :n], torch.tensor([n]), torch.tensor([m]))
        np.testing.assert_allclose(dense(plan, 30, 12, b)[:n, :m], dense(single, n, m), atol=1e-12)
        assert dense(plan, 30, 12, b)[n:].sum() == 0 and dense(plan, 30, 12, b)[:, m:].sum() == 0


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(0.0, 10.0), min_size=1, max_size=60).filter(lambda x: sum(x) > 1e-3),
       st.integers(1, 60))
def test_plan_properties(weights, m):
    n = len(weights)
    alpha = torch.tensor(weights, dtype=torch.float64)
    plan = monotone_plan(alpha[None], torch.tensor([n]), torch.tensor([m]))
    g = dense(plan, n, m)
    np.testing.assert_allclose(g.sum(1), (alpha / alpha.sum()).numpy(), atol=1e-12)  # frame marginal
    np.testing.assert_allclose(g.sum(0), np.full(m, 1 / m), atol=1e-12)  # token marginal
    assert np.count_nonzero(g > 1e-15) <= n + m - 1
    nz = plan.mass[0] > 1e-15  # monotone: along the slots, frame and token never go back
    assert (plan.frame[0][nz].diff() >= 0).all() and (plan.token[0][nz].diff() >= 0).all()


def test_gradcheck_float64():
    gen = torch.Generator().manual_seed(1)
    n, m, v = 9, 4, 5
    lp = torch.log_softmax(torch.randn(1, n, v, generator=gen, dtype=torch.float64), -1)
    y = torch.tensor([[0, 2, 1, 4]])
    alpha = (torch.rand(1, n, generator=gen, dtype=torch.float64) + 0.1).requires_grad_(True)

    def f(a):
        return plan_cost(monotone_plan(a, torch.tensor([n]), torch.tensor([m])), lp, y)

    assert torch.autograd.gradcheck(f, (alpha,), eps=1e-7, atol=1e-6)


def test_ottc_loss_equals_dense_cost_per_token():
    gen = torch.Generator().manual_seed(2)
    n, m, v = 20, 6, 8
    lp = torch.log_softmax(torch.randn(1, n, v, generator=gen), -1)
    y = torch.randint(0, v, (1, m), generator=gen)
    alpha = torch.rand(1, n, generator=gen)
    g = nw_corner(alpha[0].double().numpy(), m)
    cost = -(g * lp[0].double().numpy()[:, y[0].numpy()]).sum()
    loss = ottc_loss(lp, alpha, y, torch.tensor([n]), torch.tensor([m]))
    assert float(loss) == pytest.approx(cost, rel=1e-6)  # one item: its cost, each token weighing one
