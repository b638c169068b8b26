"""The frame model's re-segmentation (alignment.frames) and the spectral landmarks
(alignment.landmarks), on inputs whose right answer is known."""

import numpy as np
import pytest
import torch
from torch import nn

from otalign_cli.alignment.frames import (NEG, FrameConfig, FrameModel, _states, _viterbi, frame_labels,
                                          frame_scores, resegment)
from otalign_cli.alignment.landmarks import spectral_change, snap_to_landmarks

CFG = FrameConfig(phones=("AA", "S", "T"), window=0.05, pull=1.0, prior_scale=0.0)


class Oracle(FrameModel):
    """Log-posteriors read off the features: column c of the features holds class c's evidence."""

    def __init__(self, cfg):
        super().__init__(cfg)

    def forward(self, feats):
        return torch.log_softmax(8.0 * feats[..., :self.cfg.classes], -1)


def _feats(truth_classes: list[int], n_mels: int = 80) -> torch.Tensor:
    x = torch.zeros(len(truth_classes), n_mels)
    x[torch.arange(len(truth_classes)), torch.tensor(truth_classes)] = 1.0
    return x


def test_frame_labels_split_phones_into_states_and_keep_pauses():
    lab = frame_labels(CFG, ["AA", "<unk>", "S"], [0.10, 0.30, 0.40], [0.25, 0.40, 0.46], 50)
    pause = CFG.classes - 1
    assert lab[:10].tolist() == [pause] * 10
    assert lab[10:25].tolist() == [0] * 5 + [1] * 5 + [2] * 5  # AA: begin, middle, end
    assert lab[30:40].tolist() == [-1] * 10  # <unk>: not trained on
    assert lab[40:46].tolist() == [3, 3, 4, 4, 5, 5] and lab[46:].tolist() == [pause] * 4


def test_banded_viterbi_equals_the_dense_one():
    rng = np.random.default_rng(0)
    seg_cls = [-1, 0, 1, -1, 2, -1]
    optional = [True, False, False, True, False, True]
    n = 40
    lo = [0, 0, 8, 15, 15, 30]
    hi = [6, 20, 25, 30, 40, 40]
    st = _states(seg_cls, lo, hi, optional, CFG)
    score = rng.normal(size=(n, CFG.classes))
    path = _viterbi(score, st, [0, 1], [len(st.cls) - 1, len(st.cls) - 2])
    # dense reference: every state at every frame, disallowed cells at NEG
    s_n = len(st.cls)
    allowed = (np.arange(n)[:, None] >= st.lo[None]) & (np.arange(n)[:, None] < st.hi[None])
    emit = np.where(allowed, score[:, st.cls], NEG)
    v = np.full(s_n, NEG)
    v[[0, 1]] = emit[0, [0, 1]]
    best_total = None
    for t in range(1, n):
        skip = np.where(st.skip_from >= 0, v[np.maximum(st.skip_from, 0)], NEG)
        v = np.maximum(np.maximum(v, np.concatenate([[NEG], v[:-1]])), skip) + emit[t]
    best_total = max(v[-1], v[-2])
    total = sum(score[t, st.cls[s]] for t, s in enumerate(path))
    assert total == pytest.approx(best_total)
    assert all(st.lo[s] <= t < st.hi[s] for t, s in enumerate(path))


def test_resegment_moves_boundaries_to_the_evidence():
    # truth: pause 0-0.2 s, AA 0.2-0.5, S 0.5-0.7, T 0.7-0.8, pause to 1.0
    cls = [9] * 20 + [0] * 10 + [1] * 10 + [2] * 10 + [3] * 7 + [4] * 7 + [5] * 6 + [6] * 4 + [7] * 3 + [8] * 3 + [9] * 20
    model = Oracle(CFG)
    feats = _feats(cls)
    onset = torch.tensor([0.22, 0.47, 0.73], dtype=torch.float64)  # each edge 20-30 ms off
    offset = torch.tensor([0.47, 0.73, 0.78], dtype=torch.float64)
    on, off = resegment(model, feats, onset, offset, ["AA", "S", "T"], [True, True, True], 1.0)
    assert on.tolist() == pytest.approx([0.2, 0.5, 0.7], abs=0.006)
    assert off.tolist() == pytest.approx([0.5, 0.7, 0.8], abs=0.006)
    half = FrameModel.__new__(Oracle)
    nn.Module.__init__(half)
    Oracle.__init__(half, FrameConfig(**{**CFG.__dict__, "pull": 0.5}))
    on_half, _ = resegment(half, feats, onset, offset, ["AA", "S", "T"], [True, True, True], 1.0)
    assert on_half.tolist() == pytest.approx([0.21, 0.485, 0.715], abs=0.006)  # half-way


