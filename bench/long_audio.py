"""Hour-long recordings in one pass: time, peak memory and accuracy against length (run by hand).

Builds 5, 15 and 60 minute recordings from a corpus's dev utterances joined by pauses
(``synth.longform``), aligns each with ``otalign align`` in a fresh process (default readout and
the CTC comparison, as a user runs it) and reports wall time, peak RSS (from ``wait4``), word
boundary error of OT and CTC against the gold times, the same utterances aligned one by one, and
the OT error per sixth of the file (it must not grow along the file). Appends to RESULTS.md:

    python bench/long_audio.py data/synth2 data/synth --minutes 5 15 60 [--device cuda]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from results import report

from otalign_cli.evaluate import match_tokens
from otalign_cli.formats.textgrid import read_textgrid
from otalign_cli.models import load_models
from otalign_cli.pipeline import DEFAULT_PASSES, align_file
from otalign_cli.synth.longform import build_long_recording, corpus_utterances, read_pieces


def run_align(stem: Path, out: Path, device: str, passes: int) -> tuple[float, float]:
    """Wall seconds and peak RSS (GB) of ``otalign align`` on one long recording."""
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "otalign_cli", "align", str(stem.with_suffix(".wav")),
                             str(stem.with_suffix(".txt")), "-o", str(out), "--overwrite", "-q", "--device", device,
                             "--passes", str(passes)],
                            stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    if status != 0:
        raise SystemExit(f"align failed on {stem}: {proc.stderr.read().decode()[-400:]}")
    return wall, usage.ru_maxrss / 1024**2


def onset_errors(ref: list, hyp: list) -> tuple[np.ndarray, np.ndarray]:
    """|onset error| (s) of matched words and the reference onset of each."""
    pairs = match_tokens(ref, hyp, "words")
    return (np.array([abs(hyp[j][0] - ref[i][0]) for i, j in pairs]), np.array([ref[i][0] for i, _ in pairs]))


def boundary_errors(ref: list, hyp: list) -> np.ndarray:
    pairs = match_tokens(ref, hyp, "words")
    return np.array([abs(hyp[j][k] - ref[i][k]) for i, j in pairs for k in (0, 1)]) * 1000


def one_by_one(stem: Path, model, cache: dict, passes: int = DEFAULT_PASSES) -> list:
    """Words of each source utterance aligned alone, shifted to its place in the long file."""
    words = []
    with tempfile.TemporaryDirectory() as tmp:
        txt = Path(tmp) / "t.txt"
        for p in read_pieces(stem):
            if p.audio not in cache:
                txt.write_text(p.text, encoding="utf-8")
                res = align_file(p.audio, txt, model, None, passes=passes)
                cache[p.audio] = [(w.start, w.end, w.label) for w in res.ot.words]
            words += [(s + p.start, e + p.start, lab) for s, e, lab in cache[p.audio]]
    return words


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("corpus", type=Path, nargs="+")
    ap.add_argument("--minutes", type=float, nargs="+", default=[5, 15, 60])
    ap.add_argument("--workdir", type=Path, default=Path("data/long"))
    ap.add_argument("--device", default="cpu", help="cpu or cuda (the long files' encoder and refine)")
    ap.add_argument("--passes", type=int, default=DEFAULT_PASSES, help="shifted encoder passes of the refine readout")
    args = ap.parse_args()
    torch.set_num_threads(2)
    args.workdir.mkdir(parents=True, exist_ok=True)
    utts = [u for root in args.corpus for u in corpus_utterances(root, "dev")]
    ottc = load_models(with_ctc=False).ottc
    cache: dict = {}
    rows, drift = [], []
    for minutes in args.minutes:
        stem = args.workdir / f"long-{minutes:g}min"
        build_long_recording(utts, stem, minutes, seed=int(minutes))
        hyp_path = stem.parent / f"{stem.name}-aligned.TextGrid"
        wall, rss = run_align(stem, hyp_path, args.device, args.passes)
        duration = read_textgrid(stem.with_suffix(".TextGrid"))
        ref = duration["words"]
        hyp = read_textgrid(hyp_path)
        single = one_by_one(stem, ottc, cache, args.passes)
        e_ot, e_ctc, e_one = (boundary_errors(ref, h) for h in (hyp["words"], hyp["ctc-words"], single))
        diff = boundary_errors(single, hyp["words"])
        rows.append(f"| {minutes:g} | {wall:.0f} | {wall / minutes:.1f} | {rss:.2f} | {e_ot.mean():.1f} / "
                    f"{(e_ot <= 20).mean() * 100:.1f} / {(e_ot <= 50).mean() * 100:.1f} | {e_one.mean():.1f} / "
                    f"{(e_one <= 20).mean() * 100:.1f} / {(e_one <= 50).mean() * 100:.1f} | {diff.mean():.1f} | "
                    f"{e_ctc.mean():.1f} / {(e_ctc <= 50).mean() * 100:.1f} |")
        err, pos = onset_errors(ref, hyp["words"])
        edges = np.linspace(0, pos.max() + 1e-9, 7)
        drift.append(f"| {minutes:g} | " + " | ".join(
            f"{err[(pos >= a) & (pos < b)].mean() * 1000:.1f}" for a, b in zip(edges[:-1], edges[1:])) + " |")
        print(rows[-1], flush=True)
    report([f"## Long recordings ({time.strftime('%Y-%m-%d')}, `python bench/long_audio.py "
            f"{' '.join(map(str, args.corpus))} --device {args.device} --passes {args.passes}`, {os.cpu_count()} CPU cores)", "",
            "Dev utterances joined by 0.3-1.5 s pauses; `otalign align` (refine readout + CTC twin) in one pass.",
            "Word boundary error vs gold: mean ms / % <= 20 ms / % <= 50 ms.", "",
            "| minutes | wall s | wall s per audio minute | peak RSS GB | OT long file | OT one by one "
            "| long vs one-by-one ms | CTC long file (mean / <= 50 ms) |",
            "|---|---|---|---|---|---|---|---|", *rows, "",
            "OT word onset error (mean ms) per sixth of the file, start to end:", "",
            "| minutes | 1 | 2 | 3 | 4 | 5 | 6 |", "|---|---|---|---|---|---|---|", *drift, ""])


if __name__ == "__main__":
    main()
