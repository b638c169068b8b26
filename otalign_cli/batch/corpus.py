"""The corpus a batch aligns (Montreal-Forced-Aligner layout): its files, where their outputs
go, which are still to do, and how files are grouped into units of work."""

from __future__ import annotations

import glob
from dataclasses import dataclass, field
from pathlib import Path

from otalign_cli.results import Suspect
from otalign_cli.text.transcripts import LISTING_SUFFIX, listing_for

AUDIO_EXTS = (".wav", ".flac", ".ogg", ".mp3")
# a TextGrid or ELAN transcript has one tier of utterances per speaker; subtitles are retimed (text.cues)
TRANSCRIPT_EXTS = (".txt", ".lab", ".TextGrid", ".eaf", ".srt", ".vtt")
# where a file's transcript may be, as the one-line reports of a file without one say it
WHERE_TRANSCRIPTS = (f"same-stem {', '.join(TRANSCRIPT_EXTS[:-1])} or {TRANSCRIPT_EXTS[-1]}, "
                     f"nor a line in a {LISTING_SUFFIX}")


@dataclass(frozen=True)
class Item:
    audio: Path
    transcript: Path | None
    rel: Path  # audio path relative to the corpus root
    speaker: str


@dataclass
class Outcome:
    item: Item
    status: str  # "aligned", "skipped" or "failed"
    reason: str = ""
    duration: float = 0.0
    seconds: float = 0.0
    delays_ms: list[float] = field(default_factory=list)
    suspects: list[Suspect] = field(default_factory=list)  # stretches where the audio is unlike the transcript


def discover(corpus: Path) -> list[Item]:
    """Audio files under ``corpus`` (any depth), each with its same-stem transcript if there is one
    (the first of ``TRANSCRIPT_EXTS`` present), else the folder's listing (``NAME.trans.txt``,
    LibriSpeech's) that has a line for it.

    The speaker is the first folder under the root (MFA's convention), "" for files at the top.
    """
    items = []
    listed: dict[Path, dict[str, Path]] = {}  # folder -> utterance ID -> its listing (LibriSpeech)
    for audio in sorted(p for p in corpus.rglob("*") if p.suffix.lower() in AUDIO_EXTS and p.is_file()):
        transcript = next((audio.with_suffix(e) for e in TRANSCRIPT_EXTS if audio.with_suffix(e).is_file()), None)
        if transcript is None:  # TextGrid is spelt in several cases
            transcript = next((p for p in audio.parent.glob(glob.escape(audio.stem) + ".*")
                               if p.suffix.lower() == ".textgrid" and p.is_file()), None)
        if transcript is None:
            transcript = listing_for(audio, listed)
        rel = audio.relative_to(corpus)
        items.append(Item(audio, transcript, rel, rel.parts[0] if len(rel.parts) > 1 else ""))
    return items


def output_base(out: Path, item: Item) -> Path:
    return out / item.rel


def outputs_of(out: Path, item: Item, formats: list[str]) -> list[Path]:
    from otalign_cli.formats import output_paths

    return [p for f in formats for p in output_paths(output_base(out, item), f)]


def collisions(items: list[Item], out: Path, formats: list[str]) -> dict[int, str]:
    """Per item (by index) that shares an output path with another: the other's name."""
    owner: dict[Path, int] = {}
    clash: dict[int, str] = {}
    for k, item in enumerate(items):
        for p in outputs_of(out, item, formats):
            j = owner.setdefault(p, k)
            if j != k:
                clash[k] = str(items[j].rel)
                clash.setdefault(j, str(item.rel))
    return clash


def pending(items: list[Item], out: Path, formats: list[str], overwrite: bool) -> tuple[list[Item], list[Item]]:
    """(to align, already finished): a file is finished when all its outputs exist."""
    todo, done = [], []
    for item in items:
        finished = not overwrite and all(p.exists() for p in outputs_of(out, item, formats))
        (done if finished else todo).append(item)
    return todo, done


ADAPT_MODES = ("none", "speaker", "file")


def adapt_groups(items: list[Item], mode: str) -> list[tuple[list[Item], bool]]:
    """(files, adapt them?) units of work for ``--adapt``: a speaker folder's files together
    (``speaker``), or each file alone (``file``); files with no speaker folder are never pooled."""
    if mode == "file":
        return [([item], True) for item in items]
    by_speaker: dict[str, list[Item]] = {}
    for item in items:
        by_speaker.setdefault(item.speaker, []).append(item)
    groups = [(g, True) for spk, g in by_speaker.items() if spk]
    return groups + [([item], False) for item in by_speaker.get("", [])]


def work_units(items: list[Item], adapt: str, group_size: int) -> list[tuple[list[Item], bool | None]]:
    """The units of work of a run, the same for worker processes and Ray actors: (files, adapt
    them?) per ``adapt_groups``; else files sharing batched encoder passes (``length_groups``,
    False), or, with ``group_size`` 1, each file alone (None: ``align_one``)."""
    if adapt != "none":
        return adapt_groups(items, adapt)
    if group_size <= 1:
        return [([item], None) for item in items]
    return [(g, False) for g in length_groups(items, group_size)]


def length_groups(items: list[Item], size: int) -> list[list[Item]]:
    """Items sorted by audio length (unreadable files first) in groups of ``size``: similar lengths
    share an encoder batch, so little of it is padding."""
    import soundfile as sf

    def seconds(item: Item) -> float:
        try:
            return float(sf.info(str(item.audio)).duration)
        except Exception:
            return 0.0

    ordered = sorted(items, key=seconds)
    return [ordered[i:i + size] for i in range(0, len(ordered), size)]
