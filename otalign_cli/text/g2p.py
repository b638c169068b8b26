"""Offline grapheme-to-phoneme for words CMUdict lacks.

Runs the seq2seq GRU of g2p_en from its own weight file (``checkpoint20.npz``) in numpy. The
g2p_en module itself is never imported: at import it calls ``nltk.download``, which fails
without a network.
"""

from __future__ import annotations

import importlib.util
from functools import lru_cache
from pathlib import Path

import numpy as np

from otalign_cli.text.phones import strip_stress

_GRAPHEMES = ["<pad>", "<unk>", "</s>", *"abcdefghijklmnopqrstuvwxyz"]
_STRESSED = ("AA", "AE", "AH", "AO", "AW", "AY")
_PHONEMES = ["<pad>", "<unk>", "<s>", "</s>"] + (
    [f"{v}{s}" for v in _STRESSED for s in "012"]
    + ["B", "CH", "D", "DH"] + [f"{v}{s}" for v in ("EH", "ER", "EY") for s in "012"]
    + ["F", "G", "HH"] + [f"{v}{s}" for v in ("IH", "IY") for s in "012"]
    + ["JH", "K", "L", "M", "N", "NG"] + [f"{v}{s}" for v in ("OW", "OY") for s in "012"]
    + ["P", "R", "S", "SH", "T", "TH"] + [f"UH{s}" for s in "012"] + ["UW"]
    + [f"UW{s}" for s in "012"] + ["V", "W", "Y", "Z", "ZH"]
)
_START, _END = 2, 3
MAX_PHONES = 30


def _weights_path() -> Path:
    spec = importlib.util.find_spec("g2p_en")
    if spec is None or spec.origin is None:
        raise RuntimeError("the g2p_en package (its weight file) is not installed")
    return Path(spec.origin).parent / "checkpoint20.npz"


@lru_cache(maxsize=1)
def _load() -> dict[str, np.ndarray]:
    with np.load(_weights_path()) as z:
        return {k: z[k].astype(np.float32) for k in z.files}


def _gru_step(x: np.ndarray, h: np.ndarray, w_ih, w_hh, b_ih, b_hh) -> np.ndarray:
    """One PyTorch-convention GRU cell step (gates ordered r, z, n)."""
    gi = x @ w_ih.T + b_ih
    gh = h @ w_hh.T + b_hh
    hs = h.shape[-1]
    r = 1.0 / (1.0 + np.exp(-(gi[..., :hs] + gh[..., :hs])))
    z = 1.0 / (1.0 + np.exp(-(gi[..., hs:2 * hs] + gh[..., hs:2 * hs])))
    n = np.tanh(gi[..., 2 * hs:] + r * gh[..., 2 * hs:])
    return (1.0 - z) * n + z * h


def g2p(word: str) -> tuple[str, ...]:
    """Greedy-decoded pronunciation of a lowercase a-z word, stress removed."""
    w = _load()
    ids = [_GRAPHEMES.index(c) if c in _GRAPHEMES else 1 for c in word.lower()] + [_GRAPHEMES.index("</s>")]
    h = np.zeros((1, w["enc_w_hh"].shape[1]), np.float32)
    for i in ids:
        h = _gru_step(w["enc_emb"][[i]], h, w["enc_w_ih"], w["enc_w_hh"], w["enc_b_ih"], w["enc_b_hh"])
    out: list[str] = []
    prev = _START
    for _ in range(MAX_PHONES):
        h = _gru_step(w["dec_emb"][[prev]], h, w["dec_w_ih"], w["dec_w_hh"], w["dec_b_ih"], w["dec_b_hh"])
        prev = int(np.argmax(h @ w["fc_w"].T + w["fc_b"]))
        if prev == _END:
            break
        out.append(strip_stress(_PHONEMES[prev]))
    return tuple(p for p in out if p not in ("<PAD>", "<UNK>", "<S>"))
