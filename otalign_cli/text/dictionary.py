"""Pronunciation dictionaries in the Montreal Forced Aligner's plain format.

One pronunciation per line, ``WORD PHONE PHONE ...`` (tabs or spaces); several lines for one
word are its variants. MFA's probability columns may stand between the word and the phones:
one (pronunciation probability) or four (with the silence probabilities, which otalign does not
use). Variants with a probability are ordered most probable first, otherwise kept in file order:
the first is the one used unless the audio clearly prefers another (``--variants``).
Phones are ARPAbet; stress digits are dropped (``AH0`` is ``AH``), case does not matter.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from otalign_cli.errors import OtalignError
from otalign_cli.text.files import read_utf8
from otalign_cli.text.languages import DEFAULT_LANGUAGE, get_language
from otalign_cli.text.phones import PHONES, strip_stress

MAX_PROBABILITY_COLUMNS = 4


@dataclass(frozen=True)
class Dictionary:
    path: Path
    entries: dict[str, tuple[tuple[str, ...], ...]]  # lowercase word -> its pronunciations, first = default

    def __contains__(self, word: str) -> bool:
        return word.lower() in self.entries

    def get(self, word: str) -> tuple[tuple[str, ...], ...]:
        return self.entries.get(word.lower(), ())


def _number(token: str) -> float | None:
    try:
        return float(token)
    except ValueError:
        return None


def parse_dictionary(text: str, source: Path, phone_set: tuple[str, ...] = PHONES, set_name: str = "ARPAbet") -> Dictionary:
    """Entries of a dictionary file's text; a bad line raises ``OtalignError`` naming the file and line."""
    known = set(phone_set)
    found: dict[str, list[tuple[float, int, tuple[str, ...]]]] = {}
    for n, line in enumerate(text.splitlines(), 1):
        tokens = line.split()
        if not tokens or line.lstrip().startswith(";;;"):  # blank, or a CMUdict-style comment
            continue
        word, rest = tokens[0].lower(), tokens[1:]
        probs = []
        while rest and len(probs) < MAX_PROBABILITY_COLUMNS and (v := _number(rest[0])) is not None:
            probs.append(v)
            rest = rest[1:]
        if not rest:
            raise OtalignError(source, f"line {n}: word {tokens[0]!r} has no phones")
        phones = tuple(strip_stress(p) for p in rest)
        for raw, p in zip(rest, phones):
            if p not in known:
                raise OtalignError(source, f"line {n}: word {tokens[0]!r}: phone {raw!r} is not in the model's "
                                           f"phone set ({set_name}: {' '.join(phone_set)})")
        variants = found.setdefault(word, [])
        if all(v[2] != phones for v in variants):
            variants.append((probs[0] if probs else 1.0, len(variants), phones))
    if not found:
        raise OtalignError(source, "dictionary has no entries")
    entries = {w: tuple(p for _, _, p in sorted(v, key=lambda x: (-x[0], x[1]))) for w, v in found.items()}
    return Dictionary(source, entries)


@lru_cache(maxsize=4)
def read_dictionary(path: Path, language: str = DEFAULT_LANGUAGE) -> Dictionary:
    """Read and check a dictionary file against the phones of ``language`` (the aligning model's);
    cached per path: a batch worker reads it once."""
    text = read_utf8(path, "dictionary")
    phones = tuple(get_language(language).PHONES)
    return parse_dictionary(text, path, phones, "ARPAbet" if language == DEFAULT_LANGUAGE else f"{language} phones")
