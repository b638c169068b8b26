"""Languages: what the text front-end needs to turn a transcript into the phones a model aligns.

A language is one module with, at module level:

- ``PHONES``: the phone inventory its models are trained on (``tuple[str, ...]``);
- ``normalize(text) -> list[WrittenWord]``: the transcript's tokens, each with the words it is
  spoken as ("$5" -> "five dollars"), as ``text.normalize`` does for English;
- ``lexicon() -> dict[str, list[tuple[str, ...]]]``: word -> pronunciations, most common first;
- ``guess(word) -> tuple[tuple[str, ...], bool]``: a word the lexicon lacks -> (phones, whether
  they are a guess, i.e. G2P); ``ValueError`` if it cannot be pronounced;
- ``WEAK_FORMS``: word -> reduced pronunciations the audio may choose (may be empty).
- optionally ``reductions(word) -> tuple[tuple[str, ...], ...]``: all the reduced pronunciations
  the audio may choose for ``word`` (weak forms and forms made by rule, as English's syllabic
  consonants); where a language has none, its ``WEAK_FORMS`` are those.

Adding one is that module plus one ``register`` line below. A model records its language
(``ModelConfig.language``, chosen by ``otalign train --language``), and ``align`` pronounces a
transcript in the language of the model that aligns it. The modules are imported on first use.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType

from otalign_cli.registry import add, lookup, resolve

DEFAULT_LANGUAGE = "en"


@dataclass(frozen=True)
class Language:
    code: str  # as recorded in a model's checkpoint (ISO 639 where there is one)
    name: str
    module: str  # the module that implements it (see above)

    def load(self) -> ModuleType:
        return resolve(self.module)


REGISTRY: dict[str, Language] = {}


def register(language: Language) -> None:
    add(REGISTRY, language.code, language, "language")


def get_language(code: str) -> ModuleType:
    """The module of a registered language; ``ValueError`` naming the known ones otherwise."""
    return lookup(REGISTRY, code, "language").load()


def language_codes() -> list[str]:
    return list(REGISTRY)


register(Language("en", "English (CMUdict ARPAbet, 39 phones)", "otalign_cli.text.languages.english"))
