"""What a word's confidence tells on real speech: words the speaker said against words they did not.

Every recording of a folder (audio with a same-stem .txt, e.g. ../shared/data/timit-dev) is
aligned three times: with its transcript as read, with one word replaced by a word from another
transcript of the folder (a substitution), and with such a word inserted (a word never said).
Reports the confidence of the words as read, of the replaced and of the inserted words, how well
confidence tells them apart (AUC: the chance that a word never said scores below a word said,
0.5 being a coin; 95 % interval by resampling files), and what share of each falls below a few
thresholds a user might pick. Appends the table to bench/RESULTS.md (``--no-report``: print only).

    python bench/confidence.py ../shared/data/timit-dev
    python bench/confidence.py data/real/cathy --limit 200   # native speech none of the bundled models heard
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from results import report

import otalign_cli as otalign
from otalign_cli.errors import OtalignError

THRESHOLDS = (0.05, 0.1, 0.2)


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
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folder", type=Path, help="recordings with same-stem .txt transcripts")
    ap.add_argument("--model", type=Path, help="OTTC checkpoint (default: the bundled one)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--limit", type=int, help="at most this many recordings, drawn with --seed")
    ap.add_argument("--no-report", action="store_true", help="print the table without appending it to RESULTS.md")
    a = ap.parse_args()
    files = sorted(f for f in a.folder.glob("*.wav") if f.with_suffix(".txt").is_file())
    if len(files) < 2:
        sys.exit(f"error: {a.folder}: needs at least two recordings with transcripts")
    rng = random.Random(a.seed)
    if a.limit is not None and len(files) > a.limit:
        files = sorted(rng.sample(files, a.limit))
    texts = {f: f.with_suffix(".txt").read_text(encoding="utf-8").split() for f in files}
    models = otalign.load_models(a.model, with_ctc=False)
    said: list[np.ndarray] = []
    replaced: list[np.ndarray] = []
    inserted: list[np.ndarray] = []
    with tempfile.TemporaryDirectory() as tmp:
        for f in files:
            words = texts[f]
            if len(words) < 3:
                continue
            own = {w.lower().strip(".,;:?!\"'") for w in words}
            others = [w for g in files if g != f for w in texts[g]
                      if len(w.strip(".,;:?!\"'")) >= 3 and w.lower().strip(".,;:?!\"'") not in own]
            k = rng.randrange(1, len(words) - 1)  # not the first or last word: those have a pause beside them
            variants = {"replaced": words[:k] + [rng.choice(others)] + words[k + 1:],
                        "inserted": words[:k] + [rng.choice(others)] + words[k:]}
            try:
                result = otalign.align(f, f.with_suffix(".txt"), models)
                scores = {}
                for name, text in variants.items():
                    txt = Path(tmp) / f"{f.stem}.{name}.txt"
                    txt.write_text(" ".join(text) + "\n", encoding="utf-8")
                    aligned = otalign.align(f, txt, models).ot.words
                    if len(aligned) != len(text):  # a token that is not a word: the index would not point at it
                        raise OtalignError(txt, f"{len(text)} tokens but {len(aligned)} words aligned")
                    scores[name] = aligned[k].confidence
            except OtalignError as err:
                print(f"skipped: {err}", file=sys.stderr)
                continue
            said.append(np.array([w.confidence for w in result.ot.words if np.isfinite(w.confidence)]))
            replaced.append(np.array([scores["replaced"]]))
            inserted.append(np.array([scores["inserted"]]))
    if not said:
        sys.exit(f"error: {a.folder}: no recording could be aligned")
    brng = np.random.default_rng(a.seed)
    ok = np.concatenate(said)
    lines = ["", f"## Word confidence on real speech: {a.folder.name} ({time.strftime('%Y-%m-%d')}, "
             f"`python bench/{Path(__file__).name} {' '.join(sys.argv[1:])}`)", "",
             f"{len(said)} recordings, model {a.model or 'bundled'}. AUC: the chance that the word never said "
             "scores below a word as read (95 % interval, files resampled).", "",
             "| words | count | median | 10th-90th percentile | AUC against the words as read | "
             + " | ".join(f"below {t:g}" for t in THRESHOLDS) + " |",
             "|---|---|---|---|---|" + "---|" * len(THRESHOLDS)]
    for name, group in (("as read", said), ("replaced by another word", replaced), ("inserted, never said", inserted)):
        v = np.concatenate(group)
        v = v[np.isfinite(v)]
        p10, p90 = np.percentile(v, [10, 90])
        auc = "–" if group is said else "{:.2f} [{:.2f}, {:.2f}]".format(_auc(v, ok), *_interval(said, group, brng))
        lines.append(f"| {name} | {len(v)} | {np.median(v):.3f} | {p10:.3f}-{p90:.3f} | {auc} | "
                     + " | ".join(f"{np.mean(v < t):.0%}" for t in THRESHOLDS) + " |")
    report(lines, append=not a.no_report)


if __name__ == "__main__":
    main()
