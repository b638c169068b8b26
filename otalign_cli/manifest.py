"""A corpus's ``manifest.jsonl``: one ``Recording`` per line, written and read by the same code.

lhotse's idea in small: a serializable record per recording (its audio path relative to the
corpus folder, split, and what else is known of it: transcript, gold TextGrid, duration,
speaker, source); fields a producer adds of its own (``otalign synth``'s voice, engine, speed,
...) ride in ``extra`` and come back out unchanged. ``otalign synth``, the reserved-voice set and
the real-speech recipes write it; ``otalign train``, ``train-boundaries``, ``train-frames`` and
the long-recording builder read it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from otalign_cli.errors import OtalignError
from otalign_cli.formats.atomic import write_text_atomic
from otalign_cli.text.files import read_utf8

_BEFORE = ("id", "audio", "text", "textgrid", "duration")  # on a line: these, then ``extra``, then _AFTER
_AFTER = ("speaker", "split", "source")


@dataclass(frozen=True)
class Recording:
    audio: str  # path relative to the corpus folder
    split: str = "train"  # train, dev, or eval (the reserved voices)
    id: str | None = None
    text: str | None = None  # the transcript as read
    textgrid: str | None = None  # gold words and phones, relative to the corpus folder
    duration: float | None = None  # seconds
    speaker: str | None = None
    source: str | None = None  # the public corpus it came from
    extra: dict = field(default_factory=dict)  # a producer's own fields, kept in their order

    def to_json(self) -> str:
        d = {k: getattr(self, k) for k in _BEFORE if getattr(self, k) is not None}
        d.update(self.extra)
        d.update({k: getattr(self, k) for k in _AFTER if getattr(self, k) is not None})
        return json.dumps(d)

    @classmethod
    def from_dict(cls, d: dict) -> Recording:
        """A record from one parsed line; ``ValueError`` saying what is wrong with it."""
        if not isinstance(d, dict) or not isinstance(d.get("audio"), str):
            raise ValueError('a record needs an "audio" path')
        known = {k: d[k] for k in (*_BEFORE, *_AFTER) if k in d}
        for k, v in known.items():
            if k == "duration":
                if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float))):
                    raise ValueError(f'"duration" must be a number of seconds, not {v!r}')
            elif v is not None and not isinstance(v, str):
                raise ValueError(f'"{k}" must be text, not {v!r}')
        return cls(**known, extra={k: v for k, v in d.items() if k not in known})


def write_manifest(path: Path, records: list[Recording]) -> None:
    """Write ``path`` atomically, one record per line."""
    write_text_atomic(path, "".join(r.to_json() + "\n" for r in records))


def read_manifest(path: Path) -> list[Recording]:
    """The records of ``path``; ``OtalignError`` naming the file and line for a broken one."""
    out = []
    for n, line in enumerate(read_utf8(path, "manifest").splitlines(), 1):
        if not line.strip():
            continue
        try:
            out.append(Recording.from_dict(json.loads(line)))
        except json.JSONDecodeError as err:
            raise OtalignError(path, f"line {n}: not valid JSON ({err.msg})") from None
        except ValueError as err:
            raise OtalignError(path, f"line {n}: {err}") from None
    return out
