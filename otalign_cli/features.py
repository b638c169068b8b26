"""Log-mel features: Kaldi-compatible fbank (torchaudio) at a 10 ms hop, normalized per utterance."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torchaudio.compliance import kaldi


@dataclass(frozen=True)
class FeatureConfig:
    sample_rate: int = 16000
    num_mel_bins: int = 80
    frame_length_ms: float = 25.0
    frame_shift_ms: float = 10.0

    def to_dict(self) -> dict:
        return asdict(self)


def log_mel(samples: torch.Tensor, cfg: FeatureConfig = FeatureConfig()) -> torch.Tensor:
    """(K, num_mel_bins) features of 1-D float samples in [-1, 1]; frame k is centred at k * hop.

    ``snip_edges=False`` makes frame k centred on sample k * hop, so frame times need no offset;
    mean/variance normalization per utterance removes level and channel differences.
    """
    feats = kaldi.fbank(
        samples[None, :] * 32768.0,
        num_mel_bins=cfg.num_mel_bins,
        frame_length=cfg.frame_length_ms,
        frame_shift=cfg.frame_shift_ms,
        sample_frequency=cfg.sample_rate,
        dither=0.0,
        snip_edges=False,
        energy_floor=1.0,
    )
    return (feats - feats.mean(0)) / (feats.std(0) + 1e-5)
