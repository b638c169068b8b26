"""JSON output: words with their phones nested, in seconds, with the model and the readout used."""

from __future__ import annotations

import json
from pathlib import Path

from otalign_cli import __version__
from otalign_cli.formats.atomic import write_text_atomic
from otalign_cli.pipeline import Alignment, FileResult


def _words(al: Alignment) -> list[dict]:
    out = []
    for w_idx, w in enumerate(al.words):
        phones = [{"phone": p.label, "start": round(p.start, 4), "end": round(p.end, 4)}
                  for p, owner in zip(al.phones, al.phone_word) if owner == w_idx]
        out.append({"word": w.label, "start": round(w.start, 4), "end": round(w.end, 4), "phones": phones})
    return out


def result_dict(res: FileResult, models: dict[str, dict]) -> dict:
    d = {
        "audio": str(res.audio),
        "transcript": str(res.transcript),
        "duration": round(res.duration, 4),
        "otalign_version": __version__,
        "model": models.get("ottc", {}),
        "readout": res.readout,
        "words": _words(res.ot),
        # timings stay out of the file, so the same input always gives the same bytes
        "stats": {k: v for k, v in res.stats.items() if k not in ("label_delay", "seconds", "real_time_factor")},
    }
    if res.ctc is not None:
        d["ctc"] = {"model": models.get("ctc", {}), "words": _words(res.ctc)}
        d["label_delay"] = res.stats.get("label_delay", {})
    return d


def write_json(path: Path, res: FileResult, models: dict[str, dict]) -> None:
    write_text_atomic(path, json.dumps(result_dict(res, models), indent=2, ensure_ascii=False) + "\n")
