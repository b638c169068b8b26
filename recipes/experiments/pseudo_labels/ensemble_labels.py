"""A corpus of real speech labelled by the mean of several aligners' alignments (for train-frames).

The frame model learns real speech from the aligner's own alignments (Viterbi training), so it
learns that aligner's habits too. Encoders trained by the same recipe with different seeds place
boundaries differently (up to 1.3 ms of word error apart on the TIMIT sample), and the mean of
their alignments was closer to human-placed boundaries than the typical one there (not than the
best; models/MODEL_CARD.md). This recipe writes
that mean as labels: every file of the corpus is linked (audio, transcripts, ``manifest.jsonl``,
``corpus.json``) and, beside each utterance, a TextGrid whose phone and word times are the mean
over the ``otalign batch`` outputs given that read the same words and phones as the first (the
others chose another pronunciation somewhere). A file that the first failed, or that any of
them listed in its ``suspects.tsv``, stays transcript-only (``otalign train-frames`` aligns it
itself).

    otalign batch data/real/ljspeech data/labels/seed0/ljspeech -f textgrid --no-ctc --model seed0.pt
    ... (one per model)
    python ensemble_labels.py data/real/ljspeech data/ens/ljspeech data/labels/seed0/ljspeech data/labels/seed1/ljspeech ...
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from pseudo_labels import linked_audio, suspects  # this folder's recipe: the corpus links, batch's suspects

from otalign_cli.errors import OtalignError
from otalign_cli.formats.textgrid import read_textgrid, write_textgrid

TIERS = ("words", "phones")


def _labels(grid: dict[str, list[tuple[float, float, str]]]) -> list[list[str]]:
    return [[x[2] for x in grid.get(tier, [])] for tier in TIERS]


def mean_tiers(grids: list[dict[str, list[tuple[float, float, str]]]]) -> tuple[dict[str, list[tuple[float, float, str]]], int]:
    """The tiers' mean times over the ``grids`` (dicts of tier -> intervals) whose labels equal
    the first's in every tier, and how many those were."""
    same = [g for g in grids if _labels(g) == _labels(grids[0])]
    out = {}
    for tier in TIERS:
        times = np.array([[x[:2] for x in g[tier]] for g in same], dtype=np.float64)  # (aligners, n, 2)
        mean = times.mean(0)
        out[tier] = [(float(a), float(b), x[2]) for (a, b), x in zip(mean, grids[0][tier])]
    return out, len(same)


def build(corpus: Path, dest: Path, aligned: list[Path]) -> tuple[int, int, int]:
    """(audio files, labelled, labelled with the mean of all) of the corpus written to ``dest``."""
    doubted = set().union(*(suspects(a) for a in aligned))
    audio = linked_audio(corpus, dest)
    labelled = full = 0
    for f in audio:
        if f.stem in doubted:
            continue
        grids = []
        for a in aligned:
            try:
                grids.append(read_textgrid(a / f"{f.stem}.TextGrid"))
            except OtalignError:  # that aligner failed this file
                if not grids:
                    break
        if not grids or any(not tier for tier in _labels(grids[0])):
            continue
        tiers, agreeing = mean_tiers(grids)
        full += agreeing == len(aligned)
        duration = max(b for g in grids for tier in g.values() for _, b, _ in tier)  # the info tier spans the file
        write_textgrid(dest / f"{f.stem}.TextGrid", tiers, duration)
        labelled += 1
    return len(audio), labelled, full


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("corpus", type=Path, help="a corpus folder (recipes/real_speech/*.py wrote it)")
    ap.add_argument("dest", type=Path)
    ap.add_argument("aligned", type=Path, nargs="+", help="otalign batch outputs for it (-f textgrid), one per aligner")
    args = ap.parse_args()
    n, k, full = build(args.corpus, args.dest, args.aligned)
    print(f"{args.dest}: {n} utterances, {k} labelled ({full} with the mean of all {len(args.aligned)} "
          f"alignments), {n - k} transcript-only")
