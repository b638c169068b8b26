"""Transcripts that are subtitles (SubRip .srt, WebVTT .vtt): their cues' text is the transcript.

The cues' times are not trusted for the alignment (subtitles are often early, late or drifting);
the text of all cues is aligned as one transcript, and the SRT/VTT outputs keep the cues as
written, each retimed from its first word's start to its last word's end (``formats.subtitles``).
Read with webvtt-py (both formats; it drops styling tags, voice spans and NOTE blocks).
"""

from __future__ import annotations

import html
import io
from dataclasses import dataclass
from pathlib import Path

from otalign_cli.errors import OtalignError
from otalign_cli.text.files import read_utf8

SUFFIXES = (".srt", ".vtt")


@dataclass(frozen=True)
class SourceCue:
    """One cue of a subtitle transcript: its times as written, its lines, and how many of the
    transcript's words each line holds (``with_word_counts``)."""

    start: float
    end: float
    lines: tuple[str, ...]
    words: tuple[int, ...] = ()


def is_subtitles(transcript: Path) -> bool:
    return transcript.suffix.lower() in SUFFIXES


def read_cues(path: Path) -> list[SourceCue]:
    """The cues of a subtitle file, in time order, empty ones left out; ``OtalignError`` naming the
    file when it cannot be read or has no text."""
    import webvtt

    text = read_utf8(path, "subtitles")
    try:
        subs = webvtt.WebVTT.from_buffer(io.StringIO(text), format="srt" if path.suffix.lower() == ".srt" else "vtt")
    except Exception as err:  # webvtt-py raises several kinds for malformed files
        raise OtalignError(path, f"cannot read {path.suffix.lower()[1:].upper()} subtitles ({err})") from None
    cues = [SourceCue(c.start_time.in_milliseconds() / 1000, c.end_time.in_milliseconds() / 1000,
                      tuple(line.strip() for line in html.unescape(c.text).splitlines() if line.strip()))
            for c in subs.captions]
    cues = sorted((c for c in cues if c.lines), key=lambda c: c.start)
    if not cues:
        raise OtalignError(path, "subtitles have no cue with text")
    return cues


def cues_text(cues: list[SourceCue]) -> str:
    """The transcript the cues make: every line, in order."""
    return "\n".join(line for c in cues for line in c.lines)


def with_word_counts(cues: list[SourceCue], normalize, total: int) -> list[SourceCue] | None:
    """``cues`` with the number of words ``normalize`` (a language's) finds on each line; ``None``
    when the lines do not add up to the ``total`` words of the whole transcript (a marker spread
    over two lines), so that the cues cannot be told apart."""
    out = [SourceCue(c.start, c.end, c.lines, tuple(len(normalize(line)) for line in c.lines)) for c in cues]
    return out if sum(sum(c.words) for c in out) == total else None

