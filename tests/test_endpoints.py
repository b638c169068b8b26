"""Pause edges placed on the energy onset and offset (``alignment.endpoints``)."""

import numpy as np
import pytest
import torch

from otalign_cli.alignment.endpoints import REACH, frame_energy_db, snap_pause_edges

SR = 16000


def _signal(parts):
    """Concatenated (seconds, rms, kind) pieces: noise, a 200 Hz tone or white noise ("fric")."""
    rng = np.random.default_rng(0)
    out = []
    for seconds, rms, kind in parts:
        n = int(seconds * SR)
        t = np.arange(n) / SR
        x = np.sin(2 * np.pi * 200 * t) * np.sqrt(2) if kind == "tone" else rng.normal(0, 1, n)
        out.append(x * rms)
    return np.concatenate(out).astype(np.float32)


def test_energy_frames_are_centred_on_the_hop():
    x = _signal([(0.5, 0.001, "noise"), (0.5, 0.3, "tone")])
    e = frame_energy_db(x, SR)
    assert len(e) == len(x) // 80 + 1
    assert e[90] < -50 and e[110] > -15  # 0.45 s quiet, 0.55 s loud
    assert abs(np.argmax(np.diff(e)) * 0.005 - 0.5) <= 0.015


@pytest.mark.parametrize("loud", [0.3, 0.01])  # a vowel, or a faint fricative 30 dB down
def test_edges_at_pauses_move_onto_the_energy_edges(loud):
    x = _signal([(0.3, 0.0005, "noise"), (0.25, loud, "tone"), (0.25, loud, "fric"), (0.3, 0.0005, "noise")])
    e = frame_energy_db(x, SR)
    on = torch.tensor([0.24, 0.55])  # first phone starts 60 ms early; the two phones meet at 0.55
    off = torch.tensor([0.55, 0.86])  # last phone ends 60 ms late
    new_on, new_off = snap_pause_edges(on, off, e, len(x) / SR)
    assert abs(float(new_on[0]) - 0.30) <= 0.01 and abs(float(new_off[1]) - 0.80) <= 0.01
    assert float(new_off[0]) == pytest.approx(0.55) and float(new_on[1]) == pytest.approx(0.55)  # not at a pause
    late_on, _ = snap_pause_edges(torch.tensor([0.33, 0.55]), off, e, len(x) / SR)  # 30 ms late: moved back
    assert abs(float(late_on[0]) - 0.30) <= 0.01


def test_edges_stay_without_a_clear_rise_or_beyond_reach():
    x = _signal([(0.3, 0.01, "noise"), (0.5, 0.012, "fric"), (0.3, 0.01, "noise")])  # 1.6 dB: no edge to see
    e = frame_energy_db(x, SR)
    on, off = torch.tensor([0.25]), torch.tensor([0.85])
    new_on, new_off = snap_pause_edges(on, off, e, len(x) / SR)
    assert torch.equal(new_on, on.double()) and torch.equal(new_off, off.double())
    y = _signal([(0.6, 0.0005, "noise"), (0.4, 0.3, "tone"), (0.2, 0.0005, "noise")])
    far = 0.6 - REACH - 0.05  # the phone's onset, placed further from the energy onset than REACH
    new_on, _ = snap_pause_edges(torch.tensor([far]), torch.tensor([1.0]), frame_energy_db(y, SR), len(y) / SR)
    assert float(new_on[0]) == pytest.approx(far)  # the onset it would need is out of reach: left alone


def test_energy_matches_a_direct_window_sum():
    x = np.random.default_rng(1).normal(0, 0.1, SR * 3 + 37).astype(np.float32)
    hop, win = 80, 320
    padded = np.pad(x.astype(np.float64), (win // 2, win // 2))
    direct = [10 * np.log10(np.sum(padded[k * hop:k * hop + win] ** 2) / win + 1e-12) for k in range(len(x) // hop + 1)]
    assert np.allclose(frame_energy_db(x, SR), direct, atol=1e-9)
