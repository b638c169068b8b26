"""Transcript errors on real speech: what word confidence and the suspect stretches tell.

Every recording of a folder (audio with a same-stem .txt, e.g. ../shared/data/timit-dev) is
aligned as read and with its transcript made wrong in four ways, one at a time, in the middle of
the transcript: one word replaced by a word from another transcript of the folder, such a word
inserted (never said), a four-word phrase inserted, two words left out (said, but not in the
transcript). Reports the confidence of the words as read and of the words never said (AUC: the
chance that a word never said scores below a word as read, 0.5 being a coin; 95 % interval by
resampling files), the share of each below a few thresholds a user might pick, and how many
recordings get a suspect stretch: any, for the transcript as read (false alarms); within
``NEAR`` of the edit for the others. Appends the table to bench/RESULTS.md (``--no-report``:
print only).

    python bench/transcript_errors.py ../shared/data/timit-dev
    python bench/transcript_errors.py data/real/cathy --limit 200   # native speech the bundled models never heard
"""

from __future__ import annotations

import random
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from results import recordings, recordings_parser, report

import otalign_cli as otalign
from otalign_cli.alignment import suspect
from otalign_cli.errors import OtalignError
from otalign_cli.text.files import read_utf8

THRESHOLDS = (0.05, 0.1, 0.2)
PHRASE = "meanwhile the committee adjourned"  # as bench/imperfect_transcripts.py inserts
NEAR = 0.3  # s: a suspect stretch this close to an edit points at it


def _scores(words) -> np.ndarray:
    """The words' confidences; a word the model cannot score (``<unk>``: None) is left out."""
    return np.array([w.confidence for w in words if w.confidence is not None and np.isfinite(w.confidence)], dtype=float)


def _auc(low: np.ndarray, high: np.ndarray) -> float:
    """P(a value of ``low`` < a value of ``high``), ties counting half."""
    if not len(low) or not len(high):
        return float("nan")
    below = (low[:, None] < high[None, :]).mean() + 0.5 * (low[:, None] == high[None, :]).mean()
    return float(below)


def _interval(said: list[np.ndarray], unsaid: list[np.ndarray], rng: np.random.Generator, n: int = 1000) -> tuple[float, float]:
    values = []
    for _ in range(n):
        pick = rng.integers(0, len(said), len(said))
        values.append(_auc(np.concatenate([unsaid[i] for i in pick]), np.concatenate([said[i] for i in pick])))
    lo, hi = np.nanpercentile(values, [2.5, 97.5])
    return float(lo), float(hi)


