"""CSV in the Montreal Forced Aligner's columns: Begin, End, Label, Type (words or phones), Speaker.

Rows are in time order, a word before the phones it holds. The speaker is the transcript's tier
name for a TextGrid transcript, otherwise the folder the audio is in (MFA's convention).
"""

from __future__ import annotations

import csv
import io
from typing import TYPE_CHECKING

from otalign_cli.formats import OutputContext, OutputFormat, register

if TYPE_CHECKING:
    from otalign_cli.results import FileResult

HEADER = ("Begin", "End", "Label", "Type", "Speaker")


def csv_text(res: FileResult, ctx: OutputContext) -> str:
    default = res.audio.resolve().parent.name
    rows = [(w.start, 0, w.end, w.label, "words", w.speaker or default) for w in res.ot.words]
    rows += [(p.start, 1, p.end, ctx.phone(p.label), "phones", p.speaker or default) for p in res.ot.phones]
    rows.sort(key=lambda r: (r[0], r[1]))
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(HEADER)
    for start, _, end, label, kind, speaker in rows:
        writer.writerow((f"{start:.4f}", f"{end:.4f}", label, kind, speaker))
    return buf.getvalue()


register(OutputFormat("csv", (".csv",), lambda res, ctx: (csv_text(res, ctx),),
                      "CSV with MFA's columns: Begin, End, Label, Type, Speaker"))
