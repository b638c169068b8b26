"""Run a model over a recording of any length: overlapping chunks, batched, stitched.

The encoder's GRU is bidirectional, so a frame's output depends on the whole recording; in
practice it forgets within a few seconds. Each chunk is run with ``context`` output frames of
audio on both sides and only its centre is kept, so memory is bounded by the chunk size while
the outputs match a single pass (the test checks the posteriors). Chunks of equal length are
stacked into batches: on a GPU one batch runs many minutes of audio at once.
"""

from __future__ import annotations

import torch

from otalign_cli.model import AlignmentModel

CHUNK_FRAMES = 1500  # output frames kept per chunk (30 s at 20 ms)
CONTEXT_FRAMES = 250  # output frames of context on each side (5 s)


def chunk_bounds(n_out: int, chunk: int, context: int) -> list[tuple[int, int, int, int]]:
    """Per chunk (keep_start, keep_end, run_start, run_end) in output frames; kept parts tile [0, n_out)."""
    bounds = []
    for k0 in range(0, n_out, chunk):
        k1 = min(k0 + chunk, n_out)
        bounds.append((k0, k1, max(0, k0 - context), min(n_out, k1 + context)))
    return bounds


@torch.no_grad()
def run_model(model: AlignmentModel, feats: torch.Tensor, device: str = "cpu", chunk: int = CHUNK_FRAMES,
              context: int = CONTEXT_FRAMES, batch_size: int | None = None) -> dict[str, torch.Tensor]:
    """Model outputs for one recording's features (K, n_mels) as (1, N, ...) CPU tensors.

    ``batch_size`` chunks run per forward call (default: 1 on CPU, 32 on a GPU).
    """
    model.eval()
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
    result = {name: torch.cat(p)[None] for name, p in pieces.items()}
    result["lengths"] = torch.tensor([n_out])
    return result
