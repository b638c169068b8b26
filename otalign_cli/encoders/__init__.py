"""Encoders: features (B, K, n_mels) -> hidden states (B, N, out_dim) at the output frame rate.

Each is registered here by name; ``ModelConfig.encoder`` names the one a model uses and the
checkpoint records it. A new encoder is one module (an ``nn.Module`` taking the ``ModelConfig``,
with ``out_dim``, ``output_lengths`` and ``forward(feats, lengths) -> (hidden, lengths)``) plus
one ``register`` line below; ``otalign train --encoder NAME`` then trains it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from otalign_cli.registry import add, lookup, resolve

if TYPE_CHECKING:
    from torch import nn

    from otalign_cli.model import ModelConfig

REGISTRY: dict[str, str] = {}  # name -> "module:class", imported when a model is built


def register(name: str, where: str) -> None:
    add(REGISTRY, name, where, "encoder")


def build(cfg: ModelConfig) -> nn.Module:
    return resolve(lookup(REGISTRY, cfg.encoder, "encoder"))(cfg)


register("bigru", "otalign_cli.encoders.bigru:BiGRUEncoder")

ENCODERS = tuple(REGISTRY)
