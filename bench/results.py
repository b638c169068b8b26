"""Where every benchmark script reports: printed, and appended to bench/RESULTS.md."""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

RESULTS = Path(__file__).with_name("RESULTS.md")


def report(lines: list[str], append: bool = True) -> None:
    """Print ``lines``; ``append`` (a script's default, off with its ``--no-report``) adds them to RESULTS.md."""
    if not append:
        print("\n".join(lines))
        return
    text = "\n".join(lines) + "\n"
    print(text)
    with open(RESULTS, "a", encoding="utf-8") as f:
        f.write(text)


def recordings_parser(doc: str) -> argparse.ArgumentParser:
    """The arguments of a script over a folder of recordings with same-stem .txt transcripts."""
    ap = argparse.ArgumentParser(description=doc.splitlines()[0])
    ap.add_argument("folder", type=Path, help="recordings with same-stem .txt transcripts")
    ap.add_argument("--model", type=Path, help="OTTC checkpoint (default: the bundled one)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--limit", type=int, help="at most this many recordings, drawn with --seed")
    ap.add_argument("--no-report", action="store_true", help="print the table without appending it to RESULTS.md")
    return ap


def recordings(a: argparse.Namespace, rng: random.Random, at_least: int = 1) -> list[Path]:
    """The folder's recordings with transcripts (``--limit`` of them drawn with ``rng``); exits
    with one line if it has fewer than ``at_least``."""
    files = sorted(f for f in a.folder.glob("*.wav") if f.with_suffix(".txt").is_file())
    if len(files) < at_least:
        sys.exit(f"error: {a.folder}: needs at least {at_least} recording(s) with same-stem .txt transcripts")
    if a.limit is not None and len(files) > a.limit:
        files = sorted(rng.sample(files, a.limit))
    return files
