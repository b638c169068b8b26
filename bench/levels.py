"""Recording level: the same recordings attenuated, aligned, and compared with themselves as read.

Every ``--every``-th recording of a folder (audio with a same-stem .txt) is aligned as read, then
attenuated by each of ``--db`` and aligned again; reports the mean |word start shift| against the
alignment as read (ms), per attenuation. A level-invariant front end keeps it near 0. Appends the
table to bench/RESULTS.md (``--no-report``: print only).

    python bench/levels.py ../shared/data/timit-dev --every 6
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf
from results import report

import otalign_cli as otalign
from otalign_cli.audio import load_audio


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folder", type=Path)
    ap.add_argument("--db", type=float, nargs="+", default=[-20, -30, -40, -50])
    ap.add_argument("--every", type=int, default=1, help="take every n-th recording")
    ap.add_argument("--no-report", action="store_true")
    a = ap.parse_args()
    files = sorted(f for f in a.folder.glob("*.wav") if f.with_suffix(".txt").is_file())[::a.every]
    if not files:
        sys.exit(f"error: {a.folder}: no recordings with same-stem .txt transcripts")
    models = otalign.load_models(with_ctc=False)
    shifts: dict[float, list[float]] = {db: [] for db in a.db}
    t0 = time.time()
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "quiet.wav"
        for f in files:
            ref = otalign.align(f, f.with_suffix(".txt"), models).ot.words
            samples = load_audio(f)
            for db in a.db:
                sf.write(wav, samples * 10 ** (db / 20), 16000, subtype="FLOAT")
                got = otalign.align(wav, f.with_suffix(".txt"), models).ot.words
                shifts[db].append(float(np.mean([abs(g.start - r.start) for g, r in zip(got, ref)])))
    lines = ["", f"## Recording level: {a.folder.name} ({time.strftime('%Y-%m-%d')}, "
             f"`python bench/{Path(__file__).name} {' '.join(sys.argv[1:])}`)", "",
             f"{len(files)} recordings attenuated and aligned again ({time.time() - t0:.0f} s); mean |word start "
             "shift| against the same recording as read, ms (mean over recordings; worst recording).", "",
             "| attenuation | mean shift ms | worst recording ms |", "|---|---|---|"]
    lines += [f"| {db:g} dB | {1000 * np.mean(v):.1f} | {1000 * np.max(v):.1f} |" for db, v in shifts.items()]
    report(lines, append=not a.no_report)


if __name__ == "__main__":
    main()
