"""Speech with exact phone timings from espeak-ng (its C API through ctypes).

Each word is fed as its CMUdict pronunciation in espeak's phoneme notation (``[[...]]``), so
espeak says exactly the phones the transcript has and reports one phoneme event, with its sample
position, for each. Two fixes make the event times match the audio:
- a stop's closure (a run of digital zeros) is synthesized before the stop's event: the
  boundary is moved back to the start of the zero run, so the closure belongs to the stop;
- pauses come out as ``_`` phonemes (silence).
Variants with an ``echo`` setting are not used: echo fills those zero runs.
"""

from __future__ import annotations

import ctypes
import random
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from otalign_cli.text.lexicon import load_cmudict
from otalign_cli.text.normalize import normalize_transcript
from otalign_cli.text.phones import SILENCE, strip_stress

ACCENTS = ("en-us", "en", "en-gb-scotland", "en-gb-x-rp", "en-gb-x-gbclan", "en-gb-x-gbcwmd", "en-029")
_VARIANT_DIRS = ("/usr/lib/x86_64-linux-gnu/espeak-ng-data/voices/!v", "/usr/share/espeak-ng-data/voices/!v",
                 "/usr/lib/aarch64-linux-gnu/espeak-ng-data/voices/!v")
_SKIP_VARIANTS = frozenset({"Demonic", "UniRobot", "anikaRobot", "croak", "whisper", "whisperf"})
_VOWELS = {"AA": "A:", "AE": "a", "AO": "O:", "AW": "aU", "AY": "aI", "EH": "E", "EY": "eI", "IH": "I",
           "IY": "i:", "OW": "oU", "OY": "OI", "UH": "U", "UW": "u:"}
_CONSONANTS = {"B": "b", "CH": "tS", "D": "d", "DH": "D", "F": "f", "G": "g", "HH": "h", "JH": "dZ", "K": "k",
               "L": "l", "M": "m", "N": "n", "NG": "N", "P": "p", "R": "r", "S": "s", "SH": "S", "T": "t",
               "TH": "T", "V": "v", "W": "w", "Y": "j", "Z": "z", "ZH": "Z"}
_STOPS = frozenset({"P", "T", "K", "B", "D", "G", "CH", "JH"})
MIN_ZERO_RUN = 16  # samples of exact zeros that count as a closure
PAUSE_RUN_S = 0.08  # a zero run this long between words is a pause (silence), not a closure


def espeak_phoneme(arpabet: str) -> str:
    """espeak-ng (Kirshenbaum) mnemonic for one stressed CMUdict phone, with a stress mark."""
    base = strip_stress(arpabet)
    if base == "AH":
        return "@" if arpabet.endswith("0") else "'V"
    if base == "ER":
        return "3" if arpabet.endswith("0") else "'3:"
    if base in _VOWELS:
        return ("'" if arpabet.endswith("1") else "," if arpabet.endswith("2") else "") + _VOWELS[base]
    return _CONSONANTS[base]


def _name_to_arpabet() -> dict[str, str]:
    table = {v: k for k, v in {**_VOWELS, **_CONSONANTS}.items()}
    table.update({"@": "AH", "V": "AH", "3": "ER", "3:": "ER", "r-": "R", "@-": "AH", "a#": "AH"})
    return table


_FROM_ESPEAK = _name_to_arpabet()


@lru_cache(maxsize=1)
def variants() -> tuple[str, ...]:
    """espeak-ng voice variants without echo (echo defeats the closure fix)."""
    for d in _VARIANT_DIRS:
        folder = Path(d)
        if folder.is_dir():
            out = []
            for f in sorted(folder.iterdir()):
                text = f.read_text(encoding="latin-1").lower()
                if f.name not in _SKIP_VARIANTS and not any(line.strip().startswith("echo") for line in text.splitlines()):
                    out.append(f.name)
            return tuple(out)
    return ()


class _Event(ctypes.Structure):
    _fields_ = [("type", ctypes.c_int), ("unique_identifier", ctypes.c_uint), ("text_position", ctypes.c_int),
                ("length", ctypes.c_int), ("audio_position", ctypes.c_int), ("sample", ctypes.c_int),
                ("user_data", ctypes.c_void_p), ("id", ctypes.c_char * 8)]


_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event))
_EV_WORD, _EV_PHONEME = 1, 7


class _Engine:
    """One initialized espeak-ng in this process (the library keeps global state)."""

    def __init__(self) -> None:
        self.lib = ctypes.CDLL("libespeak-ng.so.1")
        self.sample_rate = self.lib.espeak_Initialize(2, 0, None, 0x0001)  # synchronous, phoneme events
        if self.sample_rate <= 0:
            raise RuntimeError("espeak-ng failed to initialize")
        self.lib.espeak_Synth.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int,
                                          ctypes.c_uint, ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p]
        self.lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        self.chunks: list[np.ndarray] = []
        self.events: list[tuple[int, int, str]] = []
        self._cb = _CALLBACK(self._collect)
        self.lib.espeak_SetSynthCallback(self._cb)

    def _collect(self, wav, n, ev) -> int:
        if wav and n > 0:
            self.chunks.append(np.ctypeslib.as_array(wav, shape=(n,)).copy())
        i = 0
        while ev[i].type != 0:
            e = ev[i]
            if e.type in (_EV_WORD, _EV_PHONEME):
                self.events.append((e.type, e.sample, e.id.decode("utf-8", "replace") if e.type == _EV_PHONEME else ""))
            i += 1
        return 0

    def speak(self, phoneme_text: str, voice: str, rate: int, pitch: int, pitch_range: int) -> tuple[np.ndarray, list]:
        self.chunks, self.events = [], []
        if self.lib.espeak_SetVoiceByName(voice.encode()) != 0:
            raise ValueError(f"espeak-ng has no voice {voice!r}")
        for param, value in ((1, rate), (3, pitch), (4, pitch_range)):
            self.lib.espeak_SetParameter(param, value, 0)
        data = phoneme_text.encode()
        self.lib.espeak_Synth(data, len(data) + 1, 0, 1, 0, 0x100, None, None)
        audio = np.concatenate(self.chunks) if self.chunks else np.zeros(0, np.int16)
        return audio, self.events


