"""NIST CTM: one line per token, ``<file> <channel> <start> <duration> <token> [<confidence>]``.

A first line starting with ``;;`` (a comment in NIST's formats, skipped by sclite) names what
produced the times: otalign's version, the readout and the model.
"""

from __future__ import annotations

from pathlib import Path

from otalign_cli.formats.atomic import write_text_atomic
from otalign_cli.pipeline import Segment


def ctm_lines(file_id: str, segments: list[Segment], channel: str = "1") -> str:
    """One line per segment; the optional sixth column is the confidence when there is one."""
    return "".join(f"{file_id} {channel} {s.start:.3f} {s.end - s.start:.3f} {s.label.replace(' ', '_')}"
                   + (f" {s.confidence:.3f}" if s.confidence is not None else "") + "\n" for s in segments)


def write_ctm(path: Path, file_id: str, segments: list[Segment], comment: str | None = None) -> None:
    head = f";; {comment}\n" if comment else ""
    write_text_atomic(path, head + ctm_lines(file_id, segments))
