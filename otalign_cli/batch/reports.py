"""What a batch run leaves beside the outputs: suspects.tsv, the per-file records that let a
resumed run report the files it skips, and the summary."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from otalign_cli.batch.corpus import Item, Outcome
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


# settings that leave every time as it was: the device (bench/cuda_parity.py) and how the work is spread
NOT_IN_THE_OUTPUTS = frozenset({"device"})


def settings_path(out: Path) -> Path:
    return out / RECORDS / "settings.json"


def recorded_settings(out: Path) -> dict | None:
    """The settings the run that last wrote into ``out`` started with, or None (none recorded, unreadable)."""
    try:
        found = json.loads(settings_path(out).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return found if isinstance(found, dict) else None


def settings_changes(before: dict, now: dict) -> list[str]:
    """What differs between two runs' settings that would give a file other outputs, in words
    (``readout plain before, refine now``); the models by name, not by their SHA-256s."""
    changes = []
    for key in sorted(set(before) | set(now)):
        if key in NOT_IN_THE_OUTPUTS or before.get(key) == now.get(key):
            continue
        if isinstance(before.get(key), dict) or isinstance(now.get(key), dict):
            changes.append(f"other {key.replace('_', ' ')}")
        else:
            changes.append(f"{key.replace('_', ' ')} {before.get(key)} before, {now.get(key)} now")
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
