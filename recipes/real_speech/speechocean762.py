"""speechocean762 -> otalign corpus: 5,000 read English utterances by 250 Mandarin-L1 speakers.

Source: https://github.com/jimbozhang/speechocean762 ("free for both commercial and
non-commercial purposes"; Apache-2.0 on the authors' model card). Kaldi-style ``train/text`` and
``test/text`` (``UTT WORDS...``), ``*/utt2spk``, audio in ``WAVE/SPEAKERxxxx/UTT.WAV`` (16 kHz).
Both of its splits are training data here: its test split is for pronunciation scoring, not ours.

    python recipes/real_speech/speechocean762.py CHECKOUT data/real/speechocean762
"""

from __future__ import annotations

import sys
from pathlib import Path

from common import Utterance, main

from otalign_cli.text.files import read_utf8


def kaldi_table(path: Path) -> dict[str, str]:
    table = {}
    for line in read_utf8(path, "Kaldi table").splitlines():
        key, _, value = line.strip().partition(" ") if "\t" not in line else line.strip().partition("\t")
        if key:
            table[key] = value.strip()
    return table


def utterances(root: Path) -> list[Utterance]:
    out = []
    for part in ("train", "test"):
        text, spk, wav = (kaldi_table(root / part / f) for f in ("text", "utt2spk", "wav.scp"))
        for utt in sorted(text):
            if utt not in wav or utt not in spk:
                print(f"skipped so762-{utt}: not in {part}/wav.scp or {part}/utt2spk", file=sys.stderr)
                continue
            out.append(Utterance(f"so762-{utt}", root / wav[utt], text[utt], f"so762-{spk[utt]}"))
    return out


if __name__ == "__main__":
    main(__doc__, utterances, "speechocean762", "free for commercial and non-commercial use (Apache-2.0)")
