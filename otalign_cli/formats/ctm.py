"""NIST CTM: one line per token, ``<file> <channel> <start> <duration> <token> [<confidence>]``.

A first line starting with ``;;`` (a comment in NIST's formats, skipped by sclite) names what
produced the times: otalign's version, the readout and the model. Words go to ``STEM.ctm``,
phones to ``STEM.phones.ctm``.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from otalign_cli.formats import OutputContext, OutputFormat, register
from otalign_cli.formats.tiers import provenance

if TYPE_CHECKING:
    from otalign_cli.results import FileResult, Segment


def _token(text: str) -> str:
    """One whitespace-free CTM field: spaces, tabs and newlines in a name or label become "_"."""
    return re.sub(r"\s+", "_", text.strip()) or "_"


def ctm_lines(file_id: str, segments: list[Segment], channel: str = "1", label=lambda s: s) -> str:
    """One line per segment, in time order; the optional sixth column is the confidence when there is one."""
    file_id = _token(file_id)
    return "".join(f"{file_id} {channel} {s.start:.3f} {s.end - s.start:.3f} {_token(label(s.label))}"
                   + (f" {s.confidence:.3f}" if s.confidence is not None else "") + "\n"
                   for s in sorted(segments, key=lambda s: s.start))


def render(res: FileResult, ctx: OutputContext):
    head = f";; {provenance(res, ctx)}\n"
    stem = res.audio.stem
    return (head + ctm_lines(stem, res.ot.words), head + ctm_lines(stem, res.ot.phones, label=ctx.phone))


register(OutputFormat("ctm", (".ctm", ".phones.ctm"), render, "NIST CTM: words in STEM.ctm, phones in STEM.phones.ctm"))
