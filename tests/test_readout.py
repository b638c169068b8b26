"""Each readout on constructed inputs with known answers."""

import pytest
import torch

from otalign_cli.alignment.ctc import ctc_spans, cuts_from_guide
from otalign_cli.alignment.ot import monotone_plan, plan_cost
from otalign_cli.alignment.spans import dropped_frames, ot_spans, ot_token_of_frame, refine_alpha, viterbi_spans


def test_plain_readout_uniform_alpha_gives_equal_spans():
    sp = ot_spans(torch.ones(12), 4)
    assert sp.onset.tolist() == pytest.approx([0, 3, 6, 9])
    assert sp.offset.tolist() == pytest.approx([3, 6, 9, 12])


def test_plain_readout_interpolates_inside_frames():
    sp = ot_spans(torch.ones(10), 3)  # boundaries at 10/3 and 20/3 frames
    assert sp.onset[1].item() == pytest.approx(10 / 3)
    assert sp.offset[1].item() == pytest.approx(20 / 3)


def test_dropped_frames_become_gaps_not_onsets():
    alpha = torch.tensor([1.0, 1.0, 0.0, 0.0, 0.0, 1.0, 1.0])  # token 0 = frames 0-1, token 1 = 5-6
    sp = ot_spans(alpha, 2)
    assert sp.offset[0].item() == pytest.approx(2.0)  # tie on the frame edge before the gap
    assert sp.onset[1].item() == pytest.approx(5.0)  # onset after the gap, not at its start
    assert dropped_frames(alpha).tolist() == [False, False, True, True, True, False, False]


def test_tiny_alpha_counts_as_dropped():
    alpha = torch.tensor([1.0, 1.0, 1e-4, 1.0, 1.0])
    assert dropped_frames(alpha).tolist() == [False, False, True, False, False]
    sp = ot_spans(alpha, 2)
    assert sp.offset[0].item() == pytest.approx(2.0) and sp.onset[1].item() == pytest.approx(3.0)


def _posteriors(bounds, v, n, sil_frames=()):
    lp = torch.full((n, v), -20.0)
    for tok, (a, b) in enumerate(bounds):
        lp[a:b, tok] = 0.0
    for f in sil_frames:
        lp[f] = -20.0
        lp[f, v - 1] = 0.0
    return lp


def test_viterbi_finds_posterior_boundaries():
    lp = _posteriors([(0, 3), (3, 7), (7, 10)], 4, 10)
    sp = viterbi_spans(lp, torch.tensor([0, 1, 2]))
    assert sp.onset.tolist() == [0, 3, 7] and sp.offset.tolist() == [3, 7, 10]


def test_viterbi_optional_silence_between_words_only():
    lp = _posteriors([(0, 3), (3, 5), (7, 10)], 4, 10, sil_frames=(5, 6))
    sp = viterbi_spans(lp, torch.tensor([0, 1, 2]), word_end=torch.tensor([False, True, True]), sil_id=3)
    assert sp.onset.tolist() == [0, 3, 7] and sp.offset.tolist() == [3, 5, 10]


def test_banded_viterbi_equals_full_when_path_inside_band():
    gen = torch.Generator().manual_seed(3)
    n, m = 120, 30
    lp = torch.log_softmax(torch.randn(n, m + 1, generator=gen) * 3, -1)
    y = torch.arange(m)
    full = viterbi_spans(lp, y, sil_id=m)
    band = viterbi_spans(lp, y, sil_id=m, center=ot_token_of_frame(torch.ones(n), m), band=2 * (2 * m + 1))
    assert torch.equal(full.onset, band.onset) and torch.equal(full.offset, band.offset)
    narrow = viterbi_spans(_posteriors([(4 * j, 4 * j + 4) for j in range(m)], m + 1, n), y, sil_id=m,
                           center=ot_token_of_frame(torch.ones(n), m), band=8)
    assert narrow.onset.tolist() == [4 * j for j in range(m)]


