"""The one exception type the CLI turns into a one-line message and a non-zero exit code."""

from __future__ import annotations

from pathlib import Path


class OtalignError(Exception):
    """A user-facing failure tied to one input: ``str(err)`` is ``"PATH: what is wrong"``."""

    def __init__(self, path: str | Path | None, message: str) -> None:
        self.path = str(path) if path is not None else None
        self.message = message
        super().__init__(f"{self.path}: {message}" if self.path else message)
