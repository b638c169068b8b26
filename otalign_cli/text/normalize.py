"""Transcript normalization that keeps a map from each written token to its spoken words.

"$3.50" is spoken as four words but is one token of the transcript: the user wants it timed
as one interval, so every written token keeps the list of words it expands to.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from num2words import num2words

from otalign_cli.text.phones import EVENT_WORD, UNKNOWN_WORD

_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "`": "'"})
_DASHES = str.maketrans({"\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": " ", "\u2014": " ", "\u2015": " "})
_CURRENCY = {"$": ("dollar", "dollars", "cent", "cents"), "\u00a3": ("pound", "pounds", "penny", "pence"),
             "\u20ac": ("euro", "euros", "cent", "cents")}
_SYMBOLS = {"&": ["and"], "%": ["percent"], "+": ["plus"], "@": ["at"], "=": ["equals"]}
_EDGE_PUNCT = "\"'()[]{}<>.,;:!?\u00bf\u00a1*_/\\|~^#\u201c\u201d\u201e\u00ab\u00bb\u2026"

_RE_ORDINAL = re.compile(r"^(\d+)(st|nd|rd|th)$", re.I)
_RE_TIME = re.compile(r"^(\d{1,2}):(\d{2})(am|pm|a\.m\.|p\.m\.)?$", re.I)
_RE_MONEY = re.compile(r"^([$\u00a3\u20ac])(\d[\d,]*)(?:\.(\d{1,2}))?$")
_RE_PERCENT = re.compile(r"^(\d[\d,]*(?:\.\d+)?)%$")
_RE_NUMBER = re.compile(r"^\d{1,3}(,\d{3})+(\.\d+)?$|^\d+(\.\d+)?$")
_RE_DECADE = re.compile(r"^(\d{4})'?s$")
# A marker in brackets ("[laughter]", "{noise}", "<unk>", "[laughs loudly]") or else one token.
_RE_TOKEN = re.compile(r"(\[[^\[\]]*\]|\{[^{}]*\}|<[^<>]*>)|([^\s\[{<]+|\S)")
# Markers of a pause: dropped, since the aligner finds pauses without being told ("" is "[]").
PAUSE_MARKERS = frozenset({"", "s", "/s", "sil", "silence", "pause"})
# Markers of speech whose words the transcriber did not get: unknown speech, as ``<unk>``.
SPEECH_MARKERS = frozenset({"unk", "inaudible", "unintelligible", "unclear", "crosstalk", "foreign"})


@dataclass(frozen=True)
class WrittenWord:
    """One token as the user wrote it, and the lowercase words it is spoken as."""

    written: str
    spoken: tuple[str, ...]
    raw: str = ""  # the token as it stands in the transcript, punctuation included (for subtitles)


def fold_accents(text: str) -> str:
    """café -> cafe: decompose and drop combining marks (CMUdict has no accented entries)."""
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def _words(text: str) -> list[str]:
    return [w for w in re.split(r"[\s\-,]+", text.replace("-", " ")) if w]


MAX_QUANTITY_DIGITS = 15  # longer digit strings (IDs, phone numbers) are read digit by digit


def _number(value: str, to: str = "cardinal") -> list[str]:
    whole = value.split(".", 1)[0]
    if len(whole) > MAX_QUANTITY_DIGITS:
        return [w for d in value if d.isdigit() for w in _words(num2words(int(d)))]
    return _words(num2words(value if "." in value else int(value), to=to))


def _is_year(n: int) -> bool:
    return 1100 <= n <= 2099 and n % 1000 >= 1 and not (2000 <= n <= 2009)


def spoken_form(token: str) -> list[str]:
    """Spoken words of one whitespace-free token (punctuation already stripped at the edges)."""
    t = token.lower()
    if m := _RE_MONEY.match(t):
        unit1, units, sub1, subs = _CURRENCY[m.group(1)]
        whole = m.group(2).replace(",", "").lstrip("0") or "0"
        out = _number(whole) + [unit1 if whole == "1" else units]
        if m.group(3):
            cents = int(m.group(3).ljust(2, "0"))
            if cents:
                out += ["and"] + _number(str(cents)) + [sub1 if cents == 1 else subs]
        return out
    if m := _RE_PERCENT.match(t):
        return _number(m.group(1).replace(",", "")) + ["percent"]
    if m := _RE_ORDINAL.match(t):
        return _number(m.group(1), to="ordinal")
    if m := _RE_TIME.match(t):
        hour, minute = int(m.group(1)), int(m.group(2))
        out = _number(str(hour))
        if minute == 0:
            out.append("o'clock")
        elif minute < 10:
            out += ["oh"] + _number(str(minute))
        else:
            out += _number(str(minute))
        if m.group(3):
            out += ["a", "m"] if m.group(3).startswith("a") else ["p", "m"]
        return out
    if m := _RE_DECADE.match(t):
        words = _words(num2words(int(m.group(1)), to="year"))
        last = words[-1]
        words[-1] = last[:-1] + "ies" if last.endswith("y") else last + "s"
        return words
    if _RE_NUMBER.match(t):
        plain = t.replace(",", "")
        if "." not in plain and "," not in t and len(plain) == 4 and _is_year(int(plain)):
            return _words(num2words(int(plain), to="year"))
        return _number(plain)
    if t in _SYMBOLS:
        return list(_SYMBOLS[t])
    if re.fullmatch(r"[a-z0-9]+", t) and re.search(r"\d", t):  # mp3, b12, 4x4
        parts = re.findall(r"\d+|[a-z]+", t)
        return [w for p in parts for w in (spoken_form(p) if p.isdigit() else [p])]
    parts = [p.strip("'") for p in re.split(r"[-.]", t)]  # 3-D, covid-19, e.g.
    parts = [p for p in parts if p and re.search(r"\w", p)]
    return [w for p in parts for w in (spoken_form(p) if p != t and re.search(r"\d", p) else [p])]


def normalize_transcript(text: str) -> list[WrittenWord]:
    """Split a transcript into written tokens, each with its spoken words.

    Tokens made only of punctuation are dropped (they are not spoken); "&", "%" and similar
    symbols standing alone are spoken; ``<unk>`` marks a stretch of speech whose words are unknown.
    A marker in brackets, as corpora write noises and other events ("[laughter]", "{breath}",
    "<noise>"), keeps its name and is spoken as ``EVENT_WORD``: something that may take time or
    not be heard at all; "[inaudible]" and the other ``SPEECH_MARKERS`` are unknown speech, as
    ``<unk>``. Pause markers ("<sil>", "[pause]", "<s>", "[]") are dropped. Words in parentheses
    are spoken words.
    """
    text = unicodedata.normalize("NFKC", text).translate(_APOSTROPHES).translate(_DASHES)
    out: list[WrittenWord] = []
    for m in _RE_TOKEN.finditer(text):
        if m.group(1):
            marker = " ".join(m.group(1).split())
            inner = marker[1:-1].strip().lower()
            if inner in PAUSE_MARKERS:
                continue
            if inner == UNKNOWN_WORD[1:-1]:
                out.append(WrittenWord(UNKNOWN_WORD, (UNKNOWN_WORD,), marker))
            else:
                out.append(WrittenWord(marker, (UNKNOWN_WORD if inner in SPEECH_MARKERS else EVENT_WORD,), marker))
            continue
        raw = m.group(2)
        core = raw.strip(_EDGE_PUNCT)
        if raw.endswith("%") and core and core[-1].isdigit():
            core += "%"
        if not core:
            if raw in _SYMBOLS:
                out.append(WrittenWord(raw, tuple(_SYMBOLS[raw]), raw))
            continue
        spoken = spoken_form(fold_accents(core))
        if spoken:
            out.append(WrittenWord(core, tuple(spoken), raw))
    return out


def is_marker(word: WrittenWord) -> bool:
    """Whether ``word`` is ``<unk>`` or a bracketed marker: no words to pronounce."""
    return word.spoken in ((UNKNOWN_WORD,), (EVENT_WORD,))


def only_markers(text: str, normalize=normalize_transcript) -> list[WrittenWord]:
    """The markers of a transcript that has nothing else ("[laughter]"), else []: such a text
    has no words to align, and an utterance of it is the event (or unknown speech) itself."""
    words = normalize(text)
    return words if words and all(is_marker(w) for w in words) else []
