"""Imperfect transcripts on a long recording: errors must stay local (run by hand).

Builds a recording from dev utterances (``synth.longform``), then aligns it with the correct
transcript, with a few two-word gaps deleted, with a few three-word phrases inserted, and with
the deleted words replaced by ``<unk>``. Reports the word boundary error of the words that are
in both transcripts, the suspect stretches raised (and how many of the edits they cover), and
how close each ``<unk>`` lands to the words it replaced. Appends to RESULTS.md:

    python bench/imperfect_transcripts.py data/synth2 data/synth --minutes 5 --seed 11
"""

from __future__ import annotations

import argparse
import random
import time
from pathlib import Path

import numpy as np
import torch
from results import report

from otalign_cli.evaluate import match_tokens
from otalign_cli.formats.textgrid import read_textgrid
import otalign_cli as otalign
from otalign_cli.synth.longform import build_long_recording, corpus_utterances

INSERT = "meanwhile the committee adjourned"
NEAR = 0.3  # s: a suspect stretch this close to an edit points at it


def variants(lines: list[str], edits: int, rng: random.Random) -> tuple[dict[str, list[str]], list[int], list[int]]:
    """Transcripts (lists of lines) and the line numbers edited by deletion and by insertion."""
    long_lines = [i for i, line in enumerate(lines) if len(line.split()) >= 6]
    picked = rng.sample(long_lines, 2 * edits)
    deleted, inserted = sorted(picked[:edits]), sorted(picked[edits:])
    out = {"correct": list(lines), "deleted": list(lines), "unk": list(lines), "inserted": list(lines)}
    for i in deleted:
        words = lines[i].split()
        k = len(words) // 2
        out["deleted"][i] = " ".join(words[:k] + words[k + 2:])
        out["unk"][i] = " ".join(words[:k] + ["<unk>"] + words[k + 2:])
    for i in inserted:
        words = lines[i].split()
        k = len(words) // 2
        out["inserted"][i] = " ".join(words[:k] + [INSERT] + words[k:])
    return out, deleted, inserted


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("corpus", type=Path, nargs="+")
    ap.add_argument("--minutes", type=float, default=5)
    ap.add_argument("--edits", type=int, default=3)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--workdir", type=Path, default=Path("data/imperfect"))
    ap.add_argument("--no-frames", action="store_true", help="leave the frame model out (the default without it)")
    args = ap.parse_args()
    torch.set_num_threads(2)
    args.workdir.mkdir(parents=True, exist_ok=True)
    stem = args.workdir / f"rec-{args.minutes:g}min-{args.seed}"
    pieces = build_long_recording([u for r in args.corpus for u in corpus_utterances(r, "dev")], stem,
                                  args.minutes, seed=args.seed)
    lines = [p.text for p in pieces]
    texts, deleted, inserted = variants(lines, args.edits, random.Random(args.seed))
    gold = read_textgrid(stem.with_suffix(".TextGrid"))["words"]
    models = otalign.load_models(with_ctc=False, frames=not args.no_frames)
    rows = []
    for name, text in texts.items():
        txt = args.workdir / f"{stem.name}-{name}.txt"
        txt.write_text("\n".join(text) + "\n", encoding="utf-8")
        res = otalign.align(stem.with_suffix(".wav"), txt, models)
        hyp = [(w.start, w.end, w.label) for w in res.ot.words]
        pairs = match_tokens(gold, hyp, "words")
        err = np.array([abs(hyp[j][k] - gold[i][k]) for i, j in pairs for k in (0, 1)]) * 1000
        edited_lines = deleted if name in ("deleted", "unk") else inserted if name == "inserted" else []
        spans = [(pieces[i].start, pieces[i].start + pieces[i].duration) for i in edited_lines]
        suspects = res.stats.suspect
        covered = sum(any(s.start < b and s.end > a for s in suspects) for a, b in spans)
        located = 0  # a stretch within NEAR s of the deleted words, or of the point of insertion
        for i in edited_lines:
            words = lines[i].split()
            k = len(words) // 2
            ref = [g for g in gold if pieces[i].start <= g[0] < pieces[i].start + pieces[i].duration]
            a, b = (ref[k][0], ref[k + 1][1]) if name != "inserted" else (ref[k][0], ref[k][0])
            located += any(s.start < b + NEAR and s.end > a - NEAR for s in suspects)
        unk = ""
        if name == "unk":
            unk_words = [w for w in res.ot.words if w.label == "<unk>"]
            offs = []
            for w, i in zip(unk_words, deleted):
                words = lines[i].split()
                k = len(words) // 2
                ref = [g for g in gold if pieces[i].start <= g[0] < pieces[i].start + pieces[i].duration]
                offs += [abs(w.start - ref[k][0]), abs(w.end - ref[k + 1][1])]
            unk = f"{np.mean(offs) * 1000:.0f} / {np.max(offs) * 1000:.0f}"
        rows.append(f"| {name} | {err.mean():.1f} | {(err <= 20).mean() * 100:.1f} | {(err <= 50).mean() * 100:.1f} "
                    f"| {len(suspects)} | {covered} of {len(spans)} | {located} of {len(spans)} | {unk} |")
        print(rows[-1], flush=True)
    report([f"## Imperfect transcripts ({time.strftime('%Y-%m-%d')}, `python bench/imperfect_transcripts.py "
            f"{' '.join(map(str, args.corpus))} --minutes {args.minutes:g} --seed {args.seed}`)", "",
            f"A {args.minutes:g}-minute recording of dev utterances; {args.edits} two-word deletions, "
            f"{args.edits} insertions of \"{INSERT}\", or the deletions marked `<unk>`. Errors over the words "
            "present in both the transcript and the recording (ms).", "",
            "| transcript | WBE mean | <= 20 ms % | <= 50 ms % | suspect stretches | edited utterances with a suspect "
            f"| edits with a suspect within {NEAR:g} s | `<unk>` edge error mean / max ms |",
            "|---|---|---|---|---|---|---|---|", *rows, ""])


if __name__ == "__main__":
    main()