def test_refinement_lowers_the_transcript_cost_and_moves_boundary():
    lp = torch.log_softmax(_posteriors([(0, 7), (7, 10)], 2, 10), -1)
    y = torch.tensor([0, 1])
    alpha = torch.ones(10)
    refined = refine_alpha(alpha, lp, y, steps=60, lr=0.2, pull=0.0)

    def cost(a):
        return float(plan_cost(monotone_plan(a[None], torch.tensor([10]), torch.tensor([2])), lp[None], y[None]))

    assert cost(refined) < cost(alpha) * 0.5
    assert abs(ot_spans(refined, 2).offset[0].item() - 7) < abs(ot_spans(alpha, 2).offset[0].item() - 7)


def test_refinement_is_stable_under_rounding_sized_changes():
    """Real speech through the bundled model: log-probabilities changed by 1e-5 (what a batched
    matrix product or another machine changes) must not move the refined boundaries. With a
    fixed step the last iterate circled the cost's kinks and moved them by 0.085 frames here
    (by up to 3.5 frames on other files); with the decaying step they move by under 0.001."""
    from conftest import EXAMPLE_TXT, EXAMPLE_WAV
    from otalign_cli.alignment.anchors import target_ids
    from otalign_cli.alignment.readouts.refine import gate
    from otalign_cli.models import load_models
    from otalign_cli.pipeline import forward, prepare

    model = load_models(with_ctc=False).ottc
    p = prepare(EXAMPLE_WAV, EXAMPLE_TXT, None, model.cfg.language)
    out = forward(model, p.feats, "cpu")
    y = target_ids(p.pron.phones, {t: i for i, t in enumerate(model.cfg.vocab)})
    alpha = gate(out.alpha, out.log_probs, model.cfg.vocab)
    onsets = ot_spans(refine_alpha(alpha, out.log_probs, y), len(y)).onset
    gen = torch.Generator().manual_seed(0)
    for _ in range(3):
        lp = out.log_probs + 1e-5 * torch.randn(out.log_probs.shape, generator=gen)
        moved = ot_spans(refine_alpha(alpha, lp, y), len(y)).onset - onsets
        assert float(moved.abs().max()) < 0.01


def test_ctc_spans_and_peaky_share():
    lp = torch.full((10, 4), -20.0)
    lab = [0, 1, 0, 0, 2, 2, 0, 0, 3, 0]  # blank=0
    for t, k in enumerate(lab):
        lp[t, k] = 0.0
    sp, peaky = ctc_spans(lp, torch.tensor([1, 2, 3]))
    assert sp.onset.tolist() == [1, 4, 8] and sp.offset.tolist() == [2, 6, 9]
    assert peaky == pytest.approx(60.0)  # 6 of 10 frames on blank
    pieces, _ = ctc_spans(lp, torch.tensor([1, 2, 3]), cuts=[(0, 3, 0, 1), (3, 10, 1, 3)])
    assert torch.equal(pieces.onset, sp.onset)


def test_ctc_cuts_respect_cell_limit():
    onsets = [10.0 * k for k in range(100)]
    offsets = [10.0 * k + 8 for k in range(100)]
    first = [3 * k for k in range(100)]
    cuts = cuts_from_guide(onsets, offsets, first, n=1000, m=300, max_cells=20000)
    assert cuts[0][0] == 0 and cuts[-1][1] == 1000 and cuts[-1][3] == 300
    for (f0, f1, j0, j1), nxt in zip(cuts, cuts[1:]):
        assert f1 == nxt[0] and j1 == nxt[2]
    assert all((f1 - f0) * (2 * (j1 - j0) + 1) <= 20000 for f0, f1, j0, j1 in cuts)


def test_span_confidence_is_the_overlap_weighted_posterior():
    from otalign_cli.alignment.spans import Spans
    from otalign_cli.alignment.confidence import span_confidence

    probs = torch.tensor([[0.9, 0.1], [0.5, 0.5], [0.2, 0.8], [0.2, 0.8]])
    spans = Spans(torch.tensor([0.0, 1.5], dtype=torch.float64), torch.tensor([1.5, 4.0], dtype=torch.float64))
    conf = span_confidence(probs.log(), torch.tensor([0, 1]), spans)
    assert conf[0].item() == pytest.approx((0.9 * 1 + 0.5 * 0.5) / 1.5)
    assert conf[1].item() == pytest.approx((0.5 * 0.5 + 0.8 + 0.8) / 2.5)


