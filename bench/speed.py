"""Speed of each stage on this machine (run by hand, CPU idle), as x real time, side by side.

    python bench/speed.py examples/dashwood.wav examples/dashwood.txt --repeat 8

The recording is repeated ``--repeat`` times (transcript too) to get a longer input.
"""

from __future__ import annotations

import argparse
import platform
import time
from pathlib import Path

import numpy as np
import torch

from otalign_cli.alignment.ctc import ctc_spans
from otalign_cli.audio import SAMPLE_RATE, load_audio
from otalign_cli.features import log_mel
from otalign_cli.models import load_models
from otalign_cli.alignment.correct import boundary_corrected
from otalign_cli.alignment.readouts import READOUTS
from otalign_cli.alignment.readouts.read import ot_readout
from otalign_cli.pipeline import forward
from otalign_cli.text.pronounce import pronounce_transcript
from results import report


def best_of(fn, runs: int = 3) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("audio", type=Path)
    ap.add_argument("transcript", type=Path)
    ap.add_argument("--repeat", type=int, default=8)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    samples = np.tile(load_audio(args.audio), args.repeat)
    pron = pronounce_transcript(" ".join([args.transcript.read_text()] * args.repeat))
    dur = len(samples) / SAMPLE_RATE
    m = load_models()
    ottc, ctc = m.ottc, m.ctc
    feats = log_mel(torch.from_numpy(samples))
    out = forward(ottc, feats, "cpu")
    out2 = forward(ottc, feats, "cpu", 2)
    cout = forward(ctc, feats, "cpu")
    vocab = {t: i for i, t in enumerate(ottc.cfg.vocab)}
    targets = torch.tensor([vocab[p] for p in pron.phones])
    ctargets = torch.tensor([ctc.cfg.vocab.index(p) for p in pron.phones])
    rows = [("features (fbank)", best_of(lambda: log_mel(torch.from_numpy(samples)))),
            ("OTTC encoder forward", best_of(lambda: forward(ottc, feats, "cpu"))),
            ("OTTC encoder forward, 2 shifted passes (align's default)", best_of(lambda: forward(ottc, feats, "cpu", 2))),
            ("CTC encoder forward", best_of(lambda: forward(ctc, feats, "cpu")))]
    for r in READOUTS:
        rows.append((f"readout {r}", best_of(lambda r=r: ot_readout(out, targets, pron.word_of_phone, r, ottc.cfg.vocab, frame_shift=ottc.frame_shift), 1)))
    rows.insert(4, ("readout refine, 2 passes (align's default)", best_of(
        lambda: ot_readout(out2, targets, pron.word_of_phone, "refine", ottc.cfg.vocab, frame_shift=ottc.frame_shift), 1)))
    if ottc.boundary_model is not None:
        spans = ot_readout(out2, targets, pron.word_of_phone, "refine", ottc.cfg.vocab, frame_shift=ottc.frame_shift)
        rows.insert(5, ("boundary model (after the refine readout)",
                        best_of(lambda: boundary_corrected(ottc, feats, spans, targets, dur))))
    rows.append(("CTC Viterbi (forced_align)", best_of(lambda: ctc_spans(cout.log_probs, ctargets))))
    lines = [f"\n## Speed of each stage ({time.strftime('%Y-%m-%d')})\n",
             f"{dur:.1f} s of audio ({args.audio.name} × {args.repeat}), {len(pron.phones)} phones, {args.threads} threads, "
             f"{platform.machine()}. Command: `python bench/speed.py {args.audio} {args.transcript} --repeat {args.repeat}`.\n",
             "| stage | seconds | × real time |", "|---|---|---|"]
    lines += [f"| {name} | {sec:.3f} | {dur / sec:.0f} |" for name, sec in rows]
    report(lines)


if __name__ == "__main__":
    main()
