"""Speed perturbation (Ko et al., Interspeech 2015; Kaldi's 0.9/1.0/1.1 recipe) of a corpus.

Each utterance is resampled as if played ``factor`` times faster: durations shrink by the factor,
pitch and formants rise by it, so one speaker becomes a slightly different one speaking at
another rate. Transcripts are copied unchanged; gold TextGrids (synthetic corpora) get their times divided by
the factor; the manifest's speaker or voice gets a suffix (a perturbed speaker is not the
original one).

    python recipes/experiments/speed_perturb/perturb.py data/real/ljspeech data/sp/ljspeech-0.9 0.9
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import soundfile as sf
import soxr

from otalign_cli.audio import SAMPLE_RATE
from otalign_cli.formats.textgrid import read_textgrid, write_textgrid


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("corpus", type=Path)
    ap.add_argument("out", type=Path)
    ap.add_argument("factor", type=float)
    a = ap.parse_args()
    a.out.mkdir(parents=True, exist_ok=True)
    lines = []
    for line in (a.corpus / "manifest.jsonl").read_text().splitlines():
        rec = json.loads(line)
        wav = a.corpus / rec["audio"]
        x, sr = sf.read(wav, dtype="float32")
        assert sr == SAMPLE_RATE, wav
        y = soxr.resample(x, SAMPLE_RATE * a.factor, SAMPLE_RATE)
        dest = a.out / rec["audio"]
        dest.parent.mkdir(parents=True, exist_ok=True)
        sf.write(dest, y, SAMPLE_RATE, subtype="PCM_16")
        if wav.with_suffix(".txt").is_file():
            shutil.copyfile(wav.with_suffix(".txt"), dest.with_suffix(".txt"))
        if "textgrid" in rec:
            tiers = read_textgrid(a.corpus / rec["textgrid"])
            scaled = {name: [(s / a.factor, e / a.factor, lab) for s, e, lab in iv] for name, iv in tiers.items()}
            write_textgrid(a.out / rec["textgrid"], scaled, len(y) / SAMPLE_RATE)
        if "duration" in rec:
            rec["duration"] = round(len(y) / SAMPLE_RATE, 2)
        for key in ("speaker", "voice", "id"):
            if key in rec:
                rec[key] = f"{rec[key]}-sp{a.factor}"
        lines.append(json.dumps(rec))
    (a.out / "manifest.jsonl").write_text("\n".join(lines) + "\n")
    print(f"{len(lines)} utterances at speed {a.factor} -> {a.out}")


if __name__ == "__main__":
    main()
