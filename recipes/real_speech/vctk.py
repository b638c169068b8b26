"""VCTK speakers committed to a repository -> otalign corpus: native British English read speech.

Source (ODC-By 1.0, the University of Edinburgh's CSTR; attribution in models/MODEL_CARD.md):
VCTK 0.80 as committed in https://github.com/avgaydashenko/speech-recognition-hw at commit
68ae136 (not on its default branch), ``data/VCTK-Corpus/wav48/pNNN/pNNN_MMM.wav`` (48 kHz) with
``txt/pNNN/pNNN_MMM.txt``; that commit holds speaker p239 (female, 22, southern England), 503
recordings. Recordings without a transcript (VCTK has a few) are left out.

    git clone https://github.com/avgaydashenko/speech-recognition-hw src/vctk-hw
    git -C src/vctk-hw checkout 68ae136
    python recipes/real_speech/vctk.py src/vctk-hw data/real/vctk
"""

from __future__ import annotations

import sys
from pathlib import Path

from common import Utterance, main

from otalign_cli.errors import OtalignError
from otalign_cli.text.files import read_utf8


def utterances(root: Path) -> list[Utterance]:
    out = []
    for wav in sorted(root.rglob("wav48/p*/p*_*.wav")):
        txt = wav.parent.parent.parent / "txt" / wav.parent.name / (wav.stem + ".txt")
        if not txt.is_file():
            print(f"skipped {wav.stem}: no transcript {txt}", file=sys.stderr)
            continue
        try:
            text = read_utf8(txt, "transcript").strip()
        except OtalignError as err:
            print(f"skipped {wav.stem}: {err}", file=sys.stderr)
            continue
        out.append(Utterance(f"vctk-{wav.stem}", wav, text, f"vctk-{wav.parent.name}"))
    return out


if __name__ == "__main__":
    main(__doc__, utterances, "VCTK 0.80 (speakers committed in avgaydashenko/speech-recognition-hw)", "ODC-By-1.0")
