"""Output formats. Each module registers one or more ``OutputFormat`` here; ``write.write_outputs``
writes the requested ones for a file together (all or none). A new format is one new module
imported at the bottom of this file.

Nothing here imports torch: the command line builds its ``--format`` choices from the registry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Union

from otalign_cli.formats.phone_sets import PHONE_SETS, convert
from otalign_cli.registry import add

if TYPE_CHECKING:
    from otalign_cli.results import FileResult



@dataclass(frozen=True)
class OutputOptions:
    """What the user chose about the outputs (not about the alignment)."""

    phone_set: str = "arpabet"  # "ipa" writes phones in IPA (``formats.phone_sets``)
    include_original_text: bool = False  # TextGrid, EAF: a tier with the transcript as written
    max_line_chars: int = 42  # subtitles: characters per line (the usual broadcast limit)
    max_cue_lines: int = 2
    max_cue_seconds: float = 7.0

    def __post_init__(self) -> None:
        if self.phone_set not in PHONE_SETS:
            raise ValueError(f"phone set must be one of {', '.join(PHONE_SETS)}, not {self.phone_set!r}")
        if self.max_line_chars < 1 or self.max_cue_lines < 1 or not self.max_cue_seconds > 0:
            raise ValueError("subtitle limits must be positive")


@dataclass(frozen=True)
class OutputContext:
    models: dict[str, dict] = field(default_factory=dict)  # "ottc" / "ctc": name, sha256, ...
    options: OutputOptions = OutputOptions()
    base: Path | None = None  # the output stem (formats that point back at the audio need it)

    def phone(self, label: str) -> str:
        return convert(label, self.options.phone_set)


# what a format produces for one file: the text, or a function that writes the file at a path
Payload = Union[str, Callable[[Path], None]]


@dataclass(frozen=True)
class OutputFormat:
    name: str  # as given to --format
    suffixes: tuple[str, ...]  # the files it writes for one input, replacing the audio's extension
    render: Callable[[FileResult, OutputContext], tuple[Payload, ...]]  # one payload per suffix
    description: str


REGISTRY: dict[str, OutputFormat] = {}


def register(fmt: OutputFormat) -> OutputFormat:
    return add(REGISTRY, fmt.name, fmt, "output format")


def output_paths(base: Path, fmt: str) -> list[Path]:
    """Files format ``fmt`` writes for output stem ``base`` (CTM writes words and phones separately)."""
    return [base.with_suffix(s) for s in REGISTRY[fmt].suffixes]


# the modules register themselves; this order is the order --help lists them in
from otalign_cli.formats import textgrid  # noqa: E402,F401,I001
from otalign_cli.formats import ctm  # noqa: E402,F401
from otalign_cli.formats import json_out  # noqa: E402,F401
from otalign_cli.formats import table  # noqa: E402,F401
from otalign_cli.formats import subtitles  # noqa: E402,F401
from otalign_cli.formats import eaf  # noqa: E402,F401

FORMATS = tuple(REGISTRY)
