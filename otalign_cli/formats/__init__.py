"""Output formats: Praat TextGrid, NIST CTM, JSON; all written atomically."""

from __future__ import annotations

from pathlib import Path

FORMATS = ("textgrid", "ctm", "json")
EXTENSIONS = {"textgrid": ".TextGrid", "ctm": ".ctm", "json": ".json"}


def output_paths(base: Path, fmt: str) -> list[Path]:
    """Files one format writes for output stem ``base``; CTM writes words and phones separately."""
    if fmt == "ctm":
        return [base.with_suffix(".ctm"), base.with_suffix(".phones.ctm")]
    return [base.with_suffix(EXTENSIONS[fmt])]
