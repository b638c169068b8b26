"""Copies of a folder's recordings (and transcripts) at other speeds, for aligning each copy.

Resampled as ``otalign synth`` varies its voices' speed (``synth.corpus.change_speed``); nothing
else is copied (references stay where they are).

    python speeds.py ../shared/data/timit-dev data/tta 0.95 1.05   # writes data/tta/0.95/, data/tta/1.05/
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from otalign_cli.audio import load_audio, write_wav
from otalign_cli.errors import OtalignError
from otalign_cli.synth.corpus import change_speed

if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folder", type=Path)
    ap.add_argument("out", type=Path)
    ap.add_argument("factors", type=float, nargs="+")
    a = ap.parse_args()
    for f in a.factors:
        dest = a.out / f"{f:g}"
        dest.mkdir(parents=True, exist_ok=True)
        for wav in sorted(a.folder.glob("*.wav")):
            try:
                audio = change_speed(load_audio(wav), f)
            except OtalignError as err:
                print(f"skipped {wav.name}: {err}", file=sys.stderr)
                continue
            write_wav(dest / wav.name, audio)
            if wav.with_suffix(".txt").is_file():
                shutil.copyfile(wav.with_suffix(".txt"), dest / f"{wav.stem}.txt")
