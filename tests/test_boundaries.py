"""The boundary model: boundary bookkeeping on constructed spans, a model that learns a known
residual, and the checkpoint that carries it."""

import math
from pathlib import Path

import pytest
import torch

from otalign_cli.alignment.boundaries import (
    HOP,
    MIN_PHONE,
    BoundaryConfig,
    BoundaryModel,
    boundary_points,
    correct_boundaries,
    feature_windows,
    order_boundaries,
)
from otalign_cli.checkpoint import load_checkpoint, save_checkpoint
from otalign_cli.errors import OtalignError
from otalign_cli.model import AlignmentModel, ModelConfig
from otalign_cli.text.phones import PHONES, SILENCE
from otalign_cli.train_boundaries import PointSet, fit, point_accuracy, predict

VOCAB = (*PHONES, SILENCE)
EDGE = len(VOCAB)


def spans(*pairs):
    return (torch.tensor([a for a, _ in pairs], dtype=torch.float64),
            torch.tensor([b for _, b in pairs], dtype=torch.float64))


def test_points_one_per_shared_boundary_and_one_per_pause_edge():
    # phones 0-1 touch, a pause follows phone 1, phones 2-3 touch, the file ends after 3
    onset, offset = spans((0.10, 0.20), (0.20, 0.30), (0.50, 0.60), (0.60, 0.75))
    phones = torch.tensor([5, 6, 7, 8])
    p = boundary_points(onset, offset, phones, EDGE)
    got = sorted(zip(p.time.tolist(), p.left.tolist(), p.right.tolist(), p.is_onset.tolist()))
    assert got == [(0.10, EDGE, 5, True), (0.20, 5, 6, True), (0.30, 6, EDGE, False),
                   (0.50, EDGE, 7, True), (0.60, 7, 8, True), (0.75, 8, EDGE, False)]


def test_windows_are_centred_on_the_nearest_frame_and_repeat_the_edges():
    feats = torch.arange(10, dtype=torch.float32)[:, None].repeat(1, 3)  # frame k holds k
    w, frac = feature_windows(feats, torch.tensor([0.043, 0.0, 0.095], dtype=torch.float64), window=2)
    assert w[0, :, 0].tolist() == [2, 3, 4, 5, 6]
    assert frac[0].item() == pytest.approx(0.3, abs=1e-6)
    assert w[1, :, 0].tolist() == [0, 0, 0, 1, 2]  # before the first frame: frame 0 repeated
    assert w[2, :, 0].tolist() == [8, 9, 9, 9, 9] and frac[2].item() == pytest.approx(-0.5, abs=1e-6)


def test_ordering_repairs_crossed_boundaries():
    onset, offset = spans((-0.02, 0.12), (0.10, 0.11), (0.105, 0.30), (0.40, 0.52))
    on, off = order_boundaries(onset, offset, duration=0.5)
    assert on[0] == 0 and off[-1] <= 0.5
    for k in range(4):
        assert off[k] - on[k] >= MIN_PHONE - 1e-9
        if k:
            assert on[k] >= off[k - 1] - 1e-9


def constant_shift_model(seconds: float) -> BoundaryModel:
    bm = BoundaryModel(BoundaryConfig(vocab=VOCAB, window=4))
    with torch.no_grad():
        bm.mlp[-1].bias.fill_(math.atanh(seconds / bm.cfg.max_shift))
    return bm.eval()


def test_correction_moves_a_shared_boundary_as_one_and_leaves_unknown_speech():
    bm = constant_shift_model(0.02)
    feats = torch.randn(200, 80)
    onset, offset = spans((0.10, 0.30), (0.30, 0.50), (0.80, 1.00), (1.00, 1.20), (1.20, 1.40))
    phones = torch.tensor([1, 2, 3, EDGE, 4])  # EDGE: an <unk> token, past the vocabulary
    on, off = correct_boundaries(bm, feats, onset, offset, phones, duration=2.0)
    assert on[:3].tolist() == pytest.approx([0.12, 0.32, 0.82])
    assert off[:2].tolist() == pytest.approx([0.32, 0.52])  # 0 ends where 1 starts; 1's free end moves too
    assert off[0] == on[1]
    assert off[2] == on[3] == pytest.approx(1.00) and off[3] == on[4] == pytest.approx(1.20)  # around <unk>
    assert off[4] == pytest.approx(1.42)


def test_fit_learns_where_the_edge_is_from_the_features():
    """Constructed task: the feature frames jump where the gold boundary is; the aligned boundary
    is off by up to 30 ms. The model must learn to find the jump."""
    gen = torch.Generator().manual_seed(0)
    cfg = BoundaryConfig(vocab=VOCAB, window=6, channels=16, hidden=32)

    def make(n: int) -> PointSet:
        gold = 0.5 + torch.rand(n, generator=gen, dtype=torch.float64) * 0.01
        aligned = gold + (torch.rand(n, generator=gen, dtype=torch.float64) - 0.5) * 0.06
        t = torch.arange(100, dtype=torch.float64) * HOP
        feats = (t[None, :] >= gold[:, None]).float()[:, :, None].repeat(1, 1, 80)
        feats = feats + 0.05 * torch.randn(feats.shape, generator=gen)
        parts = [feature_windows(feats[i], aligned[i:i + 1], cfg.window) for i in range(n)]
        w = torch.cat([p[0] for p in parts]).half()
        frac = torch.cat([p[1] for p in parts])
        phones = torch.randint(0, len(PHONES), (2, n), generator=gen)
        return PointSet(w, frac, phones[0], phones[1], (gold - aligned).float())

    train, dev = make(2000), make(300)
    bm = fit(cfg, train, steps=400, lr=3e-3, batch=128)
    before, after = point_accuracy(dev.residual), point_accuracy(dev.residual - predict(bm, dev))
    assert after["mean_ms"] < 0.5 * before["mean_ms"]
    assert after["within_10ms"] > before["within_10ms"] + 20


def test_checkpoint_carries_the_boundary_model_only_when_asked(tmp_path: Path):
    model = AlignmentModel(ModelConfig(vocab=VOCAB, kind="ottc"))
    bm = constant_shift_model(0.01)
    model.set_boundary_model(bm)
    assert "mlp.4.bias" not in model.state_dict() and not any(k.startswith("boundary") for k in model.state_dict())
    with_b, without = tmp_path / "with.pt", tmp_path / "without.pt"
    save_checkpoint(with_b, model, "m", {"steps": 1}, boundary_training={"steps": 7, "boundaries": 10})
    save_checkpoint(without, model, "m", {"steps": 1})  # e.g. a model trained further from this one
    loaded, meta = load_checkpoint(with_b)
    assert meta["boundary_model"]["training"]["steps"] == 7 and "state_dict" not in meta["boundary_model"]
    for a, b in zip(loaded.boundary_model.state_dict().values(), bm.state_dict().values()):
        assert torch.equal(a, b)
    assert load_checkpoint(without)[0].boundary_model is None

    blob = torch.load(with_b, weights_only=True)
    blob["boundary_model"]["state_dict"]["mlp.4.bias"] += 1.0
    torch.save(blob, tmp_path / "tampered.pt")
    with pytest.raises(OtalignError, match="boundary model weights do not match"):
        load_checkpoint(tmp_path / "tampered.pt")
