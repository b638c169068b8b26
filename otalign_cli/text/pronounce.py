"""Written transcript -> the phone sequence the models align, with a map back to written words."""

from __future__ import annotations

import re
from dataclasses import dataclass

from otalign_cli.errors import OtalignError
from otalign_cli.text.g2p import g2p
from otalign_cli.text.lexicon import load_cmudict
from otalign_cli.text.normalize import WrittenWord, normalize_transcript
from otalign_cli.text.phones import UNKNOWN_PHONE, UNKNOWN_WORD


@dataclass(frozen=True)
class Pronunciation:
    """Phones of a transcript: ``phones[k]`` belongs to written word ``word_of_phone[k]``."""

    words: tuple[WrittenWord, ...]
    phones: tuple[str, ...]
    word_of_phone: tuple[int, ...]
    oov: tuple[str, ...]  # spoken words pronounced by G2P


def pronounce_word(word: str) -> tuple[tuple[str, ...], bool]:
    """(phones, came_from_g2p) for one spoken word; ``ValueError`` if it cannot be pronounced."""
    if word == UNKNOWN_WORD:
        return (UNKNOWN_PHONE,), False
    lexicon = load_cmudict()
    if word in lexicon:
        return lexicon[word][0], False
    letters = re.sub(r"[^a-z]", "", word)
    if letters in lexicon:
        return lexicon[letters][0], False
    if not letters:
        raise ValueError(f"cannot pronounce {word!r}: no English letters")
    phones = g2p(letters)
    if not phones:
        raise ValueError(f"cannot pronounce {word!r}")
    return phones, True


def pronounce_transcript(text: str, source: str | None = None) -> Pronunciation:
    """Normalize and pronounce a transcript; errors name ``source`` (the transcript's path)."""
    words = normalize_transcript(text)
    if all(w.written == UNKNOWN_WORD for w in words):
        raise OtalignError(source, "transcript is empty (no words to align)")
    phones: list[str] = []
    owner: list[int] = []
    oov: list[str] = []
    for i, w in enumerate(words):
        for spoken in w.spoken:
            try:
                pron, guessed = pronounce_word(spoken)
            except ValueError as err:
                raise OtalignError(source, f"word {w.written!r}: {err}") from None
            if guessed:
                oov.append(spoken)
            phones.extend(pron)
            owner.extend([i] * len(pron))
    return Pronunciation(tuple(words), tuple(phones), tuple(owner), tuple(oov))
