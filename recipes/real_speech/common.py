"""Shared by the real-speech recipes: write utterances into the corpus layout `otalign train` reads.

A corpus is a folder of 16 kHz mono 16-bit WAV files, each with a same-stem ``.txt`` transcript,
and a ``manifest.jsonl`` naming every file with its speaker, source, licence and split. Audio goes
through otalign's own reader (downmix, soxr resampling), so training sees what `otalign align`
sees. An utterance whose transcript cannot be pronounced, or whose audio is unreadable, is
reported on stderr and left out; nothing is half-written (each file is written atomically).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from otalign_cli.audio import SAMPLE_RATE, load_audio, write_wav
from otalign_cli.errors import OtalignError
from otalign_cli.formats.atomic import write_text_atomic
from otalign_cli.manifest import Recording, write_manifest
from otalign_cli.text.pronounce import pronounce_transcript


@dataclass(frozen=True)
class Utterance:
    id: str  # unique in the corpus; becomes the file stem
    audio: Path  # file in the source checkout
    text: str  # orthographic transcript as read
    speaker: str
    split: str = "train"


def write_corpus(utterances: list[Utterance], out: Path, source: str, licence: str) -> dict:
    """Write ``utterances`` under ``out`` and return the totals (also in ``out/corpus.json``)."""
    out.mkdir(parents=True, exist_ok=True)
    records, seconds, skipped = [], 0.0, 0
    for u in utterances:
        try:
            pronounce_transcript(u.text, u.id)
            samples = load_audio(u.audio)
        except OtalignError as err:
            print(f"skipped {u.id}: {err}", file=sys.stderr)
            skipped += 1
            continue
        wav = out / f"{u.id}.wav"
        if not wav.exists():
            write_wav(wav, samples)
        write_text_atomic(wav.with_suffix(".txt"), u.text.strip() + "\n")
        seconds += len(samples) / SAMPLE_RATE
        records.append(Recording(wav.name, u.split, speaker=u.speaker, source=source))
    write_manifest(out / "manifest.jsonl", records)
    totals = {"source": source, "licence": licence, "utterances": len(records), "skipped": skipped,
              "hours": round(seconds / 3600, 3), "speakers": len({r.speaker for r in records})}
    write_text_atomic(out / "corpus.json", json.dumps(totals, indent=1) + "\n")
    print(json.dumps(totals))
    return totals


def checkout_arg(description: str) -> tuple[Path, Path]:
    """The two arguments every recipe takes: the source checkout and the output folder."""
    import argparse

    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("checkout", type=Path, help="local clone (work tree) of the source repository")
    ap.add_argument("out", type=Path, help="corpus folder to write")
    args = ap.parse_args()
    if not args.checkout.is_dir():
        ap.error(f"{args.checkout}: not a folder")
    return args.checkout, args.out


def main(doc: str, utterances: Callable[[Path], list[Utterance]], source: str, licence: str) -> None:
    """A recipe's command line: ``CHECKOUT OUT``; a source file it cannot read (a table that is not
    UTF-8, a missing column) ends it with one line naming the file, exit status 2."""
    checkout, dest = checkout_arg(doc.splitlines()[0])
    try:
        write_corpus(utterances(checkout), dest, source, licence)
    except OtalignError as err:
        print(f"error: {err}", file=sys.stderr)
        sys.exit(2)
