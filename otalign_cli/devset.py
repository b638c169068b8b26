"""Boundary accuracy of a model on examples with gold phone times (the dev-set figures).

The gold phone sequence is aligned (not the transcript's dictionary pronunciation), so the
figures measure where boundaries go, not pronunciation mismatches. Words are the runs of phones
between gold word boundaries.
"""

from __future__ import annotations

import time

import numpy as np
import torch

from otalign_cli.alignment.ctc import ctc_spans
from otalign_cli.alignment.readout import Spans
from otalign_cli.audio import SAMPLE_RATE
from otalign_cli.features import log_mel
from otalign_cli.metrics import boundary_errors, summarize
from otalign_cli.model import AlignmentModel
from otalign_cli.alignment.endpoints import frame_energy_db
from otalign_cli.pipeline import BOUNDARY_SUFFIX, corrected, forward, ot_readout


def word_owner(words: list[tuple[float, float]], phones: list[tuple[float, float]]) -> list[int]:
    """Index of the gold word whose span holds each phone's midpoint (-1 if none)."""
    starts = np.array([s for s, _ in words])
    ends = np.array([e for _, e in words])
    out = []
    for s, e in phones:
        mid = (s + e) / 2
        hit = np.flatnonzero((starts <= mid) & (mid < ends))
        out.append(int(hit[0]) if hit.size else -1)
    return out


def _word_spans(on: list[float], off: list[float], owner: list[int], n_words: int) -> list[tuple[float, float]]:
    first = {w: k for k, w in reversed(list(enumerate(owner)))}
    last = {w: k for k, w in enumerate(owner)}
    return [(on[first[w]], off[last[w]]) for w in range(n_words)]


def evaluate(model: AlignmentModel, examples: list, readouts: list[str], passes: int = 1) -> dict[str, dict]:
    """{readout or "ctc": {"phones": summary, "words": summary, "seconds": readout time}}.

    ``examples`` (``train.Example``) need gold phone ``intervals`` and gold ``words``; ``passes``
    shifted encoder passes feed the refine readout (``pipeline.forward``). "refine+boundaries"
    is the refine readout followed by the model's boundary model, as ``otalign align`` runs it
    (``with_boundary_model`` adds it to a list of readouts).
    """
    kind = model.cfg.kind
    names = readouts if kind == "ottc" else ["ctc"]
    if "refine" + BOUNDARY_SUFFIX in names and model.boundary_model is None:
        raise ValueError("refine+boundaries asked for, but the model carries no boundary model")
    per = {r: {"phones": [], "words": [], "seconds": 0.0} for r in names}
    vocab = {t: i for i, t in enumerate(model.cfg.vocab)}
    device = next(model.parameters()).device  # outputs come back on the CPU for the readouts
    for ex in examples:
        gold_w = ex.words or []
        owner = word_owner(gold_w, ex.intervals)
        if not gold_w or -1 in owner:
            continue
        feats = log_mel(torch.from_numpy(ex.audio))
        out = forward(model, feats, str(device), passes)
        targets = torch.tensor([vocab[p] for p in ex.phones])
        if out["log_probs"].shape[1] < len(targets):
            continue
        read: dict[str, tuple[Spans, float]] = {}  # "refine" and "refine+boundaries" share one readout
        for r in names:
            base = r.removesuffix(BOUNDARY_SUFFIX)
            if base not in read:
                t0 = time.perf_counter()
                read[base] = ((ctc_spans(out["log_probs"][0], targets)[0] if r == "ctc"
                               else ot_readout(out, targets, owner, base, model.cfg.vocab, frame_shift=model.frame_shift)),
                              time.perf_counter() - t0)
            sp, seconds = read[base]
            t0 = time.perf_counter()
            if base != r:  # as ``otalign align`` writes it: boundary model, then the pause edges
                sp = corrected(model, feats, frame_energy_db(ex.audio, SAMPLE_RATE), sp, targets,
                               len(ex.audio) / SAMPLE_RATE)
            per[r]["seconds"] += seconds + time.perf_counter() - t0
            on = (sp.onset * model.frame_shift).tolist()
            off = (sp.offset * model.frame_shift).tolist()
            per[r]["phones"].append(boundary_errors(ex.intervals, list(zip(on, off))))
            per[r]["words"].append(boundary_errors(gold_w, _word_spans(on, off, owner, len(gold_w))))
    return {r: {"phones": summarize(v["phones"]), "words": summarize(v["words"]), "seconds": v["seconds"],
                "utterances": len(v["phones"])} for r, v in per.items() if v["phones"]}


def with_boundary_model(model: AlignmentModel, readouts: list[str]) -> list[str]:
    """``readouts`` with "refine+boundaries" before "refine" where the model carries a boundary model."""
    if model.boundary_model is None or "refine" not in readouts:
        return list(readouts)
    k = readouts.index("refine")
    return [*readouts[:k], "refine" + BOUNDARY_SUFFIX, *readouts[k:]]