def test_snap_gives_a_pause_to_no_token():
    from otalign_cli.alignment.spans import snap_to_pauses

    # token 0: frames 0-3 (mass 4); token 1 starts with a sliver (frame 4, mass 0.5), then a 5-frame
    # pause, then frames 10-12 (mass 3.5): the plain readout starts token 1 before the pause
    alpha = torch.tensor([1.0, 1, 1, 1, 0.5, 0, 0, 0, 0, 0, 1, 1, 1.5])
    plain = ot_spans(alpha, 2)
    assert plain.onset[1].item() == pytest.approx(4.0) and plain.offset[1].item() == pytest.approx(13.0)
    snapped = snap_to_pauses(plain, alpha, min_gap=4)
    assert snapped.offset[0].item() == pytest.approx(5.0)  # token 0 takes the sliver
    assert snapped.onset[1].item() == pytest.approx(10.0)  # token 1 starts after the pause
    short = snap_to_pauses(plain, alpha, min_gap=6)  # a run shorter than min_gap (a closure) stays
    assert torch.equal(short.onset, plain.onset) and torch.equal(short.offset, plain.offset)


def test_snap_keeps_the_side_with_most_mass():
    from otalign_cli.alignment.spans import snap_to_pauses

    alpha = torch.tensor([1.0, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0.5, 1, 1, 1])  # token 1: 1.25 of its 4.75 before the pause
    snapped = snap_to_pauses(ot_spans(alpha, 2), alpha, min_gap=4)
    assert snapped.offset[0].item() == pytest.approx(6.0) and snapped.onset[1].item() == pytest.approx(10.0)


def test_shifted_passes_are_averaged_on_one_time_axis():
    from otalign_cli.alignment.readouts.refine import refine_pieces as _refine_pieces
    from otalign_cli.inference import Shifted

    vocab = ("AA", "B", "sil")
    g = torch.Generator().manual_seed(0)
    alpha = torch.rand(40, generator=g) + 0.1
    lp = torch.log_softmax(torch.randn(40, 3, generator=g), -1)
    targets = torch.tensor([0, 1, 0, 1])
    (one,) = _refine_pieces(alpha, lp, targets, [(0, 40, 0, 4)], vocab, "cpu")
    # the same outputs seen half a frame later: the average sits a quarter frame later
    (two,) = _refine_pieces(alpha, lp, targets, [(0, 40, 0, 4)], vocab, "cpu", [Shifted(alpha, lp, 0.5)])
    assert (two.onset - one.onset).tolist() == pytest.approx([0.25] * 4)
    assert (two.offset - one.offset).tolist() == pytest.approx([0.25] * 4)
    # a shorter shifted pass (one frame less) still reads every token
    (short,) = _refine_pieces(alpha, lp, targets, [(0, 40, 0, 4)], vocab, "cpu", [Shifted(alpha[1:], lp[1:], 0.5)])
    assert torch.isfinite(short.onset).all() and (short.offset > short.onset).all()


def test_readings_that_disagree_are_not_averaged():
    from otalign_cli.alignment.spans import Spans
    from otalign_cli.alignment.readouts.refine import combine_readings as _combine_readings

    first = Spans(torch.tensor([0.0, 10.0, 30.0]), torch.tensor([10.0, 20.0, 40.0]))
    # the second reading agrees on every boundary but one: token 2 moved 6 frames early, across a pause
    second = Spans(torch.tensor([0.5, 10.5, 24.0]), torch.tensor([10.5, 20.5, 40.5]))
    both = _combine_readings([first, second])
    assert both.onset.tolist() == pytest.approx([0.25, 10.25, 30.0])  # not 27, inside the pause
    assert both.offset.tolist() == pytest.approx([10.25, 20.25, 40.25])
    # per-boundary choices never make neighbours overlap
    a = Spans(torch.tensor([0.0, 10.0]), torch.tensor([10.0, 20.0]))
    b = Spans(torch.tensor([0.0, 8.5]), torch.tensor([10.8, 20.0]))  # onset of token 1 disagrees, its offset agrees
    c = _combine_readings([a, b])
    assert (c.offset[:-1] <= c.onset[1:]).all() and (c.offset >= c.onset).all()
