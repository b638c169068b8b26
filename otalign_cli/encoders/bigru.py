"""The bundled encoder: two 1-D convolutions (the second halves the frame rate to 20 ms) and a
bidirectional GRU. Its cost is linear in the length of the audio, and at 1.4 M parameters it
runs hundreds of times faster than real time on two CPU cores."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F
from torch import nn

if TYPE_CHECKING:
    from otalign_cli.model import ModelConfig


class BiGRUEncoder(nn.Module):
    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.conv1 = nn.Conv1d(cfg.n_mels, cfg.conv_dim, kernel_size=5, padding=2)
        self.conv2 = nn.Conv1d(cfg.conv_dim, cfg.conv_dim, kernel_size=5, stride=cfg.subsample, padding=2)
        self.rnn = nn.GRU(cfg.conv_dim, cfg.hidden, num_layers=cfg.layers, batch_first=True,
                          bidirectional=True, dropout=cfg.dropout if cfg.layers > 1 else 0.0)
        self.drop = nn.Dropout(cfg.dropout)
        self.subsample = cfg.subsample
        self.out_dim = 2 * cfg.hidden

    def output_lengths(self, lengths: torch.Tensor) -> torch.Tensor:
        return (lengths + self.subsample - 1) // self.subsample

    def forward(self, feats: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, K, n_mels) -> (B, N, 2 * hidden) at the output frame rate, and output lengths."""
        x = F.gelu(self.conv1(feats.transpose(1, 2)))
        # conv2 must read zeros past a padded item's end, as past the end of an item alone (the
        # conv's own padding); else gelu(bias) there changes its last frames and, through the
        # backward GRU, all of them: chunks batched on a GPU differed from one at a time by 2e-3.
        valid = torch.arange(x.shape[2], device=x.device)[None, :] < lengths.to(x.device)[:, None]
        x = F.gelu(self.conv2(x * valid[:, None, :])).transpose(1, 2)
        out_lengths = self.output_lengths(lengths)
        x = self.drop(x)
        packed = nn.utils.rnn.pack_padded_sequence(x, out_lengths.cpu(), batch_first=True, enforce_sorted=False)
        y, _ = self.rnn(packed)
        y, _ = nn.utils.rnn.pad_packed_sequence(y, batch_first=True, total_length=x.shape[1])
        return self.drop(y), out_lengths
