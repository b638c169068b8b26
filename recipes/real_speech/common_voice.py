"""Common Voice clips -> otalign corpus: read English sentences by many speakers and accents.

Sources (Common Voice English 6.1, CC0), each a table with Common Voice's columns
(``client_id, path, sentence, ...``) beside the clips; ``client_id`` is the speaker:
- https://github.com/rigved/rit-engl-682-spring-2021-project: ``data/`` (100 clips, wav) and
  ``validated.csv`` (comma separated). Only the clips and their sentences are used (the
  repository's code is AGPL and none of it is taken).
- https://github.com/omnilingo/rsample-100-cv-corpus-6.1-2020-12-11: ``en/clips/`` (100 other
  clips, mp3) and ``en/validated.tsv`` (Common Voice's own tab-separated table); its other
  languages' folders are left out (rows whose ``locale`` is not ``en``).

    python recipes/real_speech/common_voice.py CHECKOUT data/real/common-voice
"""

from __future__ import annotations

import csv
import io
import sys
from pathlib import Path

from common import Utterance, main

from otalign_cli.errors import OtalignError
from otalign_cli.text.files import read_utf8


AUDIO = (".wav", ".mp3", ".flac")


def utterances(root: Path) -> list[Utterance]:
    clips: dict[str, Path] = {}  # stem -> audio, walked once: a checkout may hold tens of thousands of clips
    for p in sorted(root.rglob("*")):
        if p.suffix.lower() in AUDIO and p.is_file():
            clips.setdefault(p.stem, p)
    out = []
    for table in sorted([*root.rglob("validated.csv"), *root.rglob("validated.tsv")]):
        rows = csv.DictReader(io.StringIO(read_utf8(table, "Common Voice table"), newline=""),
                              delimiter="\t" if table.suffix == ".tsv" else ",")
        missing = sorted({"path", "sentence", "client_id"} - set(rows.fieldnames or ()))
        if missing:
            raise OtalignError(table, f"no {', '.join(missing)} column{'s' if len(missing) > 1 else ''} "
                               f"(Common Voice's {table.name} has client_id, path, sentence, ...)")
        for row in rows:
            if None in (row["path"], row["sentence"], row["client_id"]):
                print(f"skipped {table.name} line {rows.line_num}: fewer fields than the header", file=sys.stderr)
                continue
            if row.get("locale") not in (None, "", "en"):  # a checkout may hold other languages' tables too
                continue
            audio = clips.get(Path(row["path"]).stem)
            if audio is not None:
                out.append(Utterance(f"cv-{audio.stem}", audio, row["sentence"], f"cv-{row['client_id'][:12]}"))
    return out


if __name__ == "__main__":
    main(__doc__, utterances, "Common Voice English 6.1", "CC0-1.0")
