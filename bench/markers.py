"""Markers in transcripts on real speech: ``<unk>`` and bracketed events such as "[noise]".

Every recording of a folder (audio with a same-stem .txt, e.g. ../shared/data/timit-dev) is
aligned as read, and that alignment is the reference for three edits at one word boundary in
the middle of the file:

- **marker, nothing there**: "[noise]" written between two words, the audio unchanged (an
  annotator's marker over something inaudible): the marker should take little time and the words
  should not move;
- **marker over a noise**: 0.4 s of white noise (10 dB below the file's speech) spliced into the
  audio at that boundary and "[noise]" written there: the marker should cover the noise;
- **two words as <unk>**: two words replaced by ``<unk>`` (speech whose words are unknown): it
  should span them.

Reports, per edit, the marker's edge errors (against the noise spliced in, or the two words'
outer edges as read), its median length, and how far the other words' edges moved from the
alignment as read (all in ms). Appends the table to bench/RESULTS.md (``--no-report``: print
only).

    python bench/markers.py ../shared/data/timit-dev
"""

from __future__ import annotations

import random
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf
from results import recordings, recordings_parser, report

import otalign_cli as otalign
from otalign_cli.audio import load_audio
from otalign_cli.errors import OtalignError
from otalign_cli.text.files import read_utf8

NOISE_SECONDS = 0.4
NOISE_DB = -10.0  # below the file's RMS
FADE = 0.01  # s of ramp at each end of the noise, so the splice itself makes no click
SR = 16000


def _spliced(samples: np.ndarray, at: float, rng: np.random.Generator) -> np.ndarray:
    n, ramp = round(NOISE_SECONDS * SR), round(FADE * SR)
    rms = float(np.sqrt(np.mean(samples ** 2))) or 1e-3
    noise = rng.standard_normal(n) * rms * 10 ** (NOISE_DB / 20)
    env = np.ones(n)
    env[:ramp], env[-ramp:] = np.linspace(0, 1, ramp), np.linspace(1, 0, ramp)
    cut = round(at * SR)
    return np.concatenate([samples[:cut], noise * env, samples[cut:]]).astype(np.float32)


def _edges(words, skip: set[int], shift_after: float | None = None, at: float = 0.0) -> list[float]:
    out = []
    for i, w in enumerate(words):
        if i in skip:
            continue
        for t in (w.start, w.end):
            out.append(t - (shift_after if shift_after is not None and t > at else 0.0))
    return out


def main() -> None:
    a = recordings_parser(__doc__).parse_args()
    rng, nrng = random.Random(a.seed), np.random.default_rng(a.seed)
    files = recordings(a, rng)
    models = otalign.load_models(a.model, with_ctc=False)
    names = ("marker, nothing there", "marker over a noise", "two words as <unk>")
    edge_err = {n: [] for n in names}  # |marker edge - where it should be|, s
    length = {n: [] for n in names}
    moved = {n: [] for n in names}  # |other word edge - as read|, s
    flagged = {n: 0 for n in names}
    t0, done = time.time(), 0
    with tempfile.TemporaryDirectory() as tmp:
        for f in files:
            words = read_utf8(f.with_suffix(".txt"), "transcript").split()
            if len(words) < 5:
                print(f"skipped {f.name}: fewer than 5 words", file=sys.stderr)
                continue
            k = rng.randrange(1, len(words) - 3)  # the boundary after word k; not next to the ends
            try:
                ref = otalign.align(f, f.with_suffix(".txt"), models).ot.words
                if len(ref) != len(words):
                    raise OtalignError(f, f"{len(words)} tokens but {len(ref)} words aligned")
                at = (ref[k].end + ref[k + 1].start) / 2
                txt, wav = Path(tmp) / f"{f.stem}.txt", Path(tmp) / f"{f.stem}.wav"
                marked = " ".join(words[:k + 1] + ["[noise]"] + words[k + 1:]) + "\n"
                txt.write_text(marked, encoding="utf-8")
                runs = {names[0]: otalign.align(f, txt, models)}
                sf.write(wav, _spliced(load_audio(f), at, nrng), SR)
                runs[names[1]] = otalign.align(wav, txt, models)
                txt.write_text(" ".join(words[:k + 1] + ["<unk>"] + words[k + 3:]) + "\n", encoding="utf-8")
                runs[names[2]] = otalign.align(f, txt, models)
            except OtalignError as err:
                print(f"skipped: {err}", file=sys.stderr)
                continue
            done += 1
            want = {names[0]: None, names[1]: (at, at + NOISE_SECONDS), names[2]: (ref[k + 1].start, ref[k + 2].end)}
            for name, res in runs.items():
                got = res.ot.words
                mark = got[k + 1]
                length[name].append(mark.end - mark.start)
                if want[name] is not None:
                    edge_err[name] += [abs(mark.start - want[name][0]), abs(mark.end - want[name][1])]
                flagged[name] += bool(res.stats.suspect)
                if name == names[2]:
                    base = _edges(ref, {k + 1, k + 2})
                else:
                    base = _edges(ref, set())
                shift = NOISE_SECONDS if name == names[1] else None
                moved[name] += list(np.abs(np.array(_edges(got, {k + 1}, shift, at + NOISE_SECONDS / 2)) - base))
    if not done:
        sys.exit(f"error: {a.folder}: no recording could be aligned")

    def ms(x: list[float], q: float | None = None) -> str:
        if not x:
            return "–"
        return f"{1000 * (np.percentile(x, q) if q is not None else np.mean(x)):.0f}"

    lines = ["", f"## Markers in transcripts: {a.folder.name} ({time.strftime('%Y-%m-%d')}, "
             f"`python bench/{Path(__file__).name} {' '.join(sys.argv[1:])}`)", "",
             f"{done} recordings, model {a.model or 'bundled'}; the alignment as read is the reference; the noise is "
             f"{NOISE_SECONDS:g} s at {NOISE_DB:g} dB under the file's RMS ({time.time() - t0:.0f} s).", "",
             "| edit | marker edge error mean ms | p90 ms | marker length median ms | "
             "other words' edges moved, mean ms | moved ≤ 20 ms | recordings with a suspect |",
             "|---|---|---|---|---|---|---|"]
    lines += [f"| {n} | {ms(edge_err[n])} | {ms(edge_err[n], 90)} | {ms(length[n], 50)} | {ms(moved[n])} | "
              f"{100 * np.mean(np.array(moved[n]) <= 0.02):.1f} % | {flagged[n]} of {done} |" for n in names]
    report(lines, append=not a.no_report)

if __name__ == "__main__":
    main()
