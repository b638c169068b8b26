"""JSON output: words with their phones nested, in seconds, with the model and the readout used."""

from __future__ import annotations

import json
from pathlib import Path

from otalign_cli import __version__
from otalign_cli.formats.atomic import write_text_atomic
from otalign_cli.pipeline import Alignment, FileResult


def _entry(key: str, s) -> dict:
    d = {key: s.label, "start": round(s.start, 4), "end": round(s.end, 4)}
    if s.confidence is not None:
        d["confidence"] = round(s.confidence, 4)
    return d


def _words(al: Alignment) -> list[dict]:
    out = []
    for w_idx, w in enumerate(al.words):
        phones = [_entry("phone", p) for p, owner in zip(al.phones, al.phone_word) if owner == w_idx]
        out.append({**_entry("word", w), "phones": phones})
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
