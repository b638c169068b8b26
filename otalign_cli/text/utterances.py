"""Transcripts that name their speakers: a TextGrid with one interval tier per speaker, each
interval an utterance and its text (the Montreal Forced Aligner's input for long recordings with
several speakers). Empty intervals are not speech anyone transcribed and are left out."""

from __future__ import annotations

from pathlib import Path

from otalign_cli.errors import OtalignError
from otalign_cli.results import Utterance

SUFFIX = ".textgrid"


def names_speakers(transcript: Path) -> bool:
    """Is this transcript a TextGrid (one tier per speaker) rather than plain text?"""
    return transcript.suffix.lower() == SUFFIX


def read_utterances(path: Path) -> list[Utterance]:
    """Every non-empty interval of every interval tier, in time order; ``OtalignError`` naming the
    file when it cannot be read or holds no transcribed interval."""
    from otalign_cli.formats.textgrid import read_textgrid

    tiers = read_textgrid(path)
    utts = [Utterance(name.strip(), s, e, " ".join(label.split()))
            for name, intervals in tiers.items() for s, e, label in intervals if label.strip()]
    if not utts:
        raise OtalignError(path, "TextGrid transcript has no interval with text (one tier per speaker expected)")
    return sorted(utts, key=lambda u: (u.start, u.speaker))
