"""Score aligned TextGrids against reference TextGrids (the metrics of DESIGN section 7).

Tokens are matched in order on a minimum-edit-distance alignment of the label sequences, so a
word the hypothesis spells differently, or a pronunciation variant, costs only its own tokens;
only matched tokens are timed. (Past 25 M DP cells, an hour of phones, difflib's matching
blocks stand in.)
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from otalign_cli.errors import OtalignError
from otalign_cli.formats.textgrid import read_textgrid
from otalign_cli.metrics import bootstrap_intervals, boundary_errors, file_sums, ratios, summarize
from otalign_cli.text.phones import strip_stress

# (reference tier, hypothesis tier) pairs scored when both exist
TIER_PAIRS = (("words", "words"), ("phones", "phones"), ("words", "ctc-words"), ("phones", "ctc-phones"))


def _norm(label: str, tier: str) -> str:
    return strip_stress(label) if "phones" in tier else label.lower().strip(".,;:!?\"'")


MAX_EDIT_CELLS = 25_000_000  # above this many DP cells, fall back to difflib's matching blocks


def edit_alignment(a: list[str], b: list[str]) -> list[tuple[int, int]]:
    """Pairs (i, j) with a[i] == b[j] on a minimum-edit-distance (Levenshtein) alignment.

    Each DP row is vectorized: deletions and matches first, then insertions along the row as a
    running minimum (``D[i, j] = min_k E[k] + (j - k)``).
    """
    n, m = len(a), len(b)
    vocab = {t: k for k, t in enumerate(dict.fromkeys(a + b))}
    ia, ib = np.array([vocab[t] for t in a]), np.array([vocab[t] for t in b])
    cols = np.arange(m + 1)
    dist = np.empty((n + 1, m + 1), dtype=np.int32)
    dist[0] = cols
    for i in range(1, n + 1):
        prev = dist[i - 1]
        e = np.empty(m + 1, dtype=np.int64)
        e[0] = i
        e[1:] = np.minimum(prev[1:] + 1, prev[:-1] + (ib != ia[i - 1]))
        dist[i] = np.minimum.accumulate(e - cols) + cols
    pairs = []
    i, j = n, m
    while i > 0 and j > 0:
        if ia[i - 1] == ib[j - 1] and dist[i, j] == dist[i - 1, j - 1]:
            pairs.append((i - 1, j - 1))
            i, j = i - 1, j - 1
        elif dist[i, j] == dist[i - 1, j - 1] + 1:
            i, j = i - 1, j - 1  # substitution
        elif dist[i, j] == dist[i - 1, j] + 1:
            i -= 1
        else:
            j -= 1
    return pairs[::-1]


def match_tokens(ref: list[tuple[float, float, str]], hyp: list[tuple[float, float, str]],
                 tier: str) -> list[tuple[int, int]]:
    """(ref index, hyp index) of tokens with equal labels, in order, on an edit-distance alignment."""
    a = [_norm(x[2], tier) for x in ref]
    b = [_norm(x[2], tier) for x in hyp]
    if (len(a) + 1) * (len(b) + 1) <= MAX_EDIT_CELLS:
        return edit_alignment(a, b)
    sm = difflib.SequenceMatcher(None, a, b, autojunk=False)
    return [(blk.a + k, blk.b + k) for blk in sm.get_matching_blocks() for k in range(blk.size)]


@dataclass
class TierScore:
    errors: list[dict] = field(default_factory=list)
    ref_tokens: int = 0
    matched: int = 0

    def add(self, ref, hyp, tier: str) -> None:
        pairs = match_tokens(ref, hyp, tier)
        self.ref_tokens += len(ref)
        self.matched += len(pairs)
        if pairs:
            self.errors.append(boundary_errors([ref[i][:2] for i, _ in pairs], [hyp[j][:2] for _, j in pairs]))

    def merge(self, other: TierScore) -> None:
        """Add the tokens another score has matched (a file's, into the corpus's) without matching again."""
        self.errors += other.errors
        self.ref_tokens += other.ref_tokens
        self.matched += other.matched

    def summary(self) -> dict:
        out = summarize(self.errors) if self.errors else {}
        out["matched_pct"] = 100.0 * self.matched / self.ref_tokens if self.ref_tokens else 0.0
        out["ref_tokens"] = self.ref_tokens
        return out


def find_pairs(ref_dir: Path, hyp_dir: Path) -> tuple[list[tuple[Path, Path]], list[Path]]:
    """(reference, hypothesis) TextGrids with the same relative path, and references lacking one."""
    pairs, missing = [], []
    for ref in sorted(ref_dir.rglob("*")):
        if ref.suffix.lower() != ".textgrid" or not ref.is_file():
            continue
        hyp = hyp_dir / ref.relative_to(ref_dir)
        hyp = next((h for h in (hyp, hyp.with_suffix(".TextGrid"), hyp.with_suffix(".textgrid")) if h.is_file()), None)
        if hyp is None:
            missing.append(ref)
        else:
            pairs.append((ref, hyp))
    return pairs, missing


def evaluate_dirs(ref_dir: Path, hyp_dir: Path, with_sums: bool = False) -> dict:
    """Corpus and per-file scores; unreadable files are listed under ``errors``. ``with_sums``
    adds ``sums``: per tier pair, per file, the ``metrics.file_sums`` the intervals and the
    comparisons below resample (arrays, so not for JSON)."""
    pairs, missing = find_pairs(ref_dir, hyp_dir)
    corpus = {f"{r}->{h}": TierScore() for r, h in TIER_PAIRS}
    sums: dict[str, dict[str, np.ndarray]] = {k: {} for k in corpus}
    files, errors = [], []
    for ref_path, hyp_path in pairs:
        try:
            ref, hyp = read_textgrid(ref_path), read_textgrid(hyp_path)
        except OtalignError as err:
            errors.append(str(err))
            continue
        row = {"file": str(ref_path.relative_to(ref_dir))}
        for r_tier, h_tier in TIER_PAIRS:
            if r_tier in ref and h_tier in hyp:
                key = f"{r_tier}->{h_tier}"
                one = TierScore()
                one.add(ref[r_tier], hyp[h_tier], r_tier)
                corpus[key].merge(one)
                row[key] = one.summary()
                if one.errors:
                    sums[key][row["file"]] = file_sums(one.errors[0])
        files.append(row)
    out = {"corpus": {k: v.summary() for k, v in corpus.items() if v.ref_tokens},
           "files": files, "missing": [str(m) for m in missing], "errors": errors}
    if with_sums:
        out["sums"] = {k: v for k, v in sums.items() if v}
    return out


MIN_FILES = 5  # fewer files than this give no interval: resampling two or three files says little


def intervals(res: dict, reps: int = 2000) -> dict[str, dict[str, tuple[float, float]]]:
    """95 % bootstrap intervals (files resampled) of each tier pair's corpus figures, from an
    ``evaluate_dirs(..., with_sums=True)`` result; tier pairs scored on fewer than ``MIN_FILES``
    files get none."""
    return {key: bootstrap_intervals(np.stack(list(per_file.values())), reps=reps)
            for key, per_file in res["sums"].items() if len(per_file) >= MIN_FILES}


def compare(res: dict, other: dict, reps: int = 2000) -> dict[str, dict]:
    """Per tier pair both results score: the files both aligned, the differences ``res`` minus
    ``other`` of the corpus figures on those files, and their 95 % paired bootstrap intervals
    (None under ``MIN_FILES`` files). Each aligner is timed on the reference tokens it matched,
    as the corpus figures are, so the two sets can differ by a few tokens."""
    out = {}
    for key, mine in res["sums"].items():
        theirs = other["sums"].get(key, {})
        common = sorted(set(mine) & set(theirs))
        if not common:
            continue
        a = np.stack([mine[f] for f in common])
        b = np.stack([theirs[f] for f in common])
        theirs_total = ratios(b.sum(0))
        diff = {k: float(v - theirs_total[k]) for k, v in ratios(a.sum(0)).items()}
        out[key] = {"files": len(common), "difference": diff,
                    "ci95": bootstrap_intervals(a, b, reps=reps) if len(common) >= MIN_FILES else None}
    return out
