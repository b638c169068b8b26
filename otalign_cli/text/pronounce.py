"""Written transcript -> the phone sequence the models align, with a map back to written words."""

from __future__ import annotations

from dataclasses import dataclass

from otalign_cli.errors import OtalignError
from otalign_cli.text.dictionary import Dictionary
from otalign_cli.text.languages import DEFAULT_LANGUAGE, get_language
from otalign_cli.text.normalize import WrittenWord, is_marker
from otalign_cli.text.phones import EVENT_PHONE, EVENT_WORD, UNKNOWN_PHONE, UNKNOWN_WORD


@dataclass(frozen=True)
class Pronunciation:
    """Phones of a transcript: ``phones[k]`` belongs to written word ``word_of_phone[k]``."""

    words: tuple[WrittenWord, ...]
    phones: tuple[str, ...]
    word_of_phone: tuple[int, ...]
    oov: tuple[str, ...]  # spoken words pronounced by G2P
    # per written word, the pronunciations the audio may choose from (first = the one in
    # ``phones``); empty where there is nothing to choose (one variant, G2P, several spoken words)
    alternatives: tuple[tuple[tuple[str, ...], ...], ...] = ()

    def with_choice(self, choice: list[int]) -> Pronunciation:
        """The same transcript with written word ``i`` pronounced as ``alternatives[i][choice[i]]``."""
        own: list[list[str]] = [[] for _ in self.words]
        for p, w in zip(self.phones, self.word_of_phone):
            own[w].append(p)
        phones: list[str] = []
        owner: list[int] = []
        for i in range(len(self.words)):
            pron = self.alternatives[i][choice[i]] if choice[i] else own[i]
            phones.extend(pron)
            owner.extend([i] * len(pron))
        return Pronunciation(self.words, tuple(phones), tuple(owner), self.oov, self.alternatives)


def variants_of(word: str, user: Dictionary | None = None, language: str = DEFAULT_LANGUAGE) -> tuple[tuple[str, ...], ...]:
    """A word's pronunciations: the user's dictionary's if it has the word (and only those),
    else the language's lexicon's in its order, then the reduced forms it lacks (the language's
    ``reductions(word)`` where it has one, else its ``WEAK_FORMS``)."""
    if user is not None and word in user:
        return user.get(word)
    lang = get_language(language)
    out = list(lang.lexicon().get(word, ()))
    reduced = lang.reductions(word) if hasattr(lang, "reductions") else lang.WEAK_FORMS.get(word, ())
    out += [w for w in reduced if w not in out]
    return tuple(out)


def pronounce_word(word: str, user: Dictionary | None = None, language: str = DEFAULT_LANGUAGE) -> tuple[tuple[str, ...], bool]:
    """(phones, came_from_g2p) for one spoken word: the user's dictionary, the language's lexicon,
    then its guess (G2P); ``ValueError`` if it cannot be pronounced."""
    if word == UNKNOWN_WORD:
        return (UNKNOWN_PHONE,), False
    if word == EVENT_WORD:
        return (EVENT_PHONE,), False
    if user is not None and word in user:
        return user.get(word)[0], False
    lang = get_language(language)
    lexicon = lang.lexicon()
    if word in lexicon:
        return lexicon[word][0], False
    return lang.guess(word)


def pronounce_transcript(text: str, source: str | None = None, user: Dictionary | None = None,
                         language: str = DEFAULT_LANGUAGE) -> Pronunciation:
    """Normalize and pronounce a transcript in ``language`` (a code in ``text.languages``); errors
    name ``source`` (the transcript's path).

    A token the user's dictionary has as written ("covid-19", "3d") is taken whole, before
    normalization would expand it; its other words are looked up one by one."""
    words = get_language(language).normalize(text)
    if all(is_marker(w) for w in words):
        raise OtalignError(source, "transcript is empty (no words to align)")
    phones: list[str] = []
    owner: list[int] = []
    oov: list[str] = []
    alternatives: list[tuple[tuple[str, ...], ...]] = []
    for i, w in enumerate(words):
        if user is not None and not is_marker(w) and len(w.spoken) > 1 and w.written in user:
            w = WrittenWord(w.written, (w.written.lower(),), w.raw)
            words[i] = w
        alts = variants_of(w.spoken[0], user, language) if len(w.spoken) == 1 and not is_marker(w) else ()
        alternatives.append(alts if len(alts) > 1 else ())
        for spoken in w.spoken:
            try:
                pron, guessed = pronounce_word(spoken, user, language)
            except ValueError as err:
                raise OtalignError(source, f"word {w.written!r}: {err}") from None
            if guessed:
                oov.append(spoken)
            phones.extend(pron)
            owner.extend([i] * len(pron))
    return Pronunciation(tuple(words), tuple(phones), tuple(owner), tuple(oov), tuple(alternatives))
