"""Speech with exact phone timings from flite (libflite through ctypes): voices awb and kal16.

flite synthesizes the segments of its Segment relation and keeps each one's end time; walking
that relation after ``flite_synth_text`` gives the gold phone and word times of the wave it made.
"""

from __future__ import annotations

import ctypes
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from otalign_cli.synth import RESERVED_VOICES
from otalign_cli.synth.festival import map_phone

VOICES = {"awb": "cmu_us_awb", "kal16": "cmu_us_kal16"}
# Reserved: only ``synth.evaluation_set`` asks for them (``evaluation=True``), never the training recipe.
EVALUATION_VOICES = {"rms": "cmu_us_rms", "slt": "cmu_us_slt"}


class _Wave(ctypes.Structure):
    _fields_ = [("type", ctypes.c_char_p), ("sample_rate", ctypes.c_int), ("num_samples", ctypes.c_int),
                ("num_channels", ctypes.c_int), ("samples", ctypes.POINTER(ctypes.c_short))]


class _Voice(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("features", ctypes.c_void_p), ("ffunctions", ctypes.c_void_p)]


@dataclass
class FliteResult:
    audio: np.ndarray  # float32 at ``sample_rate``
    sample_rate: int
    phones: list[tuple[float, float, str]]  # ARPAbet or "sil", tiling the audio
    words: list[tuple[float, float, str]]


@lru_cache(maxsize=1)
def _lib() -> ctypes.CDLL:
    lib = ctypes.CDLL("libflite.so.1", mode=ctypes.RTLD_GLOBAL)
    for dep in ("libflite_usenglish.so.1", "libflite_cmulex.so.1"):
        ctypes.CDLL(dep, mode=ctypes.RTLD_GLOBAL)
    lib.flite_init()
    vp, cp = ctypes.c_void_p, ctypes.c_char_p
    sigs = {"flite_synth_text": ([cp, vp], vp), "utt_relation": ([vp, cp], vp), "relation_head": ([vp], vp),
            "item_next": ([vp], vp), "item_feat_float": ([vp, cp], ctypes.c_float),
            "item_feat_string": ([vp, cp], cp), "ffeature_string": ([vp, cp], cp),
            "utt_wave": ([vp], ctypes.POINTER(_Wave)), "delete_utterance": ([vp], None),
            "feat_set_float": ([vp, cp, ctypes.c_float], None), "path_to_item": ([vp, cp], vp)}
    for name, (args, res) in sigs.items():
        fn = getattr(lib, name)
        fn.argtypes, fn.restype = args, res
    return lib


@lru_cache(maxsize=None)
def _voice(voice: str, evaluation: bool = False) -> ctypes.POINTER(_Voice):
    if voice in RESERVED_VOICES and not evaluation:
        raise ValueError(f"flite voice {voice!r} is reserved for evaluation and never used for training data")
    table = EVALUATION_VOICES if evaluation else VOICES
    if voice not in table:
        raise ValueError(f"unknown flite {'evaluation' if evaluation else 'training'} voice {voice!r}; "
                         f"choose from {', '.join(table)}")
    _lib()
    vlib = ctypes.CDLL(f"libflite_{table[voice]}.so.1", mode=ctypes.RTLD_GLOBAL)
    reg = getattr(vlib, f"register_{table[voice]}")
    reg.argtypes, reg.restype = [ctypes.c_char_p], ctypes.POINTER(_Voice)
    return reg(None)


def synthesize(text: str, voice: str, stretch: float = 1.0, f0_mean: float | None = None,
               evaluation: bool = False) -> FliteResult:
    """Synthesize ``text``; ``stretch`` > 1 is slower speech, ``f0_mean`` moves the pitch target.

    ``evaluation`` switches to the reserved voices (and only them), for the held-out evaluation set.
    """
    lib = _lib()
    vox = _voice(voice, evaluation)
    feats = vox.contents.features
    lib.feat_set_float(feats, b"duration_stretch", stretch)
    if f0_mean is not None:
        lib.feat_set_float(feats, b"int_f0_target_mean", f0_mean)
    utt = lib.flite_synth_text(text.encode("ascii", "ignore"), ctypes.cast(vox, ctypes.c_void_p))
    if not utt:
        raise RuntimeError(f"flite failed on {text!r}")
    try:
        wave = lib.utt_wave(utt).contents
        n = wave.num_samples * wave.num_channels
        audio = np.ctypeslib.as_array(wave.samples, shape=(n,)).astype(np.float32) / 32768.0
        if wave.num_channels > 1:
            audio = audio.reshape(-1, wave.num_channels).mean(1)
        sr = wave.sample_rate
        phones: list[tuple[float, float, str]] = []
        words: list[tuple[float, float, str]] = []
        start, last_word = 0.0, None
        seg = lib.relation_head(lib.utt_relation(utt, b"Segment"))
        while seg:
            end = float(lib.item_feat_float(seg, b"end"))
            name = lib.item_feat_string(seg, b"name").decode()
            if end > start:
                phone = map_phone(name)
                phones.append((start, end, phone))
                word_item = lib.path_to_item(seg, b"R:SylStructure.parent.parent")
                if phone != "sil" and word_item:
                    # items of one word share their contents pointer (first field of cst_item)
                    wid = ctypes.cast(word_item, ctypes.POINTER(ctypes.c_void_p))[0]
                    if wid != last_word:
                        name = lib.item_feat_string(word_item, b"name").decode().lower()
                        words.append((start, end, name))
                    else:
                        words[-1] = (words[-1][0], end, words[-1][2])
                    last_word = wid
            start = end
            seg = lib.item_next(seg)
    finally:
        lib.delete_utterance(utt)
    duration = len(audio) / sr
    phones = [(s, min(e, duration), p) for s, e, p in phones if s < duration]
    words = [(s, min(e, duration), w) for s, e, w in words if s < duration]
    return FliteResult(audio, sr, phones, words)
