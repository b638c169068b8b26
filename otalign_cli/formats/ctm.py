"""NIST CTM: one line per token, ``<file> <channel> <start> <duration> <token> [<confidence>]``.

A first line starting with ``;;`` (a comment in NIST's formats, skipped by sclite) names what
produced the times: otalign's version, the readout and the model. Words go to ``STEM.ctm``,
phones to ``STEM.phones.ctm``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from otalign_cli.formats import OutputContext, OutputFormat, register
from otalign_cli.formats.tiers import provenance

if TYPE_CHECKING:
    from otalign_cli.pipeline import FileResult, Segment


def ctm_lines(file_id: str, segments: list[Segment], channel: str = "1", label=lambda s: s) -> str:
    """One line per segment, in time order; the optional sixth column is the confidence when there is one."""
    return "".join(f"{file_id} {channel} {s.start:.3f} {s.end - s.start:.3f} {label(s.label).replace(' ', '_')}"
                   + (f" {s.confidence:.3f}" if s.confidence is not None else "") + "\n"
                   for s in sorted(segments, key=lambda s: s.start))


def render(res: FileResult, ctx: OutputContext):
    head = f";; {provenance(res, ctx)}\n"
    stem = res.audio.stem
    return (head + ctm_lines(stem, res.ot.words), head + ctm_lines(stem, res.ot.phones, label=ctx.phone))


register(OutputFormat("ctm", (".ctm", ".phones.ctm"), render, "NIST CTM: words in STEM.ctm, phones in STEM.phones.ctm"))
