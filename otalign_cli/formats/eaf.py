"""ELAN annotation file (.eaf, EAF 3.0): every tier of ``formats.tiers`` as a time-aligned tier.

Times are whole milliseconds (EAF's unit). The media descriptor points at the recording by
absolute URL and by a path relative to the .eaf, so ELAN finds it when the folder moves. The
document's date is the recording's modification time, so the same input gives the same bytes.
"""

from __future__ import annotations

import datetime as dt
import mimetypes
import os
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import TYPE_CHECKING

from otalign_cli.formats import OutputContext, OutputFormat, register
from otalign_cli.formats.tiers import interval_tiers, provenance

if TYPE_CHECKING:
    from otalign_cli.results import FileResult

SCHEMA = "http://www.mpi.nl/tools/elan/EAFv3.0.xsd"
MIME = {".wav": "audio/x-wav", ".mp3": "audio/mpeg", ".flac": "audio/flac", ".ogg": "audio/ogg"}


def eaf_text(res: FileResult, ctx: OutputContext, eaf_path: Path | None = None) -> str:
    audio = res.audio.resolve()
    try:
        stamp = dt.datetime.fromtimestamp(audio.stat().st_mtime, dt.timezone.utc)
    except OSError:
        stamp = dt.datetime.fromtimestamp(0, dt.timezone.utc)
    root = ET.Element("ANNOTATION_DOCUMENT", {
        "AUTHOR": provenance(res, ctx), "DATE": stamp.replace(microsecond=0).isoformat(), "FORMAT": "3.0",
        "VERSION": "3.0", "xmlns:xsi": "http://www.w3.org/2001/XMLSchema-instance",
        "xsi:noNamespaceSchemaLocation": SCHEMA})
    header = ET.SubElement(root, "HEADER", {"MEDIA_FILE": "", "TIME_UNITS": "milliseconds"})
    media = {"MEDIA_URL": audio.as_uri(),
             "MIME_TYPE": MIME.get(audio.suffix.lower()) or mimetypes.guess_type(audio.name)[0] or "audio/x-wav"}
    if eaf_path is not None:
        rel = Path(os.path.relpath(audio, eaf_path.resolve().parent)).as_posix()
        media["RELATIVE_MEDIA_URL"] = rel if rel.startswith("../") else "./" + rel
    ET.SubElement(header, "MEDIA_DESCRIPTOR", media)
    prop = ET.SubElement(header, "PROPERTY", {"NAME": "lastUsedAnnotationId"})
    order = ET.SubElement(root, "TIME_ORDER")
    tiers = interval_tiers(res, ctx)
    # time slots numbered in time order, one per distinct millisecond
    times = sorted({max(0, round(t * 1000)) for ivs in tiers.values() for s, e, _ in ivs for t in (s, e)})
    slots = {ms: f"ts{k}" for k, ms in enumerate(times, 1)}

    def slot(t: float) -> str:
        return slots[max(0, round(t * 1000))]

    n_ann = 0
    tier_elems = []
    for name, intervals in tiers.items():
        tier = ET.Element("TIER", {"LINGUISTIC_TYPE_REF": "default-lt", "TIER_ID": name})
        for start, end, label in intervals:
            a, b = slot(start), slot(end)
            if a == b:  # shorter than a millisecond: EAF cannot hold it
                continue
            n_ann += 1
            ann = ET.SubElement(ET.SubElement(tier, "ANNOTATION"), "ALIGNABLE_ANNOTATION",
                                {"ANNOTATION_ID": f"a{n_ann}", "TIME_SLOT_REF1": a, "TIME_SLOT_REF2": b})
            ET.SubElement(ann, "ANNOTATION_VALUE").text = label
        tier_elems.append(tier)
    for ms, sid in sorted(slots.items()):
        ET.SubElement(order, "TIME_SLOT", {"TIME_SLOT_ID": sid, "TIME_VALUE": str(ms)})
    prop.text = str(n_ann)
    root.extend(tier_elems)
    ET.SubElement(root, "LINGUISTIC_TYPE", {"GRAPHIC_REFERENCES": "false", "LINGUISTIC_TYPE_ID": "default-lt",
                                            "TIME_ALIGNABLE": "true"})
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


register(OutputFormat("eaf", (".eaf",), lambda res, ctx: (eaf_text(res, ctx, ctx.base.with_suffix(".eaf") if ctx.base else None),),
                      "ELAN .eaf: words and phones (and CTC) as time-aligned tiers"))
