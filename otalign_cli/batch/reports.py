"""What a batch run leaves beside the outputs: suspects.tsv, the per-file records that let a
resumed run report the files it skips, and the summary."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

from otalign_cli.batch.corpus import Item, Outcome, outputs_of
from otalign_cli.results import Suspect

SUSPECTS_HEADER = "path\tstart\tend\twords\n"
_TSV_ESCAPES = {"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"}


def tsv_field(text: str) -> str:
    """A value made safe for one TSV cell: backslash, tab, newline and return written as \\\\, \\t, \\n, \\r."""
    return "".join(_TSV_ESCAPES.get(c, c) for c in text)


def tsv_value(field: str) -> str:
    """The value ``tsv_field`` wrote."""
    out, chars = [], iter(field)
    for c in chars:
        if c == "\\":
            nxt = next(chars, "")
            out.append({"t": "\t", "n": "\n", "r": "\r"}.get(nxt, nxt))
        else:
            out.append(c)
    return "".join(out)


def suspect_rows(outcome: Outcome) -> str:
    """Lines of OUT/suspects.tsv for one file (none if nothing was suspect)."""
    return "".join(f"{tsv_field(str(outcome.item.rel))}\t{x.start:.3f}\t{x.end:.3f}\t{tsv_field(x.words)}\n"
                   for x in outcome.suspects)


def read_suspects(path: Path) -> dict[str, list[Suspect]]:
    """Per file, the suspect stretches an earlier run recorded in ``path`` (suspects.tsv).

    A run that was killed leaves the rows of the files it finished, perhaps with a cut last line,
    which is ignored; so a resumed run can still list the files it skips.
    """
    out: dict[str, list[Suspect]] = {}
    if not path.is_file():
        return out
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines()[1:]:
        parts = line.split("\t")
        try:
            row = Suspect(float(parts[1]), float(parts[2]), tsv_value(parts[3]))
        except (IndexError, ValueError):
            continue
        out.setdefault(tsv_value(parts[0]), []).append(row)
    return out


def remove_stale_temporaries(out: Path) -> None:
    """Temporary files a killed otalign run left behind, known by their mark; nobody else's."""
    from otalign_cli.formats.atomic import TEMP_MARK

    for tmp in out.rglob(".*" + TEMP_MARK):
        if tmp.is_file():
            tmp.unlink(missing_ok=True)


RECORDS = ".otalign"  # OUT/.otalign/REL.json: what a finished file's report rows need, for resumed runs


def record_path(out: Path, item: Item) -> Path:
    return out / RECORDS / (str(item.rel) + ".json")


def recorded_suspects(out: Path, item: Item) -> list[Suspect] | None:
    """The suspect stretches written with the file's outputs, or None (no record, or unreadable)."""
    try:
        return [Suspect(**x) for x in json.loads(record_path(out, item).read_text(encoding="utf-8"))["suspects"]]
    except (OSError, ValueError, KeyError, TypeError):
        return None


# Settings that are not compared when a run resumes: the device moves times by under 0.2 ms
# (docs/aligning.md), the dictionary is compared by its SHA-256 rather than where it lies, and the
# subtitle limits lay out cues without moving a time.
NOT_COMPARED = frozenset({"device", "dictionary", "max_line_chars", "max_cue_lines", "max_cue_seconds"})


def settings_digest(settings: dict) -> str:
    """What every finished file's record carries: a digest of the settings that shaped its outputs."""
    kept = {k: v for k, v in settings.items() if k not in NOT_COMPARED}
    return hashlib.sha256(json.dumps(kept, sort_keys=True).encode()).hexdigest()[:16]


def settings_path(out: Path, digest: str) -> Path:
    return out / RECORDS / "settings" / f"{digest}.json"


def record_settings(out: Path, settings: dict) -> None:
    """Keep ``settings`` in ``out`` under their digest, so a later run can say what differs (the
    last run with a digest writes it: its device, dictionary path and subtitle limits)."""
    from otalign_cli.formats.atomic import write_text_atomic

    path = settings_path(out, settings_digest(settings))
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(path, json.dumps(settings, indent=2) + "\n")


def _json_dict(path: Path) -> dict | None:
    try:
        found = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return found if isinstance(found, dict) else None


