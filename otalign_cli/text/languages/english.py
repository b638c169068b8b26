"""English: CMUdict's 39 ARPAbet phones, its pronunciations, weak forms of function words, and
g2p_en's model for the words CMUdict lacks."""

from __future__ import annotations

import re

from otalign_cli.text.g2p import g2p
from otalign_cli.text.lexicon import load_cmudict
from otalign_cli.text.normalize import normalize_transcript as normalize
from otalign_cli.text.phones import PHONES

__all__ = ["PHONES", "WEAK_FORMS", "guess", "lexicon", "normalize"]

# Weak forms of English function words that CMUdict lacks (Gimson's and Roach's lists, stress
# removed); read speech uses them constantly ("and" as AH N, "have" as AH V).
WEAK_FORMS: dict[str, tuple[tuple[str, ...], ...]] = {
    "and": (("AH", "N"), ("N",)), "you": (("Y", "AH"),), "your": (("Y", "ER"),), "of": (("AH",),),
    "his": (("IH", "Z"),), "her": (("ER",),), "he": (("IY",),), "have": (("HH", "AH", "V"), ("AH", "V")),
    "has": (("AH", "Z"),), "had": (("HH", "AH", "D"), ("AH", "D")), "at": (("AH", "T"),),
    "as": (("AH", "Z"),), "them": (("AH", "M"),), "there": (("DH", "ER"),), "just": (("JH", "S", "T"),),
    "for": (("F", "AH"),), "to": (("T",),),
}


def lexicon() -> dict[str, list[tuple[str, ...]]]:
    return load_cmudict()


def guess(word: str) -> tuple[tuple[str, ...], bool]:
    """A word CMUdict lacks: its letters alone if CMUdict has them ("o'neill's" -> "oneills"),
    else g2p_en's pronunciation of them."""
    letters = re.sub(r"[^a-z]", "", word)
    lex = load_cmudict()
    if letters in lex:
        return lex[letters][0], False
    if not letters:
        raise ValueError(f"cannot pronounce {word!r}: no English letters")
    phones = g2p(letters)
    if not phones:
        raise ValueError(f"cannot pronounce {word!r}")
    return phones, True