@lru_cache(maxsize=1)
def _engine() -> _Engine:
    return _Engine()


@dataclass
class EspeakResult:
    audio: np.ndarray  # float32
    sample_rate: int
    phones: list[tuple[float, float, str]]
    words: list[tuple[float, float, str]]


def pronunciations(text: str) -> list[tuple[str, tuple[str, ...]]] | None:
    """(spoken word, stressed CMUdict phones) for each word, or None if a word is not in CMUdict."""
    lex = load_cmudict(keep_stress=True)
    out = []
    for w in normalize_transcript(text):
        for spoken in w.spoken:
            if spoken not in lex:
                return None
            out.append((spoken, lex[spoken][0]))
    return out or None


def _closure_start(audio: np.ndarray, pos: int, floor: int) -> int:
    """Start of the run of exact zeros that ends at ``pos`` (not before ``floor``)."""
    k = pos
    while k > floor and audio[k - 1] == 0:
        k -= 1
    return k if pos - k >= MIN_ZERO_RUN else pos


def synthesize(text: str, voice: str, rate: int, pitch: int, pitch_range: int, rng: random.Random,
               pause_prob: float = 0.1) -> EspeakResult | None:
    """Speak ``text`` with CMUdict phones; None when espeak's phonemes do not map 1:1 to them."""
    words = pronunciations(text)
    if words is None:
        return None
    parts = []
    for i, (_, phones) in enumerate(words):
        parts.append("[[" + "".join(espeak_phoneme(p) for p in phones) + "]]")
        if i + 1 < len(words) and rng.random() < pause_prob:
            parts.append(",")
    audio16, events = _engine().speak(" ".join(parts) + ".", voice, rate, pitch, pitch_range)
    sr = _engine().sample_rate
    # phoneme events grouped by word event; "_" phonemes are pauses
    per_word: list[list[tuple[int, str]]] = []
    pauses: list[int] = []
    for kind, sample, name in events:
        if kind == _EV_WORD:
            per_word.append([])
        elif name.startswith("_"):
            pauses.append(sample)
        elif per_word:
            per_word[-1].append((sample, name))
    while per_word and not per_word[-1]:
        per_word.pop()  # the final "." gets a word event of its own
    if len(per_word) != len(words):
        return None
    for w, ((_, phones), evs) in enumerate(zip(words, per_word)):
        # markers such as ';' and a linking 'r' after the word's last phone are part of the previous phone
        evs = [e for e in evs if e[1] != ";"]
        if len(evs) == len(phones) + 1 and _FROM_ESPEAK.get(evs[-1][1]) == "R" and strip_stress(phones[-1]) != "R":
            evs = evs[:-1]
        if len(evs) != len(phones):
            return None  # a phone added or dropped by the accent's rules: times would not map 1:1
        per_word[w] = evs  # substitutions (DH said as D) keep the CMUdict label
    n = len(audio16)
    flat = [(sample, strip_stress(p), w) for w, ((_, phones), evs) in enumerate(zip(words, per_word))
            for (sample, _), p in zip(evs, phones)]
    boundaries = np.array(sorted({sample for sample, _, _ in flat} | set(pauses) | {n}))
    starts = []
    for k, (sample, phone, _) in enumerate(flat):
        start = sample
        if k > 0 and phone in _STOPS:
            z = _closure_start(audio16, sample, flat[k - 1][0])
            if (sample - z) / sr <= PAUSE_RUN_S:
                # the closure belongs to the stop, but leave the previous phone at least half its slot
                start = max(z, flat[k - 1][0] + (sample - flat[k - 1][0]) // 2)
        starts.append(start)
    phones_out: list[tuple[float, float, str]] = []
    word_spans: dict[int, list[float]] = {}
    for k, (sample, phone, w) in enumerate(flat):
        nxt = int(boundaries[np.searchsorted(boundaries, sample, side="right")]) if sample < n else n
        end = min(nxt, starts[k + 1]) if k + 1 < len(flat) else nxt
        trimmed = _closure_start(audio16, end, starts[k])  # zeros before a pause or a word start: silence
        if trimmed > starts[k] and (k + 1 == len(flat) or flat[k + 1][1] not in _STOPS or end == nxt != starts[k + 1]):
            end = trimmed
        if end <= starts[k]:
            return None
        phones_out.append((starts[k] / sr, end / sr, phone))
        span = word_spans.setdefault(w, [starts[k] / sr, end / sr])
        span[1] = end / sr
    names = [spoken for spoken, _ in words]
    return EspeakResult(audio16.astype(np.float32) / 32768.0, sr, _tile_with_silence(phones_out, n / sr),
                        [(a, b, names[w]) for w, (a, b) in sorted(word_spans.items())])


def _tile_with_silence(phones: list[tuple[float, float, str]], duration: float) -> list[tuple[float, float, str]]:
    """Fill gaps between phones with silence so the phones tier tiles the audio."""
    out, t = [], 0.0
    for a, b, p in phones:
        if a > t:
            out.append((t, a, SILENCE))
        out.append((a, b, p))
        t = b
    if t < duration:
        out.append((t, duration, SILENCE))
    return out
