"""Reading the user's text files (transcripts, dictionaries) with errors that name them."""

from __future__ import annotations

from pathlib import Path

from otalign_cli.errors import OtalignError


def read_utf8(path: Path, what: str) -> str:
    """The text of ``path`` (a byte-order mark is dropped); ``OtalignError`` naming the file and
    ``what`` it should have been when it is missing, not a file, or not UTF-8."""
    if not path.exists():
        raise OtalignError(path, f"{what} file not found")
    if not path.is_file():
        raise OtalignError(path, f"{what} is not a regular file")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise OtalignError(path, f"{what} is not UTF-8 text") from None
    except OSError as err:
        raise OtalignError(path, f"cannot read {what} ({err.strerror})") from None
    if "\x00" in text:  # UTF-16 without a byte-order mark decodes as "UTF-8" full of NULs
        raise OtalignError(path, f"{what} holds NUL bytes: UTF-16 text? Save it as UTF-8")
    return text
