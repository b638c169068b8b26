"""JSON output: words with their phones nested, in seconds, with the model and the readout used."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from otalign_cli import __version__
from otalign_cli.formats import OutputContext, OutputFormat, register
from otalign_cli.formats.tiers import models_used

if TYPE_CHECKING:
    from otalign_cli.results import Alignment, FileResult


def _entry(key: str, s, label: str | None = None) -> dict:
    d = {key: s.label if label is None else label, "start": round(s.start, 4), "end": round(s.end, 4)}
    if s.confidence is not None:
        d["confidence"] = round(s.confidence, 4)
    if s.speaker:
        d["speaker"] = s.speaker
    return d


def _words(al: Alignment, ctx: OutputContext) -> list[dict]:
    out = []
    for w_idx, w in enumerate(al.words):
        phones = [_entry("phone", p, ctx.phone(p.label)) for p, owner in zip(al.phones, al.phone_word) if owner == w_idx]
        out.append({**_entry("word", w), "phones": phones})
    return out


def result_dict(res: FileResult, models: dict[str, dict], ctx: OutputContext | None = None) -> dict:
    ctx = ctx or OutputContext(models)
    models = models_used(res.readout, models)
    d = {
        "audio": str(res.audio),
        "transcript": str(res.transcript),
        "duration": round(res.duration, 4),
        "otalign_version": __version__,
        "model": models.get("ottc", {}),
        "readout": res.readout,
        "adapted": res.adapted,
        "phone_set": ctx.options.phone_set,
        "words": _words(res.ot, ctx),
        # timings stay out of the file, so the same input always gives the same bytes
        "stats": {k: v for k, v in res.stats.to_dict().items() if k not in ("label_delay", "seconds", "real_time_factor")},
    }
    if any(u.speaker for u in res.utterances) or ctx.options.include_original_text:
        d["utterances"] = [{"speaker": u.speaker, "start": round(u.start, 4), "end": round(u.end, 4), "text": u.text}
                           for u in res.utterances]
    if res.ctc is not None:
        d["ctc"] = {"model": models.get("ctc", {}), "words": _words(res.ctc, ctx)}
        d["label_delay"] = res.stats.label_delay or {}
    return d


def render(res: FileResult, ctx: OutputContext):
    return (json.dumps(result_dict(res, ctx.models, ctx), indent=2, ensure_ascii=False) + "\n",)


register(OutputFormat("json", (".json",), render, "JSON: words with their phones nested, model, readout, stats"))
