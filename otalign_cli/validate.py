"""``otalign validate``: the pre-flight check of a corpus before a long run.

Every file is looked at the way ``batch`` would look at it, without the acoustic model: the
audio is read through (format, rate, channels, duration; unreadable, empty, silent), the
transcript must exist, be UTF-8 and have words, every word must be pronounceable (the user's
dictionary, CMUdict, then G2P, whose guesses are listed so they can be copied into a
dictionary), the audio must be long enough to hold the transcript's phones at the model's frame
rate, and no two audio files may share a stem (their outputs would collide).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from otalign_cli.audio import inspect_audio
from otalign_cli.batch import AUDIO_EXTS, discover, tsv_field
from otalign_cli.batch.corpus import WHERE_TRANSCRIPTS
from otalign_cli.errors import OtalignError
from otalign_cli.text.transcripts import read_transcript
from otalign_cli.text.dictionary import Dictionary
from otalign_cli.text.languages import DEFAULT_LANGUAGE, get_language
from otalign_cli.text.normalize import is_marker
from otalign_cli.text.pronounce import pronounce_transcript, pronounce_word
from otalign_cli.text.utterances import names_speakers, read_utterances

BUNDLED_FRAME_SHIFT = 0.02  # s: one output frame of the bundled models; each phone needs at least one


@dataclass(frozen=True)
class Problem:
    path: str  # relative to the corpus
    kind: str  # "no transcript", "audio", "transcript", "unpronounceable", "too short", "duplicate stem"
    detail: str


@dataclass
class Validation:
    files: int = 0
    ready: int = 0  # files that would align
    audio_seconds: float = 0.0
    problems: list[Problem] = field(default_factory=list)
    g2p: dict[str, tuple[str, ...]] = field(default_factory=dict)  # word -> the pronunciation G2P gives it
    g2p_count: Counter = field(default_factory=Counter)
    formats: Counter = field(default_factory=Counter)  # "WAV 16000 Hz 1 ch" -> files
    markers: Counter = field(default_factory=Counter)  # "[laughter]" -> times: events (nsn) and unknown speech (spn)


def _texts(transcript: Path, audio: Path) -> list[tuple[str, str, float]]:
    """(where, text, seconds available) per utterance; seconds is -1 for "the whole file"."""
    if names_speakers(transcript):
        return [(f"{u.speaker} {u.start:.2f}-{u.end:.2f} s", u.text, u.end - u.start)
                for u in read_utterances(transcript)]
    text, _ = read_transcript(transcript, audio)
    return [("", text, -1.0)]


def validate_corpus(corpus: Path, lexicon: Dictionary | None = None, frame_shift: float = BUNDLED_FRAME_SHIFT,
                    on_file: Callable[[], None] | None = None, language: str = DEFAULT_LANGUAGE) -> Validation:
    """Every file's problems, as ``batch`` would meet them, its transcripts pronounced in ``language``."""
    items = discover(corpus)
    v = Validation(files=len(items))
    stems = Counter((item.audio.parent, item.audio.stem) for item in items)
    for item in items:
        if on_file:
            on_file()
        rel = str(item.rel)
        found: list[Problem] = []
        if stems[(item.audio.parent, item.audio.stem)] > 1:
            others = sorted(p.name for p in item.audio.parent.glob(f"{item.audio.stem}.*")
                            if p.suffix.lower() in AUDIO_EXTS and p != item.audio)
            found.append(Problem(rel, "duplicate stem", f"shares its stem with {', '.join(others)}: outputs would collide"))
        seconds = None
        try:
            info = inspect_audio(item.audio)
            seconds = info.seconds
            v.audio_seconds += seconds
            v.formats[f"{info.format} {info.samplerate} Hz {info.channels} ch"] += 1
        except OtalignError as err:
            found.append(Problem(rel, "audio", err.message))
        if item.transcript is None:
            found.append(Problem(rel, "no transcript", f"no {WHERE_TRANSCRIPTS}"))
        else:
            try:
                utterances = _texts(item.transcript, item.audio)
            except OtalignError as err:
                found.append(Problem(rel, "transcript", err.message))
                utterances = []
            for where, text, available in utterances:
                label = f" ({where})" if where else ""
                said = get_language(language).normalize(text) if where else None
                if said is not None and (not said or all(is_marker(w) for w in said)):
                    v.markers.update(w.written for w in said)  # nothing said, or the event itself
                    continue
                try:
                    pron = pronounce_transcript(text, None, lexicon, language)
                except OtalignError as err:
                    kind = "transcript" if "empty" in err.message else "unpronounceable"
                    found.append(Problem(rel, kind, err.message + label))
                    continue
                v.markers.update(w.written for w in pron.words if is_marker(w))
                for w in pron.oov:
                    v.g2p_count[w] += 1
                    if w not in v.g2p:
                        v.g2p[w] = pronounce_word(w, None, language)[0]
                span = available if available >= 0 else seconds
                if span is not None and int(span / frame_shift) < len(pron.phones):
                    found.append(Problem(rel, "too short", f"{span:.2f} s holds {int(span / frame_shift)} frames of "
                                                           f"{frame_shift * 1000:.0f} ms, the transcript has "
                                                           f"{len(pron.phones)} phones{label}"))
        v.problems += found
        v.ready += not found
    return v


def problems_tsv(v: Validation) -> str:
    return "path\tproblem\tdetail\n" + "".join(f"{tsv_field(p.path)}\t{p.kind}\t{tsv_field(p.detail)}\n"
                                                for p in v.problems)


def g2p_dictionary(v: Validation) -> str:
    """The words G2P pronounces, one line each in the dictionary format ``--dictionary`` reads."""
    return "".join(f"{w}\t{' '.join(v.g2p[w])}\n" for w in sorted(v.g2p))
