"""Augmentations change the sound, not where things happen in it."""

import random

import numpy as np
import pytest
import soundfile as sf
import torch

from conftest import EXAMPLE_WAV
from otalign_cli.augment import augment, band_limit, mu_law, reverberate


@pytest.fixture(scope="module")
def speech():
    audio, sr = sf.read(EXAMPLE_WAV, dtype="float32")
    assert sr == 16000
    return audio


def lag(x: torch.Tensor, y: torch.Tensor, max_lag: int = 800) -> int:
    """Shift of y against x (samples) where their cross-correlation peaks, within +-50 ms."""
    size = 2 * x.numel()
    corr = torch.fft.irfft(torch.fft.rfft(y, size) * torch.fft.rfft(x, size).conj(), size)
    lags = torch.cat([torch.arange(0, max_lag + 1), torch.arange(-max_lag, 0)])
    window = torch.cat([corr[: max_lag + 1], corr[-max_lag:]])
    return int(lags[window.argmax()])


@pytest.mark.parametrize("fn", [lambda x: reverberate(x, 0.5, 1), band_limit, mu_law])
def test_length_kept_and_nothing_moves_in_time(speech, fn):
    x = torch.from_numpy(speech)
    y = fn(x)
    assert y.shape == x.shape and torch.isfinite(y).all()
    assert abs(lag(x, y)) <= 80  # within 5 ms (early reflections pull reverb by ~3 ms): gold times stay valid
    assert not torch.allclose(y, x)


def test_band_limit_removes_high_frequencies(speech):
    x = torch.from_numpy(speech)
    spec_x, spec_y = torch.fft.rfft(x).abs(), torch.fft.rfft(band_limit(x)).abs()
    hi = slice(int(len(spec_x) * 4500 / 8000), None)  # above 4.5 kHz
    assert spec_y[hi].pow(2).sum() < 0.01 * spec_x[hi].pow(2).sum()


def test_augment_levels_are_deterministic_per_seed(speech):
    a = augment(speech, random.Random(3), "full")
    b = augment(speech, random.Random(3), "full")
    c = augment(speech, random.Random(4), "full")
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert a.abs().max() <= 1.0 and a.shape[0] == len(speech)
    with pytest.raises(ValueError, match="augmentation level"):
        augment(speech, random.Random(0), "loud")
    assert np.isfinite(augment(speech, random.Random(0), "noise").numpy()).all()
