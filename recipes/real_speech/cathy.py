"""Rhasspy's "Kathleen" voice dataset -> otalign corpus: one US English woman reads CMU ARCTIC.

The 1,132 CMU ARCTIC prompts, read by a native speaker.

Source (CC0 1.0): https://github.com/rhasspy/dataset-voice-cathy, ``data/arctic_[ab]NNNN_<unix
time>.wav`` (48 kHz stereo, silence trimmed) each with a same-stem ``.txt`` (numbers spelled out).
About 490 prompts were recorded twice; only the later take of each is kept, since a prompt is
re-recorded when the first take went wrong and a misread transcript is the worst thing OTTC can
be given. The prompts are ARCTIC's, not the reserved evaluation set's sentences
(``synth.evaluation_set``), and the speaker is not one of the reserved voices.

    python recipes/real_speech/cathy.py CHECKOUT data/real/cathy
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from common import Utterance, main

from otalign_cli.errors import OtalignError
from otalign_cli.text.files import read_utf8

TAKE = re.compile(r"(arctic_[ab]\d{4})_(\d+)")


def utterances(root: Path) -> list[Utterance]:
    latest: dict[str, tuple[int, Path]] = {}
    for wav in root.rglob("arctic_*.wav"):
        m = TAKE.fullmatch(wav.stem)
        if m is None:
            continue
        prompt, stamp = m.group(1), int(m.group(2))
        if prompt not in latest or stamp > latest[prompt][0]:
            latest[prompt] = (stamp, wav)
    out = []
    for prompt, (_, wav) in sorted(latest.items()):
        # the later take or nothing: an earlier take is the one that went wrong
        try:
            text = read_utf8(wav.with_suffix(".txt"), "transcript")
        except OtalignError as err:
            print(f"skipped cathy-{prompt}: {err}", file=sys.stderr)
            continue
        out.append(Utterance(f"cathy-{prompt}", wav, text.strip(), "cathy"))
    return out

if __name__ == "__main__":
    main(__doc__, utterances, "Rhasspy dataset-voice-cathy (Kathleen)", "CC0-1.0")