def main() -> None:
    ap = recordings_parser(__doc__)
    ap.add_argument("--suspect-threshold", type=float, default=suspect.THRESHOLD,
                    help=f"the suspect detector's frame score threshold (shipped: {suspect.THRESHOLD:g})")
    ap.add_argument("--suspect-min-frames", type=int, default=suspect.MIN_FRAMES,
                    help=f"its shortest stretch in model frames (shipped: {suspect.MIN_FRAMES})")
    a = ap.parse_args()
    suspect.THRESHOLD, suspect.MIN_FRAMES = a.suspect_threshold, a.suspect_min_frames
    rng = random.Random(a.seed)
    files = recordings(a, rng, at_least=2)
    texts = {}
    for f in files:
        try:
            texts[f] = read_utf8(f.with_suffix(".txt"), "transcript").split()
        except OtalignError as err:
            print(f"skipped: {err}", file=sys.stderr)
    files = list(texts)
    models = otalign.load_models(a.model, with_ctc=False)
    said: list[np.ndarray] = []
    never: dict[str, list[np.ndarray]] = {"replaced by another word": [], "a word inserted": [], "a phrase inserted": []}
    flagged = {name: 0 for name in ("as read", *never, "two words left out")}
    with tempfile.TemporaryDirectory() as tmp:
        for f in files:
            words = texts[f]
            if len(words) < 4:
                print(f"skipped {f.name}: fewer than 4 words to edit between the first and the last", file=sys.stderr)
                continue
            own = {w.lower().strip(".,;:?!\"'") for w in words}
            others = [w for g in files if g != f for w in texts[g]
                      if len(w.strip(".,;:?!\"'")) >= 3 and w.lower().strip(".,;:?!\"'") not in own]
            if not others:
                sys.exit(f"error: {a.folder}: the other transcripts have no word to put in")
            k = rng.randrange(1, len(words) - 2)  # not the first or last words: those have a pause beside them
            edits = {"replaced by another word": words[:k] + [rng.choice(others)] + words[k + 1:],
                     "a word inserted": words[:k] + [rng.choice(others)] + words[k:],
                     "a phrase inserted": words[:k] + PHRASE.split() + words[k:],
                     "two words left out": words[:k] + words[k + 2:]}
            try:
                result = otalign.align(f, f.with_suffix(".txt"), models)
                aligned = result.ot.words
                if len(aligned) != len(words):  # a token that is not a word: indices would not point at words
                    raise OtalignError(f.with_suffix(".txt"), f"{len(words)} tokens but {len(aligned)} words aligned")
                outcomes = {}
                for name, text in edits.items():
                    txt = Path(tmp) / f"{f.stem}.txt"
                    txt.write_text(" ".join(text) + "\n", encoding="utf-8")
                    outcomes[name] = otalign.align(f, txt, models)
                    if len(outcomes[name].ot.words) != len(text):
                        raise OtalignError(txt, f"{name}: {len(text)} tokens but {len(outcomes[name].ot.words)} words aligned")
            except OtalignError as err:
                print(f"skipped: {err}", file=sys.stderr)
                continue
            said.append(_scores(aligned))
            flagged["as read"] += bool(result.stats.suspect)
            # where the edit is in the audio: the word replaced, the point of insertion, the words left out
            spans = {"replaced by another word": (aligned[k].start, aligned[k].end),
                     "a word inserted": (aligned[k].start, aligned[k].start),
                     "a phrase inserted": (aligned[k].start, aligned[k].start),
                     "two words left out": (aligned[k].start, aligned[k + 1].end)}
            for name, res in outcomes.items():
                lo, hi = spans[name]
                flagged[name] += any(s.start < hi + NEAR and s.end > lo - NEAR for s in res.stats.suspect)
                if name in never:
                    added = len(PHRASE.split()) if name == "a phrase inserted" else 1
                    never[name].append(_scores(res.ot.words[k:k + added]))
    if not said:
        sys.exit(f"error: {a.folder}: no recording could be aligned")
    brng = np.random.default_rng(a.seed)
    ok = np.concatenate(said)
    n = len(said)
    lines = ["", f"## Transcript errors on real speech: {a.folder.name} ({time.strftime('%Y-%m-%d')}, "
             f"`python bench/{Path(__file__).name} {' '.join(sys.argv[1:])}`)", "",
             f"{n} recordings, model {a.model or 'bundled'}, suspect detector {suspect.THRESHOLD:g} / {suspect.MIN_FRAMES} frames; one edit at a time, in the middle of the transcript. "
             "AUC: the chance that the word never said scores below a word as read (95 % interval, files "
             f"resampled). Suspect: the recordings with a suspect stretch (as read: any; edited: within {NEAR:g} s "
             "of the edit).", "",
             "| transcript | words scored | median confidence | 10th-90th percentile | AUC against the words as read | "
             + " | ".join(f"below {t:g}" for t in THRESHOLDS) + " | recordings with a suspect |",
             "|---|---|---|---|---|" + "---|" * len(THRESHOLDS) + "---|"]
    for name in flagged:
        group = said if name == "as read" else never.get(name)
        cells = ["–"] * (4 + len(THRESHOLDS))
        if group is not None:
            v = np.concatenate(group)
            p10, p90 = np.percentile(v, [10, 90])
            auc = "–" if group is said else "{:.2f} [{:.2f}, {:.2f}]".format(_auc(v, ok), *_interval(said, group, brng))
            cells = [str(len(v)), f"{np.median(v):.3f}", f"{p10:.3f}-{p90:.3f}", auc,
                     *(f"{np.mean(v < t):.0%}" for t in THRESHOLDS)]
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {flagged[name]} of {n} |")
    report(lines, append=not a.no_report)


if __name__ == "__main__":
    main()
