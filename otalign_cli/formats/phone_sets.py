"""Phone labels in the outputs: the models' ARPAbet, or IPA for phoneticians (``--phone-set ipa``).

The models do not mark stress, so each ARPAbet vowel gets one IPA symbol: AH is written as the
schwa it mostly is in running speech (CMUdict's stressed AH1, [ʌ], is not told apart) and ER as
[ɚ]. ``spn`` (speech whose words are unknown) and ``nsn`` (a bracketed event) stay as they are.
"""

from __future__ import annotations

PHONE_SETS = ("arpabet", "ipa")

ARPABET_TO_IPA: dict[str, str] = {
    "AA": "ɑ", "AE": "æ", "AH": "ə", "AO": "ɔ", "AW": "aʊ", "AY": "aɪ", "B": "b", "CH": "tʃ",
    "D": "d", "DH": "ð", "EH": "ɛ", "ER": "ɚ", "EY": "eɪ", "F": "f", "G": "ɡ", "HH": "h",
    "IH": "ɪ", "IY": "i", "JH": "dʒ", "K": "k", "L": "l", "M": "m", "N": "n", "NG": "ŋ",
    "OW": "oʊ", "OY": "ɔɪ", "P": "p", "R": "ɹ", "S": "s", "SH": "ʃ", "T": "t", "TH": "θ",
    "UH": "ʊ", "UW": "u", "V": "v", "W": "w", "Y": "j", "Z": "z", "ZH": "ʒ",
}


def convert(label: str, phone_set: str) -> str:
    """One phone label in ``phone_set`` ("arpabet": unchanged); labels it does not know pass through."""
    if phone_set == "ipa":
        return ARPABET_TO_IPA.get(label, label)
    return label
