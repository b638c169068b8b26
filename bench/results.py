"""Where every benchmark script reports: printed, and appended to bench/RESULTS.md."""

from __future__ import annotations

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
