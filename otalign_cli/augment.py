"""Training-time audio augmentation that keeps every time stamp where it was.

All of these act on the waveform without moving it in time (reverberation adds a decaying tail
after the direct sound), so gold phone times stay exact.
"""

from __future__ import annotations

import random

import numpy as np
import soxr
import torch
import torchaudio.functional as AF

SAMPLE_RATE = 16000
LEVELS = ("noise", "full")


def add_gain_and_noise(x: torch.Tensor, rng: random.Random, noise_prob: float) -> torch.Tensor:
    """Gain of -12..+6 dB; white noise at 10..40 dB SNR on ``noise_prob`` of the utterances."""
    x = x * 10 ** (rng.uniform(-12, 6) / 20)
    if rng.random() < noise_prob:
        snr = rng.uniform(10, 40)
        power = x.pow(2).mean().clamp(min=1e-10)
        gen = torch.Generator().manual_seed(rng.randrange(2**31))
        x = x + torch.randn(x.shape, generator=gen) * (power / 10 ** (snr / 10)).sqrt()
    return x


def reverberate(x: torch.Tensor, rt60: float, seed: int) -> torch.Tensor:
    """Convolve with a synthetic room response: direct sound + exponentially decaying noise."""
    n = int(rt60 * SAMPLE_RATE)
    gen = torch.Generator().manual_seed(seed)
    t = torch.arange(n) / SAMPLE_RATE
    rir = torch.randn(n, generator=gen) * torch.exp(-6.9 * t / rt60) * 0.3
    rir[0] = 1.0
    size = x.numel() + n - 1
    y = torch.fft.irfft(torch.fft.rfft(x, size) * torch.fft.rfft(rir, size), size)[: x.numel()]
    return y * (x.abs().max() / y.abs().max().clamp(min=1e-9))


def band_limit(x: torch.Tensor, rate: int = 8000) -> torch.Tensor:
    """Telephone-like band: down to ``rate`` and back up to 16 kHz (soxr: a sharp filter)."""
    y = soxr.resample(soxr.resample(x.numpy(), SAMPLE_RATE, rate, quality="VHQ"), rate, SAMPLE_RATE, quality="VHQ")
    y = np.pad(y, (0, max(0, x.numel() - len(y))))[: x.numel()]
    return torch.from_numpy(np.ascontiguousarray(y, dtype=np.float32))


def mu_law(x: torch.Tensor, channels: int = 256) -> torch.Tensor:
    """8-bit mu-law coding, as in G.711 telephony."""
    peak = x.abs().max().clamp(min=1e-9)
    return AF.mu_law_decoding(AF.mu_law_encoding(x / peak, channels), channels) * peak


def augment(audio: np.ndarray, rng: random.Random, level: str = "noise", noise_prob: float = 0.5) -> torch.Tensor:
    """One random augmentation of an utterance; ``level`` "full" adds reverb, band-limiting, mu-law."""
    if level not in LEVELS:
        raise ValueError(f"augmentation level must be one of {LEVELS}, not {level!r}")
    x = torch.from_numpy(audio).float()
    if level == "full":
        if rng.random() < 0.3:
            x = reverberate(x, rng.uniform(0.15, 0.8), rng.randrange(2**31))
        if rng.random() < 0.2:
            x = band_limit(x, rng.choice((8000, 11025)))
        if rng.random() < 0.15:
            x = mu_law(x)
    return add_gain_and_noise(x, rng, noise_prob).clamp(-1, 1)
