"""What a user waits for: `otalign batch` against pocketsphinx as whole processes (run by hand).

Both tools align the same folder of short utterances (audio + same-stem .txt) from a cold start
to the last file written: otalign with its defaults, pocketsphinx 5 (PyPI, its bundled en-us
model, a fresh decoder per file, word pass then phone pass, the same words; `pocketsphinx_job.py`,
which imports neither torch nor otalign's models). The runs alternate
(otalign, pocketsphinx, otalign, ...); each is timed by GNU time (wall, user + system CPU, peak
RSS). Prints medians with min-max and the ratios, and appends the table to bench/RESULTS.md:

    pip install pocketsphinx
    python bench/whole_process.py ../shared/data/timit-dev --runs 3 [--busy]

``--busy`` runs the same pair while one other CPU-bound process spins on the machine.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from results import report

def timed(cmd: list[str]) -> dict[str, float]:
    """Wall, CPU seconds and peak RSS (MB) of one whole process, from GNU time."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as t:
        subprocess.run(["/usr/bin/time", "-f", "%e %U %S %M", "-o", t.name, *cmd], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wall, user, system, rss = t.read().split()
    return {"wall": float(wall), "cpu": float(user) + float(system), "rss_mb": float(rss) / 1024}


def spinner() -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", "while True: pass"])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("corpus", type=Path)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--busy", action="store_true", help="one other CPU-bound process runs meanwhile")
    args = ap.parse_args()
    files = sorted(args.corpus.glob("*.wav"))
    audio_s = sum(os.path.getsize(f) for f in files) / 32000  # 16-bit 16 kHz mono
    work = Path(tempfile.mkdtemp(prefix="whole-process-"))
    job = Path(__file__).resolve().parent / "pocketsphinx_job.py"
    runs: dict[str, list[dict]] = {"otalign": [], "pocketsphinx": []}
    # otalign's start-up, as whole processes too: the rest of its wall time is aligning and writing
    stages = {"python + import torch": "import torch",
              "+ otalign, models, CMUdict": "import torch, otalign_cli.cli, otalign_cli.batch; "
              "from otalign_cli.models import load_models; load_models(); "
              "from otalign_cli.text.lexicon import load_cmudict; load_cmudict()"}
    startup: dict[str, list[float]] = {k: [] for k in stages}
    busy = spinner() if args.busy else None
    try:
        for k in range(args.runs):
            for tool in ("otalign", "pocketsphinx"):
                out = work / f"{tool}-{k}"
                cmd = ([sys.executable, "-m", "otalign_cli", "batch", str(args.corpus), str(out)] if tool == "otalign"
                       else [sys.executable, str(job), str(args.corpus), str(out)])
                runs[tool].append(timed(cmd))
                shutil.rmtree(out, ignore_errors=True)
                print(tool, runs[tool][-1], flush=True)
            for name, code in stages.items():
                startup[name].append(timed([sys.executable, "-c", code])["wall"])
    finally:
        if busy is not None:
            busy.kill()
        shutil.rmtree(work, ignore_errors=True)

    def med(tool: str, key: str) -> tuple[float, float, float]:
        v = [r[key] for r in runs[tool]]
        return statistics.median(v), min(v), max(v)

    rows = []
    for tool in runs:
        w, c, m = med(tool, "wall"), med(tool, "cpu"), med(tool, "rss_mb")
        rows.append(f"| {tool} | {w[0]:.2f} ({w[1]:.2f}-{w[2]:.2f}) | {c[0]:.2f} | {m[0]:.0f} | {audio_s / w[0]:.1f} |")
    ratio = med("pocketsphinx", "wall")[0] / med("otalign", "wall")[0]
    cpu_ratio = med("pocketsphinx", "cpu")[0] / med("otalign", "cpu")[0]
    title = (f"## Whole process, otalign batch vs pocketsphinx ({time.strftime('%Y-%m-%d')}, "
             f"`python bench/whole_process.py {args.corpus} --runs {args.runs}{' --busy' if args.busy else ''}`)")
    lines = [title, "", f"{len(files)} files, {audio_s / 60:.1f} min of audio; {platform.processor() or platform.machine()}, "
             f"{os.cpu_count()} cores{'; one other CPU-bound process running' if args.busy else ''}. Median (min-max) of "
             f"{args.runs} alternating runs.", "",
             "| tool | wall s | CPU s | peak RSS MB | x real time |", "|---|---|---|---|---|", *rows, "",
             f"pocketsphinx / otalign: wall {ratio:.2f}x, CPU {cpu_ratio:.2f}x (above 1: otalign is faster).", "",
             "otalign's wall time by stage (medians; start-up measured as separate whole processes):", "",
             "| stage | s |", "|---|---|"]
    before = 0.0
    for name in stages:
        t = statistics.median(startup[name])
        lines.append(f"| {name} | {t - before:.2f} |")
        before = t
    lines += [f"| aligning and writing {len(files)} files | {med('otalign', 'wall')[0] - before:.2f} |", ""]
    print("\n".join(lines))
    report(lines)


if __name__ == "__main__":
    main()
