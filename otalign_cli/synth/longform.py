"""Long test recordings with known times: corpus utterances joined by pauses.

Aligning an hour of speech can only be scored if the truth is known for the whole hour; joining
utterances that have gold TextGrids gives exactly that, and also the reference that matters for
long-form alignment: the same utterances aligned one by one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from otalign_cli.audio import SAMPLE_RATE, load_audio, write_wav
from otalign_cli.errors import OtalignError
from otalign_cli.formats.atomic import write_text_atomic
from otalign_cli.formats.textgrid import read_textgrid, write_textgrid
from otalign_cli.manifest import read_manifest


@dataclass
class Piece:
    """One source utterance inside the long recording."""

    audio: Path
    text: str
    start: float  # seconds into the long recording
    duration: float


def corpus_utterances(root: Path, split: str | None) -> list[tuple[Path, str]]:
    """(audio, transcript text) of a synthesized corpus's manifest rows with a gold TextGrid."""
    manifest = root / "manifest.jsonl"
    if not manifest.is_file():
        raise OtalignError(root, "no manifest.jsonl: not a corpus made by `otalign synth`")
    out = [(root / r.audio, r.text) for r in read_manifest(manifest)
           if (split is None or r.split == split) and r.textgrid and r.text is not None and (root / r.textgrid).is_file()]
    if not out:
        raise OtalignError(root, f"no utterances with gold TextGrids{f' in split {split!r}' if split else ''}")
    return out


def build_long_recording(utterances: list[tuple[Path, str]], out_stem: Path, minutes: float, seed: int = 0,
                         pause: tuple[float, float] = (0.3, 1.5)) -> list[Piece]:
    """Write ``out_stem``.wav/.txt/.TextGrid (gold words and phones) and .pieces.jsonl.

    Utterances are drawn in a seeded random order (cycling if the corpus is shorter than
    ``minutes``), each followed by a pause drawn uniformly from ``pause`` seconds. The transcript
    has one utterance per line.
    """
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(utterances))
    target = int(minutes * 60 * SAMPLE_RATE)
    audio_parts: list[np.ndarray] = []
    words: list[tuple[float, float, str]] = []
    phones: list[tuple[float, float, str]] = []
    pieces: list[Piece] = []
    total, k = 0, 0
    while total < target:
        path, text = utterances[order[k % len(order)]]
        k += 1
        samples = load_audio(path)
        t0 = total / SAMPLE_RATE
        gold = read_textgrid(path.with_suffix(".TextGrid"))
        words += [(s + t0, e + t0, lab) for s, e, lab in gold["words"]]
        phones += [(s + t0, e + t0, lab) for s, e, lab in gold["phones"]]
        gap = np.zeros(int(rng.uniform(*pause) * SAMPLE_RATE), dtype=np.float32)
        audio_parts += [samples, gap]
        pieces.append(Piece(path, text, t0, len(samples) / SAMPLE_RATE))
        total += len(samples) + len(gap)
    audio = np.concatenate(audio_parts)
    duration = len(audio) / SAMPLE_RATE
    wav = out_stem.with_suffix(".wav")
    write_wav(wav, audio)
    write_text_atomic(out_stem.with_suffix(".txt"), "\n".join(p.text for p in pieces) + "\n")
    write_textgrid(out_stem.with_suffix(".TextGrid"), {"words": words, "phones": phones}, duration)
    write_text_atomic(out_stem.with_suffix(".pieces.jsonl"), "".join(
        json.dumps({"audio": str(p.audio), "text": p.text, "start": round(p.start, 6),
                    "duration": round(p.duration, 6)}) + "\n" for p in pieces))
    return pieces


def read_pieces(out_stem: Path) -> list[Piece]:
    path = out_stem.with_suffix(".pieces.jsonl")
    return [Piece(Path(r["audio"]), r["text"], r["start"], r["duration"])
            for r in map(json.loads, path.read_text(encoding="utf-8").splitlines())]
