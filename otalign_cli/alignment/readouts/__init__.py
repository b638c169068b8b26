"""Readouts: how token spans are read off the OTTC model's outputs. Each is registered here, by
name, with the function that reads it (``"module:function"``, imported on first use, so the
command line lists the readouts without importing torch) and the flags the pipeline acts on.
A new readout is one module with its reading function plus one ``register`` line below.

A reading function takes (outputs, targets, word of each target, pieces, vocabulary, device)
and returns the spans of each piece (frames [f0, f1) holding tokens [j0, j1)), relative to f0;
``readouts.read.ot_readout`` drives them all the same way (pieces between anchors for long files).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from otalign_cli.registry import add, lookup, resolve

if TYPE_CHECKING:
    import torch

    from otalign_cli.alignment.spans import Spans
    from otalign_cli.inference import ModelOutput

Piece = tuple[int, int, int, int]  # frames [f0, f1) hold tokens [j0, j1)
Reader = Callable[["ModelOutput", "torch.Tensor", Sequence[int], list[Piece], tuple[str, ...], str], list["Spans"]]

DEFAULT_READOUT = "refine"
DEFAULT_PASSES = 2  # shifted encoder passes the refine readout averages (``inference.forward``)
BOUNDARY_SUFFIX = "+boundaries"  # the readout's name in outputs when the boundary model moved its times


@dataclass(frozen=True)
class Readout:
    name: str  # as given to --readout
    reader: str  # "module:function", the ``Reader``
    description: str
    anchored_when_long: bool = True  # past ``anchors.LONG_SECONDS`` it reads between anchors
    shifted_passes: bool = False  # reads the encoder's shifted passes too (``inference.forward``)
    rereads_suspects: bool = False  # suspect stretches are read again off the anchoring path
    corrected: bool = False  # boundary model and pause edges follow (``alignment.correct``), as trained

    def read(self) -> Reader:
        return resolve(self.reader)


REGISTRY: dict[str, Readout] = {}


def register(readout: Readout) -> Readout:
    return add(REGISTRY, readout.name, readout, "readout")


def get(name: str) -> Readout:
    return lookup(REGISTRY, name, "readout")


_HERE = "otalign_cli.alignment.readouts"
# in the order --help lists them
register(Readout("refine", f"{_HERE}.refine:read", "OT readout refined against the posteriors, shifted passes "
                 "averaged (default)", shifted_passes=True, rereads_suspects=True, corrected=True))
register(Readout("banded", f"{_HERE}.viterbi:read_banded", "Viterbi over the posteriors in a band around the OT path"))
register(Readout("plain", f"{_HERE}.plain:read", "the OT plan's own spans (alpha alone)", anchored_when_long=False))
register(Readout("viterbi", f"{_HERE}.viterbi:read_full", "full Viterbi over the posteriors (the reference; "
                 "O(frames x tokens))"))

READOUTS = tuple(REGISTRY)
