"""A corpus of real speech with the aligner's own alignments as its phone times (pseudo-labels).

Real speech comes with transcripts only; ``otalign train`` gives an utterance the supervised term
(frame cross-entropy and the alpha target, as the synthetic corpora get from their gold times)
when a same-stem ``.TextGrid`` lies beside it. This recipe makes that corpus from a corpus folder
and what ``otalign batch`` wrote for it: every file of the corpus is linked (audio, transcripts,
``manifest.jsonl`` with its splits, ``corpus.json``), and each utterance's TextGrid is copied
beside it, except where batch raised a suspect stretch (audio unlike the transcript there, so
its times are not to be learnt from) or failed: those stay transcript-only (OTTC loss alone).
This is Viterbi training as an HMM aligner does it on a corpus: align, then learn from the
alignment (an experiment, not adopted: README.md here).

    otalign batch data/real/ljspeech data/labels/ljspeech -f textgrid --no-ctc
    python recipes/experiments/pseudo_labels/pseudo_labels.py data/real/ljspeech data/labels/ljspeech data/pl/ljspeech
"""

from __future__ import annotations

import argparse
import os
import shutil
from pathlib import Path

from otalign_cli.batch.reports import read_suspects


def suspects(aligned: Path) -> set[str]:
    """Stems of the files ``otalign batch`` listed in ``suspects.tsv`` (read as batch reads it)."""
    return {Path(path).stem for path in read_suspects(aligned / "suspects.tsv")}


def linked_audio(corpus: Path, dest: Path) -> list[Path]:
    """Every file of ``corpus`` (audio, transcripts, manifest, corpus.json; not its TextGrids)
    linked into ``dest``; returns the audio files, each with any TextGrid an earlier run left
    beside its link removed (a file now doubted loses the times it had)."""
    dest.mkdir(parents=True, exist_ok=True)
    audio = []
    for f in sorted(corpus.iterdir()):
        if f.is_dir() or f.suffix == ".TextGrid":
            continue
        link = dest / f.name
        if not link.exists():
            os.symlink(f.resolve(), link)
        if f.suffix.lower() in (".wav", ".flac"):
            (dest / f"{f.stem}.TextGrid").unlink(missing_ok=True)
            audio.append(f)
    return audio


def build(corpus: Path, aligned: Path, dest: Path) -> tuple[int, int, int]:
    """(audio files, labelled, left transcript-only) of the pseudo-labelled corpus written to ``dest``."""
    flagged = suspects(aligned)
    grids = {g.stem: g for g in aligned.rglob("*.TextGrid")}
    audio = linked_audio(corpus, dest)
    labelled = 0
    for f in audio:
        grid = grids.get(f.stem)
        if grid is not None and f.stem not in flagged:
            shutil.copyfile(grid, dest / grid.name)
            labelled += 1
    return len(audio), labelled, len(audio) - labelled


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("corpus", type=Path, help="a corpus folder (recipes/real_speech/*.py wrote it)")
    ap.add_argument("aligned", type=Path, help="otalign batch's output for it (-f textgrid)")
    ap.add_argument("dest", type=Path)
    args = ap.parse_args()
    n, lab, left = build(args.corpus, args.aligned, args.dest)
    print(f"{args.dest}: {n} utterances, {lab} with the aligner's times, {left} transcript-only (suspect or failed)")
