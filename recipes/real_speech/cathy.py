"""Rhasspy's "Kathleen" voice dataset -> otalign corpus: one native US English woman reading the
1,132 CMU ARCTIC prompts.

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
from pathlib import Path

from common import Utterance, checkout_arg, write_corpus

TAKE = re.compile(r"(arctic_[ab]\d{4})_(\d+)")


def utterances(root: Path) -> list[Utterance]:
    latest: dict[str, tuple[int, Path]] = {}
    for wav in root.rglob("arctic_*.wav"):
        m = TAKE.fullmatch(wav.stem)
        if m is None or not wav.with_suffix(".txt").is_file():
            continue
        prompt, stamp = m.group(1), int(m.group(2))
        if prompt not in latest or stamp > latest[prompt][0]:
            latest[prompt] = (stamp, wav)
    return [Utterance(f"cathy-{prompt}", wav, wav.with_suffix(".txt").read_text(encoding="utf-8").strip(), "cathy")
            for prompt, (_, wav) in sorted(latest.items())]


if __name__ == "__main__":
    checkout, dest = checkout_arg(__doc__.splitlines()[0])
    write_corpus(utterances(checkout), dest, "Rhasspy dataset-voice-cathy (Kathleen)", "CC0-1.0")
