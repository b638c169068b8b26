"""Praat TextGrid output through praatio (long format; pauses are empty intervals)."""

from __future__ import annotations

from pathlib import Path

from praatio import textgrid as ptg

from otalign_cli.errors import OtalignError
from otalign_cli.formats.atomic import write_with

Interval = tuple[float, float, str]


def build_textgrid(tiers: dict[str, list[Interval]], duration: float) -> ptg.Textgrid:
    """Tiers in the given order; gaps between intervals become empty (pause) intervals on save."""
    tg = ptg.Textgrid(minTimestamp=0.0, maxTimestamp=duration)
    for name, intervals in tiers.items():
        rounded = [(round(s, 6), min(round(e, 6), duration), label) for s, e, label in intervals]
        entries = [(s, e, label) for s, e, label in rounded if e > s]
        tg.addTier(ptg.IntervalTier(name, entries, 0.0, duration))
    return tg


def write_textgrid(path: Path, tiers: dict[str, list[Interval]], duration: float) -> None:
    tg = build_textgrid(tiers, duration)
    write_with(path, lambda tmp: tg.save(str(tmp), format="long_textgrid", includeBlankSpaces=True))


def read_textgrid(path: Path) -> dict[str, list[Interval]]:
    """Non-empty intervals of every interval tier; reads Praat's short, long and UTF-16 files.

    A missing or malformed file raises ``OtalignError`` naming it.
    """
    if not path.is_file():
        raise OtalignError(path, "TextGrid not found")
    try:
        tg = ptg.openTextgrid(str(path), includeEmptyIntervals=False)
    except Exception as err:  # praatio raises several types for malformed files
        reason = str(err).splitlines()[0][:100] if str(err) else type(err).__name__
        raise OtalignError(path, f"cannot read TextGrid ({reason})") from None
    return {name: [(e.start, e.end, e.label) for e in tg.getTier(name).entries] for name in tg.tierNames}
