"""Boundary accuracy on degraded copies of the dev set: telephone band, noise, reverberation (run by hand).

The dev utterances of ``bench/dev_eval.py``, each degraded three ways, aligned with the refine
readout with and without the model's boundary model (and the CTC twin). The degradations are
written here, not taken from ``otalign_cli.augment``, so the test does not replay the training
augmentation: an 8 kHz band (soxr down and up), white noise at 10 dB SNR, and a room response
with RT60 0.55 s and a direct-to-reverberant ratio of +3 dB. Appends to RESULTS.md:

    python bench/degraded_audio.py data/synth data/synth2 --limit 60
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import soxr
import torch
from results import report

from otalign_cli.devset import evaluate, with_boundary_model
from otalign_cli.models import load_models
from otalign_cli.pipeline import DEFAULT_PASSES
from otalign_cli.train import load_corpus

RATE = 16000


def telephone_band(a: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return soxr.resample(soxr.resample(a, RATE, 8000), 8000, RATE)[: len(a)]


def white_noise(a: np.ndarray, rng: np.random.Generator, snr_db: float = 10.0) -> np.ndarray:
    return a + rng.normal(0, np.sqrt(np.mean(a**2) / 10 ** (snr_db / 10)), len(a))


def room(a: np.ndarray, rng: np.random.Generator, rt60: float = 0.55, drr_db: float = 3.0) -> np.ndarray:
    t = np.arange(int(rt60 * RATE)) / RATE
    tail = rng.normal(0, 1, len(t)) * np.exp(-6.9 * t / rt60)
    tail[0] = 0.0
    ir = tail.copy()
    ir[0] = np.sqrt(10 ** (drr_db / 10) * np.sum(tail**2))
    y = np.convolve(a, ir)[: len(a)]
    return y / (np.abs(y).max() + 1e-9) * np.abs(a).max()


DEGRADATIONS: dict[str, Callable[[np.ndarray, np.random.Generator], np.ndarray]] = {
    "clean": lambda a, rng: a,
    "8 kHz band": telephone_band,
    "white noise, 10 dB SNR": white_noise,
    "room, RT60 0.55 s, DRR +3 dB": room,
}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("corpus", type=Path, nargs="+")
    ap.add_argument("--limit", type=int, default=60, help="dev utterances per corpus")
    ap.add_argument("--model", type=Path)
    ap.add_argument("--ctc-model", type=Path)
    ap.add_argument("--passes", type=int, default=DEFAULT_PASSES)
    args = ap.parse_args()
    torch.set_num_threads(2)
    m = load_models(args.model, args.ctc_model)
    ottc, meta, ctc = m.ottc, m.ottc_meta, m.ctc
    clean = [e for root in args.corpus for e in load_corpus(root, limit=args.limit, split="dev")]
    rows = []
    for name, degrade in DEGRADATIONS.items():
        rng = np.random.default_rng(0)
        examples = []
        for e in clean:
            d = type(e)(**{**e.__dict__})
            d.audio = degrade(e.audio.astype(np.float64), rng).astype(np.float32)
            examples.append(d)
        results = {**evaluate(ottc, examples, with_boundary_model(ottc, ["refine"]), args.passes),
                   **evaluate(ctc, examples, [])}
        for r, v in results.items():
            p, w = v["phones"], v["words"]
            rows.append(f"| {name} | {'CTC twin (Viterbi)' if r == 'ctc' else 'OT, ' + r} | {p['mean_ms']:.1f} "
                        f"| {p['within_20ms']:.1f} | {w['mean_ms']:.1f} | {w['within_20ms']:.1f} | {w['within_50ms']:.1f} "
                        f"| {p['delay_mean_ms']:+.1f} |")
            print(rows[-1], flush=True)
    report([f"\n## Degraded audio ({time.strftime('%Y-%m-%d')}, model {meta['name']} {meta['weights_sha256'][:12]})\n",
            f"{len(clean)} dev utterances of {', '.join(map(str, args.corpus))}, each degraded. Command: "
            f"`python bench/degraded_audio.py {' '.join(map(str, args.corpus))} --limit {args.limit}`.\n",
            "| audio | aligner | PBE mean ms | PBE <= 20 ms % | WBE mean ms | WBE <= 20 ms % | WBE <= 50 ms % "
            "| phone onset delay mean ms |", "|---|---|---|---|---|---|---|---|", *rows])


if __name__ == "__main__":
    main()
