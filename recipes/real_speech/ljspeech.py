"""LJSpeech excerpts -> otalign corpus: one native US English speaker reading non-fiction.

Sources (public domain, https://keithito.com/LJ-Speech-Dataset/), any of:
- https://github.com/PrernaSocity/lj_speech_dataset_part_1: ``LJSpeech-1.1/metadata.csv`` and
  ``LJSpeech-1.1/wavs/`` (385 utterances);
- https://github.com/coqui-ai/TTS: ``tests/data/ljspeech/metadata.csv`` and ``wavs/`` (32).
``metadata.csv`` is ``ID|text|normalized text``; the normalized column (numbers spelled out) is
the transcript. The recipe finds every ``metadata.csv`` with a ``wavs`` folder beside it.

    python recipes/real_speech/ljspeech.py CHECKOUT data/real/ljspeech-part1
"""

from __future__ import annotations

from pathlib import Path

from common import Utterance, main

from otalign_cli.text.files import read_utf8


def utterances(root: Path) -> list[Utterance]:
    out = []
    for meta in sorted(root.rglob("metadata.csv")):
        wavs = meta.parent / "wavs"
        if not wavs.is_dir():
            continue
        for line in read_utf8(meta, "LJSpeech metadata").splitlines():
            fields = line.split("|")
            if len(fields) < 2:
                continue
            audio = next((wavs / f"{fields[0]}{ext}" for ext in (".wav", ".flac")
                          if (wavs / f"{fields[0]}{ext}").is_file()), None)
            if audio is not None:
                out.append(Utterance(f"lj-{fields[0]}", audio, fields[-1], "lj"))
    return out


if __name__ == "__main__":
    main(__doc__, utterances, "LJSpeech 1.1", "public domain")