def made_otherwise(out: Path, items: list[Item], digest: str) -> tuple[Item, dict | None] | None:
    """The first file with outputs in ``out`` (in any format) that were made under settings other
    than ``digest``'s: its record names another digest, or there is no readable record (outputs of
    an older otalign, or whose records were deleted). With those settings where they are kept."""
    from otalign_cli.formats import REGISTRY

    every_format = list(REGISTRY)
    for item in items:
        if not any(p.exists() for p in outputs_of(out, item, every_format)):
            continue  # nothing of it to mix with (a record alone is left by a kill before the outputs)
        theirs = (_json_dict(record_path(out, item)) or {}).get("settings_digest")
        if theirs == digest:
            continue
        return item, _json_dict(settings_path(out, str(theirs))) if isinstance(theirs, str) else None
    return None


def resume_refusal(out: Path, items: list[Item], settings: dict) -> str | None:
    """Why a run with ``settings`` may not resume in ``out`` without ``--overwrite``, in one line; None if it may."""
    other = made_otherwise(out, items, settings_digest(settings))
    if other is None:
        return None
    item, theirs = other
    what = ("; ".join(settings_changes(theirs, settings)) or "settings differ") if theirs is not None \
        else "its settings are not recorded"
    return (f"{out}: holds files aligned with other settings ({tsv_field(str(item.rel))}: {what}); give the same "
            "options to resume, --overwrite to realign every file, or delete that file's outputs")


def settings_changes(before: dict, now: dict) -> list[str]:
    """What differs between two runs' settings that gives a file other outputs, in words
    (``readout plain before, refine now``); models by role (``other OTTC model``, ``CTC twin off
    before, on now``), their boundary and frame models only where not switched off or on."""
    from otalign_cli.models import without_parts

    changes = []
    for key in sorted(set(before) | set(now)):
        if key in NOT_COMPARED or key == "models" or before.get(key) == now.get(key):
            continue
        if key.endswith("_sha256"):
            changes.append(f"other {key.removesuffix('_sha256').replace('_', ' ')}")
        else:
            changes.append(f"{key.replace('_', ' ')} {before.get(key)} before, {now.get(key)} now")
    was, became = before.get("models"), now.get("models")
    was, became = (was if isinstance(was, dict) else {}), (became if isinstance(became, dict) else {})
    switched = before.get("boundaries") != now.get("boundaries") or before.get("frames") != now.get("frames")
    for key, role in (("ottc", "OTTC model"), ("ctc", "CTC twin")):
        a, b = was.get(key), became.get(key)
        if (a is None) != (b is None):
            changes.append(f"{role} {'off' if a is None else 'on'} before, {'off' if b is None else 'on'} now")
        elif (without_parts(a) != without_parts(b)) or (a != b and not switched):
            changes.append(f"other {role}")
    return changes


def summarize_outcomes(outcomes: list[Outcome], wall: float) -> dict:
    """Counts, hours, speed and the corpus label delay, overall and per speaker."""

    def block(group: list[Outcome]) -> dict:
        aligned = [o for o in group if o.status == "aligned"]
        delays = np.array([d for o in aligned for d in o.delays_ms])
        hours = sum(o.duration for o in aligned) / 3600
        out = {"files": len(group), "aligned": len(aligned),
               "skipped": sum(o.status == "skipped" for o in group),
               "failed": sum(o.status == "failed" for o in group), "audio_hours": round(hours, 4),
               "files_with_suspects": sum(bool(o.suspects) for o in group)}
        if delays.size:
            out["label_delay_ms"] = {"mean": float(delays.mean()), "median": float(np.median(delays)),
                                     "p90": float(np.percentile(delays, 90)), "phones": int(delays.size)}
        return out

    summary = block(outcomes)
    aligned_hours = summary["audio_hours"]
    summary["wall_seconds"] = round(wall, 2)
    # speed both ways: times faster than real time, and the real time factor (processing / audio time)
    summary["x_real_time"] = round(aligned_hours * 3600 / wall, 1) if wall > 0 and aligned_hours else None
    summary["real_time_factor"] = round(wall / (aligned_hours * 3600), 4) if aligned_hours else None
    speakers = sorted({o.item.speaker for o in outcomes if o.item.speaker})
    if speakers:
        summary["speakers"] = {s: block([o for o in outcomes if o.item.speaker == s]) for s in speakers}
    return summary