def test_resegment_leaves_unknown_speech_alone_and_the_phones_around_it_inside():
    model = Oracle(CFG)
    onset = torch.tensor([0.1, 0.3, 0.45], dtype=torch.float64)
    offset = torch.tensor([0.3, 0.45, 0.5], dtype=torch.float64)
    # AA everywhere before the unknown stretch, S from 0.45 s on
    on, off = resegment(model, _feats([0] * 45 + [1] * 15), onset, offset, ["AA", "<unk>", "S"], [True] * 3, 0.6)
    assert float(on[1]) == 0.3 and float(off[1]) == 0.45  # as the anchoring path gave it
    assert float(on[0]) == pytest.approx(0.05, abs=0.006) and float(off[0]) == pytest.approx(0.3)  # half-way to 0
    assert float(on[2]) == pytest.approx(0.45) and 0.45 < float(off[2]) <= 0.6  # S kept after the unknown stretch


def test_frame_scores_run_the_model_on_training_sized_chunks_with_context():
    import otalign_cli.alignment.frames as frames

    torch.manual_seed(0)
    model = FrameModel(FrameConfig(hidden=32)).eval()
    prior = model.cfg.prior_scale * model.log_prior.numpy()[None]
    short = torch.randn(300, 80)  # shorter than a chunk: one pass
    with torch.no_grad():
        assert np.abs(frame_scores(model, short) - (model(short[None])[0].numpy() - prior)).max() < 1e-5
    feats = torch.randn(1000, 80)
    scores = frame_scores(model, feats)
    c, k = frames.CHUNK, frames.CONTEXT
    with torch.no_grad():  # the second chunk's frames come from its window, context included
        window = model(feats[c - k:2 * c + k][None])[0].numpy() - prior
    assert np.abs(scores[c:2 * c] - window[k:k + c]).max() < 1e-5


def _noise_then_tone(change_at: float, seconds: float = 1.0, sr: int = 16000) -> np.ndarray:
    rng = np.random.default_rng(1)
    t = np.arange(int(seconds * sr)) / sr
    x = np.where(t < change_at, 0.1 * rng.standard_normal(t.size), 0.3 * np.sin(2 * np.pi * 220 * t))
    return x.astype(np.float32)


def test_landmarks_pull_a_phone_boundary_half_way_to_an_abrupt_change():
    audio = _noise_then_tone(0.500)
    change = spectral_change(audio)
    assert abs(int(np.argmax(change)) * 0.005 - 0.5) <= 0.005
    onset = torch.tensor([0.2, 0.512], dtype=torch.float64)
    offset = torch.tensor([0.512, 0.8], dtype=torch.float64)
    on, off = snap_to_landmarks(onset, offset, change, 1.0)
    assert on[1] == off[0] and 0.503 <= float(on[1]) <= 0.509  # 12 ms off -> about 6 ms off
    assert float(on[0]) == 0.2 and float(off[1]) == 0.8  # edges that no phone shares stay


def test_landmarks_leave_pause_edges_and_flat_stretches():
    audio = _noise_then_tone(0.500)
    change = spectral_change(audio)
    gap_on = torch.tensor([0.2, 0.512], dtype=torch.float64)
    gap_off = torch.tensor([0.49, 0.8], dtype=torch.float64)  # a pause 0.49-0.512: endpoints' edges
    on, off = snap_to_landmarks(gap_on, gap_off, change, 1.0)
    assert torch.equal(on, gap_on) and torch.equal(off, gap_off)
    flat_on = torch.tensor([0.1, 0.3], dtype=torch.float64)  # inside the noise: nothing stands out near 0.3
    flat_off = torch.tensor([0.3, 0.45], dtype=torch.float64)
    on, _ = snap_to_landmarks(flat_on, flat_off, change, 1.0)
    assert abs(float(on[1]) - 0.3) <= 0.0075


def test_a_squeezed_stretch_does_not_stop_the_rest_of_the_file():
    """Four phones in 40 ms cannot hold three states each, so no path fits the whole file; the
    file is read piece by piece between pauses and the other piece still moves."""
    cls = [9] * 20 + [0] * 10 + [1] * 10 + [2] * 10 + [3] * 7 + [4] * 7 + [5] * 6 + [9] * 30 + [0] * 4 + [9] * 26
    model = Oracle(CFG)
    onset = torch.tensor([0.22, 0.47, 0.80, 0.81, 0.82, 0.83], dtype=torch.float64)  # the first two 20-30 ms off
    offset = torch.tensor([0.47, 0.70, 0.81, 0.82, 0.83, 0.84], dtype=torch.float64)
    phones = ["AA", "S", "AA", "AA", "AA", "AA"]
    on, off = resegment(model, _feats(cls), onset, offset, phones, [True, True, False, False, False, True], 1.1)
    assert on[:2].tolist() == pytest.approx([0.2, 0.5], abs=0.006) and float(off[1]) == pytest.approx(0.7, abs=0.006)
    assert on[2:].tolist() == pytest.approx(onset[2:].tolist())  # the squeezed piece keeps its times
