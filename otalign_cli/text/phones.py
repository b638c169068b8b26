"""The phone inventory shared by the text front-end, the models and the corpus recipe."""

from __future__ import annotations

# The 39 ARPAbet phones of CMUdict, stress removed.
PHONES: tuple[str, ...] = (
    "AA", "AE", "AH", "AO", "AW", "AY", "B", "CH", "D", "DH", "EH", "ER", "EY", "F", "G",
    "HH", "IH", "IY", "JH", "K", "L", "M", "N", "NG", "OW", "OY", "P", "R", "S", "SH",
    "T", "TH", "UH", "UW", "V", "W", "Y", "Z", "ZH",
)
SILENCE = "sil"
UNKNOWN_WORD = "<unk>"  # written in a transcript where the words are unknown (any speech, any length)
UNKNOWN_PHONE = "spn"  # its one pseudo-phone, as in the Montreal Forced Aligner's output
EVENT_WORD = "<event>"  # how a bracketed marker ("[laughter]", "{noise}") is spoken: an event, maybe inaudible
EVENT_PHONE = "nsn"  # its one pseudo-phone ("non-spoken noise", as Kaldi's recipes call it)
PSEUDO_PHONES = (UNKNOWN_PHONE, EVENT_PHONE)  # in this order past the vocabulary: ids V and V + 1
BLANK = "<b>"
VOWELS = frozenset({"AA", "AE", "AH", "AO", "AW", "AY", "EH", "ER", "EY", "IH", "IY", "OW", "OY", "UH", "UW"})


def strip_stress(phone: str) -> str:
    """CMUdict writes vowels with a stress digit (AH0); the models use the bare phone."""
    return phone.rstrip("012").upper()
