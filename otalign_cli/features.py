"""Log-mel features: Kaldi-compatible fbank (torchaudio) at a 10 ms hop, normalized per recording.

Long recordings are processed in blocks of frames so memory stays proportional to the output
(80 floats per 10 ms), not to fbank's intermediate window and spectrum buffers, which for an
hour of audio would take several GB at once. The blocks give exactly the frames of one call.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torchaudio.compliance import kaldi

BLOCK_FRAMES = 6000  # one minute of frames per fbank call
# Log-mel floor, about the level of 1-LSB noise in 16-bit audio. Digital silence (exact zeros,
# common between chapters or after editing) would otherwise sit at log(eps) = -15.9, an outlier
# that skews the normalization of the whole recording and the model never saw in training.
LOG_MEL_FLOOR = 3.0


@dataclass(frozen=True)
class FeatureConfig:
    sample_rate: int = 16000
    num_mel_bins: int = 80
    frame_length_ms: float = 25.0
    frame_shift_ms: float = 10.0

    def to_dict(self) -> dict:
        return asdict(self)


# Quiet recordings are raised to this level (the 95th percentile of the peaks of 0.1 s blocks, in
# full scale, here -26 dBFS) before the floor applies: the floor is absolute, so a recording made
# 30-50 dB low (common in the field) would lose its quieter sounds under it and align tens of ms
# off (bench/levels.py). Louder recordings are left alone (the TIMIT sample, loud peaks 0.04-0.23,
# a few raised slightly, aligns as before), and mean/variance normalization makes the gain
# irrelevant above the floor.
LOUD_PEAK = 0.05
MAX_GAIN = 1000.0  # 60 dB


def level_gain(samples: torch.Tensor, sample_rate: int = 16000) -> float:
    """The gain (>= 1) that brings the loud part of a recording to ``LOUD_PEAK``; 1 for silence."""
    n = sample_rate // 10
    if samples.numel() < n:
        peaks = samples.abs().max()[None] if samples.numel() else torch.zeros(1)
    else:  # max and -min per block: no copy of the samples (an hour is 230 MB of them)
        blocks = samples[:samples.numel() // n * n].view(-1, n)
        peaks = torch.maximum(blocks.amax(1), -blocks.amin(1))
    peaks = peaks[peaks > 0]
    if not peaks.numel():
        return 1.0
    loud = float(torch.quantile(peaks.float(), 0.95)) if peaks.numel() > 1 else float(peaks[0])
    return min(max(LOUD_PEAK / loud, 1.0), MAX_GAIN)


def _fbank(samples: torch.Tensor, cfg: FeatureConfig, snip_edges: bool, gain: float = 1.0) -> torch.Tensor:
    return kaldi.fbank(samples[None, :] * (32768.0 * gain), num_mel_bins=cfg.num_mel_bins, frame_length=cfg.frame_length_ms,
                       frame_shift=cfg.frame_shift_ms, sample_frequency=cfg.sample_rate, dither=0.0,
                       snip_edges=snip_edges, energy_floor=1.0)


def _padded_slice(samples: torch.Tensor, start: int, stop: int, pad: int) -> torch.Tensor:
    """``samples`` reflected at both ends the way Kaldi's ``snip_edges=False`` pads them, [start, stop)."""
    n = samples.numel()
    idx = torch.arange(start, stop) - pad
    idx = torch.where(idx < 0, -1 - idx, idx)
    idx = torch.where(idx >= n, 2 * n - 1 - idx, idx)
    return samples[idx.clamp(0, n - 1)]


def min_samples(cfg: FeatureConfig = FeatureConfig()) -> int:
    """The shortest input holding one whole analysis frame (Kaldi's fbank refuses anything shorter)."""
    return int(cfg.sample_rate * cfg.frame_length_ms / 1000)


def log_mel(samples: torch.Tensor, cfg: FeatureConfig = FeatureConfig(),
            block_frames: int = BLOCK_FRAMES) -> torch.Tensor:
    """(K, num_mel_bins) features of 1-D float samples in [-1, 1]; frame k is centred at k * hop.

    ``snip_edges=False`` makes frame k centred on sample k * hop, so frame times need no offset;
    mean/variance normalization over the recording removes level and channel differences.
    """
    feats = raw_log_mel(samples, cfg, block_frames)
    mean, std = _sounding_stats(feats, block_frames)
    feats -= mean
    feats /= std + 1e-5
    return feats


def raw_log_mel(samples: torch.Tensor, cfg: FeatureConfig = FeatureConfig(),
                block_frames: int = BLOCK_FRAMES) -> torch.Tensor:
    """``log_mel`` before normalization (floored at ``LOG_MEL_FLOOR``), block by block."""
    shift = int(cfg.sample_rate * cfg.frame_shift_ms / 1000)
    length = int(cfg.sample_rate * cfg.frame_length_ms / 1000)
    n_frames = (samples.numel() + shift // 2) // shift
    gain = level_gain(samples, cfg.sample_rate)
    if n_frames <= block_frames:
        feats = _fbank(samples, cfg, snip_edges=False, gain=gain)
    else:
        pad = length // 2 - shift // 2
        feats = torch.empty(n_frames, cfg.num_mel_bins)
        for f0 in range(0, n_frames, block_frames):
            f1 = min(f0 + block_frames, n_frames)
            piece = _padded_slice(samples, f0 * shift, (f1 - 1) * shift + length, pad)
            feats[f0:f1] = _fbank(piece, cfg, snip_edges=True, gain=gain)
    return feats.clamp_(min=LOG_MEL_FLOOR)


def _sounding_stats(feats: torch.Tensor, block_frames: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-bin mean and standard deviation over the frames that are not digital silence (every bin
    at the floor): an hour of exact zeros after a few seconds of speech would otherwise become
    the recording's "average" and push the speech far from anything the model saw. Summed block
    by block, so no copy of the features is made."""
    total = torch.zeros(feats.shape[1], dtype=torch.float64)
    squares = torch.zeros_like(total)
    n = 0
    for f0 in range(0, feats.shape[0], block_frames):
        block = feats[f0:f0 + block_frames]
        keep = block[(block > LOG_MEL_FLOOR + 1e-3).any(1)].double()
        total += keep.sum(0)
        squares += (keep * keep).sum(0)
        n += keep.shape[0]
    if n < 2:  # (nearly) all digital silence: the whole recording it is
        return feats.mean(0), feats.std(0)
    mean = total / n
    var = (squares - n * mean * mean).clamp(min=0) / (n - 1)
    return mean.float(), var.sqrt().float()
