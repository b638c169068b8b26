"""Encoders: features (B, K, n_mels) -> hidden states (B, N, out_dim) at the output frame rate.

Each is registered here by name; ``ModelConfig.encoder`` names the one a model uses and the
checkpoint records it. A new encoder is one module (an ``nn.Module`` taking the ``ModelConfig``,
with ``out_dim``, ``output_lengths`` and ``forward(feats, lengths) -> (hidden, lengths)``) plus
one ``register`` line below; ``otalign train --encoder NAME`` then trains it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from torch import nn

    from otalign_cli.model import ModelConfig

REGISTRY: dict[str, str] = {}  # name -> "module:class", imported when a model is built


def register(name: str, where: str) -> None:
    if name in REGISTRY:
        raise ValueError(f"encoder {name!r} is registered twice")
    REGISTRY[name] = where


def build(cfg: ModelConfig) -> nn.Module:
    if cfg.encoder not in REGISTRY:
        raise ValueError(f"unknown encoder {cfg.encoder!r}; choose from {', '.join(REGISTRY)}")
    module, cls = REGISTRY[cfg.encoder].split(":")
    return getattr(importlib.import_module(module), cls)(cfg)


register("bigru", "otalign_cli.encoders.bigru:BiGRUEncoder")

ENCODERS = tuple(REGISTRY)
