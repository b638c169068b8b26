"""Transcripts that name their speakers: a TextGrid or an ELAN file (.eaf) with one tier per
speaker, each interval (annotation) an utterance and its text (the Montreal Forced Aligner's
input for long recordings with several speakers). Empty intervals are not speech anyone
transcribed and are left out; so are an ELAN file's dependent tiers (translations, glosses,
words under an utterance), whose text is not more speech."""

from __future__ import annotations

from pathlib import Path

from otalign_cli.errors import OtalignError
from otalign_cli.results import Utterance

SUFFIXES = (".textgrid", ".eaf")


def names_speakers(transcript: Path) -> bool:
    """Is this transcript a TextGrid or ELAN file (one tier per speaker) rather than plain text?"""
    return transcript.suffix.lower() in SUFFIXES


def _tiers(path: Path) -> dict[str, list[tuple[float, float, str]]]:
    if path.suffix.lower() != ".eaf":
        from otalign_cli.formats.textgrid import read_textgrid

        return read_textgrid(path)
    import pympi

    from otalign_cli.text.files import read_utf8

    read_utf8(path, "ELAN file")  # missing, unreadable or not UTF-8: the usual one line
    try:
        eaf = pympi.Elan.Eaf(str(path))
    except Exception as err:  # pympi raises a bare Exception for what it cannot parse
        raise OtalignError(path, f"cannot read ELAN file ({err})") from None
    return {name: [(s / 1000, e / 1000, label) for s, e, label, *_ in eaf.get_annotation_data_for_tier(name)]
            for name, (_, _, attributes, _) in eaf.tiers.items() if "PARENT_REF" not in attributes}


def read_utterances(path: Path) -> list[Utterance]:
    """Every non-empty interval of every (top-level) tier, in time order; ``OtalignError`` naming
    the file when it cannot be read or holds no transcribed interval."""
    utts = [Utterance(name.strip(), s, e, " ".join(label.split()))
            for name, intervals in _tiers(path).items() for s, e, label in intervals if label.strip()]
    if not utts:
        kind = "ELAN file" if path.suffix.lower() == ".eaf" else "TextGrid"
        raise OtalignError(path, f"{kind} transcript has no interval with text (one tier per speaker expected)")
    return sorted(utts, key=lambda u: (u.start, u.speaker))
