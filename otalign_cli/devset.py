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
from otalign_cli.alignment.endpoints import frame_energy_db
from otalign_cli.alignment.landmarks import spectral_change
from otalign_cli.alignment.correct import corrected
from otalign_cli.alignment.readouts import BOUNDARY_SUFFIX, DEFAULT_READOUT, get as get_readout
from otalign_cli.alignment.spans import Spans
from otalign_cli.audio import SAMPLE_RATE
from otalign_cli.features import log_mel
from otalign_cli.metrics import boundary_errors, summarize
from otalign_cli.model import AlignmentModel
from otalign_cli.pipeline import forward, read_spans


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
    if any(r.endswith(BOUNDARY_SUFFIX) for r in names) and model.boundary_model is None:
        raise ValueError(f"{DEFAULT_READOUT}{BOUNDARY_SUFFIX} asked for, but the model carries no boundary model")
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
        if out.frames < len(targets):
            continue
        duration = len(ex.audio) / SAMPLE_RATE
        read: dict[str, tuple[Spans, float]] = {}  # "refine" and "refine+boundaries" share one reading
        acoustics = None  # energy and spectral change, for the corrections only
        for r in names:
            t0 = time.perf_counter()
            if r == "ctc":
                sp: Spans = ctc_spans(out.log_probs, targets)[0]
                seconds = 0.0
            else:  # as ``otalign align`` reads it; "+boundaries" with the corrections, the bare name without
                base = r.removesuffix(BOUNDARY_SUFFIX)
                if base not in read:
                    read[base] = (read_spans(model, out, targets, owner, base, feats, None, duration, str(device),
                                             correct=False).spans, time.perf_counter() - t0)
                    t0 = time.perf_counter()
                sp, seconds = read[base]
                if base != r and get_readout(base).corrected:
                    if acoustics is None:
                        acoustics = frame_energy_db(ex.audio, SAMPLE_RATE), spectral_change(ex.audio)
                    sp = corrected(model, feats, acoustics[0], sp, targets, duration, owner, acoustics[1])
            per[r]["seconds"] += seconds + time.perf_counter() - t0
            on = (sp.onset * model.frame_shift).tolist()
            off = (sp.offset * model.frame_shift).tolist()
            per[r]["phones"].append(boundary_errors(ex.intervals, list(zip(on, off))))
            per[r]["words"].append(boundary_errors(gold_w, _word_spans(on, off, owner, len(gold_w))))
    return {r: {"phones": summarize(v["phones"]), "words": summarize(v["words"]), "seconds": v["seconds"],
                "utterances": len(v["phones"])} for r, v in per.items() if v["phones"]}


def with_boundary_model(model: AlignmentModel, readouts: list[str]) -> list[str]:
    """``readouts`` with "NAME+boundaries" before each NAME whose corrections the model can make
    (it carries a boundary model, and the readout is one the boundary model follows)."""
    if model.boundary_model is None:
        return list(readouts)
    return [x for r in readouts for x in ((r + BOUNDARY_SUFFIX, r) if get_readout(r).corrected else (r,))]
