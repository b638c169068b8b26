"""What aligning a recording gives: word and phone segments, the file's result.

The values every stage after the readout passes on (formats, batch, evaluation); they depend on
nothing else in the package, so the writers need not import the orchestrator."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Segment:
    label: str
    start: float
    end: float
    confidence: float | None = None  # mean posterior of the token over its span, in [0, 1]
    text: str = ""  # words: the token as written in the transcript, punctuation included
    speaker: str = ""  # set when the transcript names speakers (a TextGrid with one tier per speaker)


@dataclass
class Alignment:
    """Word segments (written form) and phone segments, with ``phone_word[k]`` the word of phone k."""

    words: list[Segment]
    phones: list[Segment]
    phone_word: list[int]


@dataclass(frozen=True)
class Utterance:
    """A stretch of the recording and its transcript: the whole file for a plain text transcript,
    one interval of a speaker's tier for a TextGrid transcript."""

    speaker: str
    start: float
    end: float
    text: str


@dataclass
class FileResult:
    audio: Path
    transcript: Path
    duration: float
    readout: str
    ot: Alignment
    ctc: Alignment | None
    stats: dict = field(default_factory=dict)
    traces: dict = field(default_factory=dict)  # per-frame model outputs for plotting (numpy)
    utterances: list[Utterance] = field(default_factory=list)  # what the transcript said, where
