"""The edges of the silences a reference leaves inside utterances, and how an alignment places them.

TIMIT-style references leave a gap for a glottal stop, a pause or an epenthetic silence. For
every gap of ``--min-gap`` or more between two reference phones, this matches the phones on
both sides to the hypothesis (as ``otalign evaluate`` does) and counts how far off their edges
are, split by whether the phone after the gap is a vowel (mostly a vowel-initial word's glottal
stop), and how often the hypothesis opens a gap there too. ``--acoustics`` adds what the bundled
model's frame model and the signal's energy say inside those gaps (the audio is the reference's
same-stem .wav). Appends the table to bench/RESULTS.md (``--no-report``: print only).

    otalign batch ../shared/data/timit-dev aligned/ -f textgrid --no-ctc
    python bench/reference_gaps.py ../shared/data/timit-dev aligned/ --acoustics
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from otalign_cli.errors import OtalignError
from otalign_cli.evaluate import find_pairs, match_tokens
from otalign_cli.formats.textgrid import read_textgrid
from otalign_cli.text.phones import VOWELS, strip_stress
from results import report

Phone = tuple[float, float, str]


def _is_vowel(label: str) -> bool:
    return strip_stress(label) in VOWELS


def _gaps(ref: list[Phone], min_gap: float) -> list[int]:
    """Indices i with a gap of ``min_gap`` or more between ref[i] and ref[i + 1]."""
    return [i for i in range(len(ref) - 1) if ref[i + 1][0] - ref[i][1] >= min_gap]


def _acoustics(ref_path: Path, ref: list[Phone], words: list[Phone], gaps: list[int], frame_model,
               out: dict[str, list[float]]) -> None:
    """Mean pause posterior of the frame model inside the gaps before a vowel and inside the
    reference's vowels; how far energy dips below the next vowel's peak inside those gaps, and
    within 40 ms of a vowel-initial word's onset where the reference has no gap."""
    import torch

    from otalign_cli.alignment.endpoints import HOP as EHOP
    from otalign_cli.alignment.endpoints import frame_energy_db
    from otalign_cli.alignment.frames import HOP as FHOP
    from otalign_cli.alignment.frames import frame_scores
    from otalign_cli.audio import SAMPLE_RATE, load_audio
    from otalign_cli.features import log_mel

    samples = load_audio(ref_path.with_suffix(".wav"))
    scores = frame_scores(frame_model, log_mel(torch.from_numpy(samples)))
    pause = np.exp(scores[:, -1] + frame_model.cfg.prior_scale * frame_model.log_prior[-1].item())
    energy = frame_energy_db(samples, SAMPLE_RATE)

    def span(x: np.ndarray, a: float, b: float, hop: float) -> np.ndarray:
        lo = int(round(a / hop))
        return x[lo:max(lo + 1, int(round(b / hop)))]

    for i in gaps:
        if _is_vowel(ref[i + 1][2]):
            out["pause posterior, gaps before a vowel"].append(float(span(pause, ref[i][1], ref[i + 1][0], FHOP).mean()))
            peak = span(energy, ref[i + 1][0], ref[i + 1][1], EHOP).max()
            out["energy dip dB, gaps before a vowel"].append(float(peak - span(energy, ref[i][1], ref[i + 1][0], EHOP).min()))
    for a, b, label in ref:
        if _is_vowel(label):
            out["pause posterior, vowels"].append(float(span(pause, a, b, FHOP).mean()))
    onsets = {round(w[0], 3) for w in words}
    for prev, cur in zip(ref, ref[1:]):
        if _is_vowel(cur[2]) and cur[0] - prev[1] < 0.005 and round(cur[0], 3) in onsets:
            peak = span(energy, cur[0], cur[1], EHOP).max()
            out["energy dip dB, vowel-initial words without a gap"].append(
                float(peak - span(energy, cur[0] - 0.04, cur[0] + 0.04, EHOP).min()))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("ref_dir", type=Path, help="reference TextGrids (tier phones; words for --acoustics)")
    ap.add_argument("hyp_dir", type=Path, help="an aligner's TextGrids, same relative paths")
    ap.add_argument("--min-gap", type=float, default=0.02, help="seconds (default 0.02)")
    ap.add_argument("--acoustics", action="store_true", help="the frame model's pause posterior and the energy in the gaps")
    ap.add_argument("--no-report", action="store_true", help="print the table without appending it to RESULTS.md")
    a = ap.parse_args()
    for folder in (a.ref_dir, a.hyp_dir):
        if not folder.is_dir():
            ap.error(f"{folder}: not a folder")
    pairs, missing = find_pairs(a.ref_dir, a.hyp_dir)
    if not pairs:
        sys.exit(f"error: {a.hyp_dir}: no TextGrid for any reference in {a.ref_dir}")
    frame_model = None
    if a.acoustics:
        from otalign_cli.models import load_models

        frame_model = load_models(with_ctc=False).ottc.frame_model
        if frame_model is None:
            sys.exit("error: the bundled model has no frame model")
    groups: dict[str, list[tuple[list[float], float | None]]] = {"before a vowel": [], "before another phone": []}
    acoustics: dict[str, list[float]] = {k: [] for k in (
        "pause posterior, gaps before a vowel", "pause posterior, vowels",
        "energy dip dB, gaps before a vowel", "energy dip dB, vowel-initial words without a gap")}
    total = beyond20 = beyond50 = files = 0
    for ref_path, hyp_path in pairs:
        try:
            ref_tiers, hyp_tiers = read_textgrid(ref_path), read_textgrid(hyp_path)
            if "phones" not in ref_tiers or "phones" not in hyp_tiers:
                raise OtalignError(ref_path if "phones" not in ref_tiers else hyp_path, "has no phones tier")
        except OtalignError as err:
            print(f"skipped: {err}", file=sys.stderr)
            continue
        files += 1
        ref, hyp = ref_tiers["phones"], hyp_tiers["phones"]
        match = dict(match_tokens(ref, hyp, "phones"))
        for i, j in match.items():  # every matched edge, for the shares below
            for e in (hyp[j][0] - ref[i][0], hyp[j][1] - ref[i][1]):
                total += 1
                beyond20 += abs(e) > 0.02
                beyond50 += abs(e) > 0.05
        gaps = _gaps(ref, a.min_gap)
        for i in gaps:
            errs = [abs(hyp[match[i]][1] - ref[i][1])] if i in match else []
            if i + 1 in match:
                errs.append(abs(hyp[match[i + 1]][0] - ref[i + 1][0]))
            adjacent = i in match and i + 1 in match and match[i + 1] == match[i] + 1
            hyp_gap = hyp[match[i + 1]][0] - hyp[match[i]][1] if adjacent else None
            groups["before a vowel" if _is_vowel(ref[i + 1][2]) else "before another phone"].append((errs, hyp_gap))
        if frame_model is not None:
            try:
                _acoustics(ref_path, ref, ref_tiers.get("words", []), gaps, frame_model, acoustics)
            except OtalignError as err:
                print(f"no acoustics: {err}", file=sys.stderr)
    lines = [f"## Reference gaps inside utterances: {a.hyp_dir.name} against {a.ref_dir.name} "
             f"({time.strftime('%Y-%m-%d')}, `python bench/{Path(__file__).name} {' '.join(sys.argv[1:])}`)", "",
             f"{files} files ({len(missing)} references without a hypothesis), {total} matched phone edges: "
             f"{beyond20} beyond 20 ms, {beyond50} beyond 50 ms. Gaps of {a.min_gap * 1000:.0f} ms or more between "
             "two reference phones, the edges of the phones on both sides, and where the hypothesis opens a gap "
             "of 10 ms or more too.", "",
             "| gaps | count | their edges | beyond 20 ms | beyond 50 ms | hypothesis opens a gap |",
             "|---|---|---|---|---|---|"]
    for name, rows in groups.items():
        errs = [e for es, _ in rows for e in es]
        opened = sum(g is not None and g >= 0.01 for _, g in rows)
        lines.append(f"| {name} | {len(rows)} | {len(errs)} | {sum(e > 0.02 for e in errs)} | "
                     f"{sum(e > 0.05 for e in errs)} | {opened} |")
    if frame_model is not None:
        lines += ["", "| measured inside | count | mean | median | quartiles |", "|---|---|---|---|---|"]
        for name, values in acoustics.items():
            v = np.array(values) if values else np.full(1, np.nan)
            q1, q3 = np.percentile(v, [25, 75])
            lines.append(f"| {name} | {len(values)} | {v.mean():.3f} | {np.median(v):.3f} | {q1:.3f}-{q3:.3f} |")
    report(lines, append=not a.no_report)


if __name__ == "__main__":
    main()
