"""Speed perturbation (Ko et al., Interspeech 2015; Kaldi's 0.9/1.0/1.1 recipe) of a corpus.

Each recording is resampled as if played ``factor`` times faster (``synth.corpus.change_speed``,
as ``otalign synth`` varies its voices' speed): durations shrink by the factor, pitch and formants
rise by it, so one speaker becomes a slightly different one speaking at another rate.
Transcripts (``.txt``/``.lab``) are copied; gold TextGrids beside the audio get their times
divided by the factor; file names, and the manifest's ids, speakers and voices, are suffixed
(``a.wav`` -> ``a-sp1.1.wav``: an example's id is its file's stem, and a perturbed speaker is not
the original one); the other fields are kept. A recording that cannot be read is
reported and left out. The reserved-voice evaluation set is refused, as ``otalign train`` does.

    python recipes/experiments/speed_perturb/perturb.py data/real/ljspeech data/sp/ljspeech-0.9 0.9
"""

from __future__ import annotations

import argparse
import dataclasses
import shutil
import sys
from pathlib import Path

from otalign_cli.audio import SAMPLE_RATE, load_audio, write_wav
from otalign_cli.errors import OtalignError
from otalign_cli.formats.textgrid import read_textgrid, write_textgrid
from otalign_cli.manifest import Recording, read_manifest, write_manifest
from otalign_cli.synth.corpus import change_speed
from otalign_cli.train import corpus_entries


def perturb(corpus: Path, out: Path, factor: float) -> int:
    """Write ``corpus`` at ``factor`` times its speed under ``out``; the number of recordings written."""
    entries = corpus_entries(corpus)  # refuses the reserved voices
    manifest = corpus / "manifest.jsonl"
    records = read_manifest(manifest) if manifest.is_file() else [
        Recording(str(path.relative_to(corpus)), split) for path, split in entries]
    out.mkdir(parents=True, exist_ok=True)
    tag = f"-sp{factor:g}"
    kept = []
    for rec in records:
        src = corpus / rec.audio
        dest = out / Path(rec.audio).with_name(f"{src.stem}{tag}.wav")  # an example's id is its stem
        try:
            audio = change_speed(load_audio(src), factor)
            tg = src.with_suffix(".TextGrid")
            tiers = read_textgrid(tg) if tg.is_file() else None
        except OtalignError as err:
            print(f"skipped {rec.audio}: {err}", file=sys.stderr)
            continue
        dest.parent.mkdir(parents=True, exist_ok=True)
        write_wav(dest, audio)
        seconds = len(audio) / SAMPLE_RATE
        if tiers is not None:
            write_textgrid(dest.with_suffix(".TextGrid"),
                           {name: [(a / factor, b / factor, label) for a, b, label in items] for name, items in tiers.items()},
                           seconds)
        for ext in (".txt", ".lab"):
            if src.with_suffix(ext).is_file():
                shutil.copyfile(src.with_suffix(ext), dest.with_suffix(ext))
        extra = dict(rec.extra)
        if "voice" in extra:
            extra["voice"] = f"{extra['voice']}{tag}"
        if isinstance(extra.get("speed"), (int, float)):  # ``otalign synth``'s own speed factor
            extra["speed"] = round(extra["speed"] * factor, 3)
        kept.append(dataclasses.replace(
            rec, audio=str(dest.relative_to(out)), id=rec.id and rec.id + tag, speaker=rec.speaker and rec.speaker + tag,
            duration=round(seconds, 2) if rec.duration is not None else None, extra=extra))
    write_manifest(out / "manifest.jsonl", kept)
    return len(kept)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("corpus", type=Path, help="corpus folder (manifest.jsonl, or audio + .txt/.lab)")
    ap.add_argument("out", type=Path, help="folder to write the perturbed copy in")
    ap.add_argument("factor", type=float, help="speed factor, e.g. 0.9 or 1.1")
    a = ap.parse_args()
    if not a.corpus.is_dir():
        ap.error(f"{a.corpus}: not a folder")
    if not 0.5 <= a.factor <= 2.0:
        ap.error(f"factor {a.factor}: expected between 0.5 and 2")
    if a.out.resolve() == a.corpus.resolve():
        ap.error(f"{a.out}: is the corpus itself; write the copy elsewhere")
    try:
        n = perturb(a.corpus, a.out, a.factor)
    except OtalignError as err:
        sys.exit(f"error: {err}")
    print(f"{n} recordings at speed {a.factor:g} -> {a.out}")


if __name__ == "__main__":
    main()
