"""What aligning a recording gives: word and phone segments, the file's result.

The values every stage after the readout passes on (formats, batch, evaluation); they depend on
nothing else in the package, so the writers need not import the orchestrator."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import NamedTuple


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


class Stretch(NamedTuple):
    """A stretch of the recording (s)."""

    start: float
    end: float


class Suspect(NamedTuple):
    """A stretch where the audio does not sound like the transcript, and the words it touches."""

    start: float
    end: float
    words: str


class Choice(NamedTuple):
    """A pronunciation the audio chose for written word ``index`` (not the dictionary's first)."""

    word: str
    index: int
    phones: str


@dataclass
class AlignStats:
    """What aligning a file measured besides the times: the JSON output's ``stats`` (``to_dict``)
    and the summary on screen. Fields left at None were not measured for this file."""

    dropped_pct: float  # frames the OT plan gave no token (weight ~ 0), in %
    phones: int
    words: int
    utterances: int | None = None  # a transcript that names speakers: how many utterances
    oov: list[str] = field(default_factory=list)  # spoken words pronounced by G2P
    suspect: list[Suspect] = field(default_factory=list)
    pronunciations: list[Choice] = field(default_factory=list)
    untranscribed: list[Stretch] | None = None  # long stretches before the first / after the last word
    passes: int | None = None  # encoder passes the readout averaged
    ctc_skipped: str | None = None  # why there is no CTC comparison
    ctc_peaky_pct: float | None = None  # CTC frames on blank, in %
    label_delay: dict[str, float] | None = None  # CTC - OT phone onsets (``metrics.delay_summary``)
    seconds: float | None = None  # wall time of this file
    real_time_factor: float | None = None

    def to_dict(self) -> dict:
        """JSON-ready: the named tuples as objects, the fields not measured left out."""
        out = {}
        for f in fields(self):
            v = getattr(self, f.name)
            if v is not None:
                out[f.name] = [x._asdict() if isinstance(x, tuple) else x for x in v] if isinstance(v, list) else v
        return out


@dataclass
class FileResult:
    audio: Path
    transcript: Path
    duration: float
    readout: str
    ot: Alignment
    ctc: Alignment | None
    stats: AlignStats
    traces: dict = field(default_factory=dict)  # per-frame model outputs for plotting (numpy)
    utterances: list[Utterance] = field(default_factory=list)  # what the transcript said, where
    cues: list = field(default_factory=list)  # a subtitle transcript's cues (text.cues.SourceCue), kept in SRT/VTT
    adapted: bool = False  # aligned by a copy of the OTTC model whose heads were tuned on the transcripts (--adapt)
