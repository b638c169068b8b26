"""English: CMUdict's 39 ARPAbet phones, its pronunciations, weak forms of function words, and
g2p_en's model for the words CMUdict lacks."""

from __future__ import annotations

import re
from functools import lru_cache

from otalign_cli.text.g2p import g2p
from otalign_cli.text.lexicon import load_cmudict, unstressed_schwas
from otalign_cli.text.normalize import normalize_transcript as normalize
from otalign_cli.text.phones import PHONES, VOWELS, strip_stress

__all__ = ["PHONES", "WEAK_FORMS", "guess", "lexicon", "normalize", "reductions"]

# Weak forms of English function words that CMUdict lacks (Gimson's and Roach's lists, stress
# removed); read speech uses them constantly ("and" as AH N, "have" as AH V).
WEAK_FORMS: dict[str, tuple[tuple[str, ...], ...]] = {
    "and": (("AH", "N"), ("N",)), "you": (("Y", "AH"),), "your": (("Y", "ER"),), "of": (("AH",),),
    "his": (("IH", "Z"),), "her": (("ER",),), "he": (("IY",),), "have": (("HH", "AH", "V"), ("AH", "V")),
    "has": (("AH", "Z"),), "had": (("HH", "AH", "D"), ("AH", "D")), "at": (("AH", "T"),),
    "as": (("AH", "Z"),), "them": (("AH", "M"),), "there": (("DH", "ER"),), "just": (("JH", "S", "T"),),
    "for": (("F", "AH"),), "to": (("T",),),
}


# Consonants that carry a syllable on their own where CMUdict writes an unstressed schwa before
# them: "button" B AH T AH0 N said B AH T N, "little" L IH T AH0 L said L IH T L, "bottom"
# B AA T AH0 M said B AA T M (TIMIT's el, en, em; Buckeye labels them the same way).
SYLLABIC = frozenset({"L", "M", "N"})


def lexicon() -> dict[str, list[tuple[str, ...]]]:
    return load_cmudict()


def syllabic_form(pron: tuple[str, ...]) -> tuple[str, ...] | None:
    """A CMUdict pronunciation *with stress marks* with every AH0 that stands between a consonant
    and a syllabic L/M/N (itself before a consonant or the word's end) dropped, stress removed;
    ``None`` if it has no such schwa."""
    def consonant(k: int) -> bool:
        return 0 <= k < len(pron) and strip_stress(pron[k]) not in VOWELS

    drop = [k for k, p in enumerate(pron)
            if p == "AH0" and consonant(k - 1) and k + 1 < len(pron) and pron[k + 1] in SYLLABIC
            and (k + 2 == len(pron) or consonant(k + 2))]
    if not drop:
        return None
    return tuple(strip_stress(p) for k, p in enumerate(pron) if k not in drop)


@lru_cache(maxsize=4096)
def reductions(word: str) -> tuple[tuple[str, ...], ...]:
    """Reduced pronunciations of ``word`` the audio may choose beyond CMUdict's own: the weak
    forms of function words, and each CMUdict pronunciation with its syllabic consonants."""
    out = list(WEAK_FORMS.get(word, ()))
    for pron, schwas in zip(load_cmudict().get(word, ()), unstressed_schwas(word)):
        form = syllabic_form(tuple("AH0" if k in schwas else p for k, p in enumerate(pron)))
        if form is not None and form not in out:
            out.append(form)
    return tuple(out)


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
