"""Praat TextGrid output through praatio (long format; pauses are empty intervals).

Besides the tiers of ``formats.tiers``, the last tier, ``otalign``, holds one interval over the
whole file naming otalign's version, the readout and the models, where a Praat user sees it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from praatio import textgrid as ptg

from otalign_cli.errors import OtalignError
from otalign_cli.formats import OutputContext, OutputFormat, register
from otalign_cli.formats.atomic import write_with
from otalign_cli.formats.tiers import interval_tiers, provenance

if TYPE_CHECKING:
    from otalign_cli.results import FileResult

Interval = tuple[float, float, str]
INFO_TIER = "otalign"


def _time(t: float) -> float:
    """``t`` rounded to the microsecond, and 0 below 0.1 ms: Python writes such floats with an
    exponent (2.6e-05), which praatio, and so many Praat users' scripts, cannot read back."""
    t = round(t, 6)
    return 0.0 if t < 1e-4 else t


def build_textgrid(tiers: dict[str, list[Interval]], duration: float) -> ptg.Textgrid:
    """Tiers in the given order; gaps between intervals become empty (pause) intervals on save."""
    tg = ptg.Textgrid(minTimestamp=0.0, maxTimestamp=duration)
    for name, intervals in tiers.items():
        rounded = [(_time(s), min(_time(e), duration), label) for s, e, label in intervals]
        entries = [(s, e, label) for s, e, label in rounded if e > s]
        tg.addTier(ptg.IntervalTier(name, entries, 0.0, duration))
    return tg


def _saver(tg: ptg.Textgrid):
    return lambda path: tg.save(str(path), format="long_textgrid", includeBlankSpaces=True)


def write_textgrid(path: Path, tiers: dict[str, list[Interval]], duration: float) -> None:
    """One TextGrid written atomically (the corpus recipe's gold files, the tests' references)."""
    write_with(path, _saver(build_textgrid(tiers, duration)))


def render(res: FileResult, ctx: OutputContext):
    tiers = interval_tiers(res, ctx)
    tiers[INFO_TIER] = [(0.0, res.duration, provenance(res, ctx))]
    return (_saver(build_textgrid(tiers, res.duration)),)


register(OutputFormat("textgrid", (".TextGrid",), render, "Praat TextGrid: words, phones (and CTC) tiers"))


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
    return {name: [(e.start, e.end, e.label) for e in tg.getTier(name).entries] for name in tg.tierNames
            if isinstance(tg.getTier(name), ptg.IntervalTier)}  # point tiers hold no intervals
