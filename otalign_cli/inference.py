"""Run a model over a recording of any length: overlapping chunks, batched, stitched.

The encoder's GRU is bidirectional, so a frame's output depends on the whole recording; in
practice it forgets within a few seconds. Each chunk is run with ``context`` output frames of
audio on both sides and only its centre is kept, so memory is bounded by the chunk size while
the outputs match a single pass (the test checks the posteriors). Chunks of equal length are
stacked into batches: on a GPU one batch runs many minutes of audio at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import torch

from otalign_cli.devices import full_float32
from otalign_cli.model import AlignmentModel

CHUNK_FRAMES = 1500  # output frames kept per chunk (30 s at 20 ms)
CONTEXT_FRAMES = 250  # output frames of context on each side (5 s)


class Shifted(NamedTuple):
    """The model's outputs on the features shifted by ``offset`` output frames (a whole feature
    hop, a fraction of an output frame): a second reading for the refine readout."""

    alpha: torch.Tensor  # (N',)
    log_probs: torch.Tensor  # (N', V)
    offset: float


@dataclass
class ModelOutput:
    """One recording's model outputs, on the CPU: per output frame the log-posteriors over the
    model's vocabulary (N, V) and, for an OTTC model, the transport weight alpha (N,)."""

    log_probs: torch.Tensor
    alpha: torch.Tensor | None = None
    shifted: tuple[Shifted, ...] = ()  # extra passes (``forward``), OTTC only

    @property
    def frames(self) -> int:
        return self.log_probs.shape[0]


def chunk_bounds(n_out: int, chunk: int, context: int) -> list[tuple[int, int, int, int]]:
    """Per chunk (keep_start, keep_end, run_start, run_end) in output frames; kept parts tile [0, n_out)."""
    bounds = []
    for k0 in range(0, n_out, chunk):
        k1 = min(k0 + chunk, n_out)
        bounds.append((k0, k1, max(0, k0 - context), min(n_out, k1 + context)))
    return bounds


@torch.no_grad()
def run_model(model: AlignmentModel, feats: torch.Tensor, device: str = "cpu", chunk: int = CHUNK_FRAMES,
              context: int = CONTEXT_FRAMES, batch_size: int | None = None) -> ModelOutput:
    """Model outputs for one recording's features (K, n_mels).

    ``batch_size`` chunks run per forward call (default: 1 on CPU, 32 on a GPU).
    """
    model.eval()
    full_float32(device)
    sub = model.cfg.subsample
    n_out = (feats.shape[0] + sub - 1) // sub
    bounds = chunk_bounds(n_out, chunk, context)
    if batch_size is None:
        batch_size = 32 if str(device).startswith("cuda") else 1
    pieces: dict[str, list[torch.Tensor]] = {}
    for b0 in range(0, len(bounds), batch_size):
        group = bounds[b0:b0 + batch_size]
        xs = [feats[r0 * sub:r1 * sub] for _, _, r0, r1 in group]
        lengths = torch.tensor([x.shape[0] for x in xs])
        x = torch.nn.utils.rnn.pad_sequence(xs, batch_first=True).to(device)
        out = model(x, lengths.to(device))
        for i, (k0, k1, r0, _) in enumerate(group):
            for name in ("log_probs", "alpha"):
                if name in out:
                    pieces.setdefault(name, []).append(out[name][i, k0 - r0:k1 - r0].cpu())
    return ModelOutput(torch.cat(pieces["log_probs"]), torch.cat(pieces["alpha"]) if "alpha" in pieces else None)


@torch.no_grad()
def run_model_many(model: AlignmentModel, feats: list[torch.Tensor], device: str = "cpu",
                   max_batch_frames: int = 32 * 2 * CHUNK_FRAMES) -> list[ModelOutput]:
    """Outputs of several recordings, batched by length: on a GPU one forward call runs many.

    Recordings are sorted by length and packed into batches of at most ``max_batch_frames``
    padded feature frames; a recording longer than a chunk goes through ``run_model`` alone.
    Outputs equal those of one recording at a time (the encoder masks the padding).
    """
    model.eval()
    full_float32(device)
    results: list[ModelOutput | None] = [None] * len(feats)
    sub = model.cfg.subsample
    short = [i for i, f in enumerate(feats) if f.shape[0] <= CHUNK_FRAMES * sub]
    for i in set(range(len(feats))) - set(short):
        results[i] = run_model(model, feats[i], device)
    short.sort(key=lambda i: feats[i].shape[0])
    start = 0
    while start < len(short):
        end = start + 1
        while end < len(short) and feats[short[end]].shape[0] * (end - start + 1) <= max_batch_frames:
            end += 1
        group = short[start:end]
        lengths = torch.tensor([feats[i].shape[0] for i in group])
        x = torch.nn.utils.rnn.pad_sequence([feats[i] for i in group], batch_first=True).to(device)
        out = model(x, lengths.to(device))
        for b, i in enumerate(group):
            n_out = (int(lengths[b]) + sub - 1) // sub
            results[i] = ModelOutput(out["log_probs"][b, :n_out].cpu(),
                                     out["alpha"][b, :n_out].cpu() if "alpha" in out else None)
        start = end
    return results  # type: ignore[return-value]


def forward(model: AlignmentModel, feats: torch.Tensor, device: str, passes: int = 1) -> ModelOutput:
    """Model outputs of one recording, in overlapping chunks past 30 s (see ``inference``).

    With ``passes`` > 1 (OTTC models), the features are also run shifted by 1 .. passes - 1
    feature hops, a fraction of the output frame; their outputs go under ``shifted`` for the
    refine readout to average over.
    """
    out = run_model(model, feats, device)
    return with_shifted(out, [run_model(model, feats[k:], device) for k in shift_hops(model, passes)], model)


def check_passes(passes: int, model: AlignmentModel) -> None:
    """A shift is a whole feature hop, so a model has as many distinct passes as hops per output frame."""
    if not 1 <= passes <= model.cfg.subsample:
        raise ValueError(f"--passes must be 1 to {model.cfg.subsample} for this model "
                         f"({model.cfg.subsample} feature hops per output frame), not {passes}")


def shift_hops(model: AlignmentModel, passes: int) -> range:
    """Feature hops the extra passes start at (none for a CTC model, which has no refine readout)."""
    return range(1, passes) if model.cfg.kind == "ottc" else range(0)


def with_shifted(out: ModelOutput, shifted_outs: list[ModelOutput], model: AlignmentModel) -> ModelOutput:
    """``out`` carrying the outputs of the passes that started ``k`` feature hops later, k = 1, 2, ..."""
    out.shifted = tuple(Shifted(o.alpha, o.log_probs, k / model.cfg.subsample)
                        for k, o in enumerate(shifted_outs, start=1))
    return out
