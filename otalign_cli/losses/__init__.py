"""Training losses of ``otalign train``: each is a function of one batch, registered by name.

A loss is ``fn(out, batch, model, cfg, step) -> (term or None, parts)``: ``out`` the model's
forward output (``log_probs``, ``alpha``, ``lengths``, ``ctc_log_probs``), ``batch`` a
``LossBatch``, ``cfg`` the ``TrainConfig``; ``term`` is what it adds to the loss, already
weighted (None: nothing this step), ``parts`` the unweighted values logged per step
(``otalign train --log``). A new loss is one module plus one ``register`` line below; ``otalign
train --loss NAME`` (repeatable) trains with it instead of the kind's default set. The modules
are imported on first use.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from otalign_cli.registry import add, lookup, resolve

if TYPE_CHECKING:
    import torch


@dataclass(frozen=True)
class LossBatch:
    """What the losses see of a batch besides the model's output."""

    targets: torch.Tensor  # (B, J) token ids, padded
    target_lengths: torch.Tensor  # (B,)
    intervals: list[list[tuple[float, float]] | None]  # per item, gold phone times (None: transcript only)
    aligned: list[bool] | None = None  # per item, whether its times are an aligner's output (``train.Example``)


@dataclass(frozen=True)
class Loss:
    name: str
    where: str  # "module:function"
    kinds: tuple[str, ...]  # the model kinds it can train ("ottc", "ctc")
    description: str

    def load(self) -> Callable:
        return resolve(self.where)


REGISTRY: dict[str, Loss] = {}
DEFAULTS = {"ottc": ("ottc", "ctc_aux", "supervised"), "ctc": ("ctc",)}


def register(loss: Loss) -> None:
    add(REGISTRY, loss.name, loss, "loss")


def losses_for(kind: str, names: tuple[str, ...] | None = None) -> list[Loss]:
    """The losses a model of ``kind`` trains with: ``names``, or the kind's default set;
    ``ValueError`` for an unknown one or one that does not fit the kind."""
    out = []
    for name in names or DEFAULTS[kind]:
        loss = lookup(REGISTRY, name, "loss")
        if kind not in loss.kinds:
            raise ValueError(f"loss {name!r} does not train a {kind} model (it trains {', '.join(loss.kinds)})")
        out.append(loss)
    return out


register(Loss("ottc", "otalign_cli.losses.ottc:ottc", ("ottc",),
              "the OTTC loss: the transport cost between the frames' weights and the transcript"))
register(Loss("ctc_aux", "otalign_cli.losses.ctc:ctc_aux", ("ottc",),
              "--ctc-weight x CTC on an auxiliary head (blank + phones) that only training uses"))
register(Loss("supervised", "otalign_cli.losses.ottc:supervised", ("ottc",),
              "on items with gold times: frame cross-entropy + alpha regressed to the oracle alpha, "
              "weighted by the supervised schedule"))
register(Loss("ctc", "otalign_cli.losses.ctc:ctc", ("ctc",), "plain CTC (the CTC twin)"))

LOSSES = tuple(REGISTRY)
