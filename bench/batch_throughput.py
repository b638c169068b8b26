"""Corpus throughput of ``otalign batch`` for --jobs 1 and 2, and the cost of resuming (run by hand).

Copies the first N utterances of a corpus (audio + transcript, speaker folders kept) into a
temporary corpus, aligns it into fresh folders with --jobs 1 and --jobs 2, then runs the
finished --jobs 2 job again (every file skipped). Wall times include process start and model
loading, as a user sees them. Appends the table to bench/RESULTS.md:

    python bench/batch_throughput.py data/synth2 --files 80
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import soundfile as sf
from results import report


def run(corpus: Path, out: Path, jobs: int) -> float:
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "otalign_cli", "batch", str(corpus), str(out), "--jobs", str(jobs),
                           "-f", "textgrid", "-f", "json"], capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"batch failed: {proc.stderr[-500:]}")
    return wall


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("source", type=Path, help="a corpus with manifest.jsonl (otalign synth)")
    ap.add_argument("--files", type=int, default=80)
    args = ap.parse_args()
    records = [json.loads(x) for x in (args.source / "manifest.jsonl").read_text().splitlines()][: args.files]
    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp) / "corpus"
        audio_s = 0.0
        for r in records:
            src = args.source / r["audio"]
            dst = corpus / r["audio"]
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(src, dst)
            shutil.copy(src.with_suffix(".txt"), dst.with_suffix(".txt"))
            audio_s += sf.info(str(src)).duration
        walls = {jobs: run(corpus, Path(tmp) / f"out{jobs}", jobs) for jobs in (1, 2)}
        resume = run(corpus, Path(tmp) / "out2", 2)
    lines = [f"\n## otalign batch throughput ({time.strftime('%Y-%m-%d')})\n",
             f"{len(records)} files, {audio_s / 60:.1f} min of audio (first {len(records)} of {args.source}), "
             f"TextGrid + JSON with the CTC comparison, {platform.machine()}, 2 cores. Command: "
             f"`python bench/batch_throughput.py {args.source} --files {args.files}`. Wall time includes starting "
             "the workers and loading the models.\n",
             "| run | wall s | audio s per wall s |", "|---|---|---|"]
    for jobs, wall in walls.items():
        lines.append(f"| --jobs {jobs} | {wall:.1f} | {audio_s / wall:.1f} |")
    lines.append(f"| --jobs 2, run again on the finished output (all skipped) | {resume:.1f} | - |")
    lines.append(f"\n--jobs 2 vs --jobs 1: {walls[1] / walls[2]:.2f}× faster; resuming a finished run costs "
                 f"{100 * resume / walls[2]:.0f} % of running it.")
    report(lines)


if __name__ == "__main__":
    main()
