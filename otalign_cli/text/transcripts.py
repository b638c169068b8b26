"""What a transcript file may be: plain text (.txt, .lab), subtitles (.srt, .vtt; ``text.cues``),
or a listing of a folder's utterances, one per line (``ID TEXT``), as LibriSpeech ships them
(``19-198.trans.txt`` beside ``19-198-0001.flac``). TextGrid and ELAN transcripts, which name
speakers, are read utterance by utterance (``text.utterances``)."""

from __future__ import annotations

from pathlib import Path

from otalign_cli.errors import OtalignError
from otalign_cli.text.cues import SourceCue, cues_text, is_subtitles, read_cues
from otalign_cli.text.files import read_utf8

LISTING_SUFFIX = ".trans.txt"


def is_listing(path: Path) -> bool:
    return path.name.lower().endswith(LISTING_SUFFIX)


def listing_ids(path: Path) -> dict[str, str]:
    """A listing's utterances: ID -> text (the first word of each line is the ID)."""
    out = {}
    for line in read_utf8(path, "transcript listing").splitlines():
        key, _, text = line.strip().partition(" ")
        if key:
            out[key] = text.strip()
    return out


def listings_in(folder: Path) -> dict[str, Path]:
    """The utterance IDs of every listing in ``folder``, each with its listing."""
    out: dict[str, Path] = {}
    for listing in sorted(folder.glob("*" + LISTING_SUFFIX)):
        try:
            out.update(dict.fromkeys(listing_ids(listing), listing))
        except OtalignError:
            continue  # an unreadable listing: its files are reported as having no transcript
    return out


def listing_for(audio: Path, seen: dict[Path, dict[str, Path]]) -> Path | None:
    """The listing in ``audio``'s folder with a line for it; ``seen`` keeps each folder's listings
    (``listings_in``) for the caller's pass over a corpus, so each is read once."""
    if audio.parent not in seen:
        seen[audio.parent] = listings_in(audio.parent)
    return seen[audio.parent].get(audio.stem)


def read_transcript(path: Path, audio: Path | None = None) -> tuple[str, list[SourceCue]]:
    """The text of ``audio``'s transcript ``path``, and a subtitle file's cues; for a listing,
    the line whose ID is the audio's stem."""
    if is_subtitles(path):
        cues = read_cues(path)
        return cues_text(cues), cues
    if is_listing(path) and audio is not None:
        text = listing_ids(path).get(audio.stem)
        if text is None:
            raise OtalignError(path, f"has no line for {audio.stem}")
        return text, []
    return read_utf8(path, "transcript"), []
