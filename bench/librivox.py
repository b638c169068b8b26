"""Real speech: otalign's word boundaries against pocketsphinx forced alignment (run by hand).

The five LibriVox utterances of Debian's pocketsphinx-testdata, aligned by pocketsphinx 5 (PyPI,
its bundled en-us model, a fresh Decoder per file), by otalign with each OT readout, and by the
CTC twin. Prints the share of word boundaries (onsets and offsets) within 50 ms (and 20 ms) of
pocketsphinx's. Needs ``pip install pocketsphinx``.

    python bench/librivox.py
"""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import torch

from otalign_cli.models import load_models
from otalign_cli.alignment.readouts import DEFAULT_READOUT, READOUTS
from otalign_cli.pipeline import DEFAULT_PASSES, align_file

DATA = Path("/usr/share/pocketsphinx/test/data/librivox")


def transcripts() -> dict[str, str]:
    out = {}
    for line in (DATA / "transcription").read_text().splitlines():
        text, _, utt = line.rpartition("(")
        out[utt.strip(") ")] = text.replace("<s>", "").replace("</s>", "").strip()
    return out


def pocketsphinx_words(wav: Path, text: str) -> list[tuple[float, float, str]]:
    from pocketsphinx import Decoder

    with wave.open(str(wav)) as w:
        data = w.readframes(w.getnframes())
    d = Decoder(samprate=16000, loglevel="FATAL")
    d.set_align_text(text)
    d.start_utt()
    d.process_raw(data, full_utt=True)
    d.end_utt()
    d.set_alignment()  # second pass: phone and state alignment inside the word path
    d.start_utt()
    d.process_raw(data, full_utt=True)
    d.end_utt()
    return [(s.start / 100, (s.start + s.duration) / 100, s.name.split("(")[0])
            for s in d.get_alignment() if not s.name.startswith(("<", "["))]


def agreement(ref: list[tuple[float, float, str]], hyp: list[tuple[float, float]]) -> np.ndarray:
    r = np.array([(a, b) for a, b, _ in ref])
    return np.abs(np.array(hyp) - r).ravel()


def main() -> None:
    import argparse

    ap = argparse.ArgumentParser()
    ap.add_argument("--model", type=Path)
    ap.add_argument("--ctc-model", type=Path)
    ap.add_argument("--passes", type=int, default=DEFAULT_PASSES, help="shifted encoder passes of the refine readout")
    args = ap.parse_args()
    torch.set_num_threads(2)
    m = load_models(args.model, args.ctc_model)
    ottc, ctc = m.ottc, m.ctc
    errors: dict[str, list[np.ndarray]] = {}
    variants = [(r, True) for r in READOUTS]
    if ottc.boundary_model is not None:
        variants.insert(1, (DEFAULT_READOUT, False))  # refine without the boundary model, side by side
    tmp = Path("/tmp/otalign-librivox")
    tmp.mkdir(exist_ok=True)
    for utt, text in transcripts().items():
        wav = DATA / f"{utt}.wav"
        ref = pocketsphinx_words(wav, text)
        txt = tmp / f"{utt}.txt"
        txt.write_text(text)
        for r, with_boundaries in variants:
            bm = ottc.boundary_model
            if not with_boundaries:
                ottc.set_boundary_model(None)
            first = r == DEFAULT_READOUT and with_boundaries
            res = align_file(wav, txt, ottc, ctc if first else None, readout=r, passes=args.passes)
            ottc.set_boundary_model(bm)
            assert [w.label for w in res.ot.words] == [w for _, _, w in ref], (utt, r)
            errors.setdefault(res.readout, []).append(agreement(ref, [(w.start, w.end) for w in res.ot.words]))
            if res.ctc is not None:
                errors.setdefault("ctc", []).append(agreement(ref, [(w.start, w.end) for w in res.ctc.words]))
    print("| aligner | word boundaries within 20 ms of pocketsphinx % | within 50 ms % | mean abs diff ms |")
    print("|---|---|---|---|")
    for r, errs in errors.items():
        e = np.concatenate(errs)
        name = ("CTC twin (Viterbi)" if r == "ctc" else f"otalign OT, readout {r}"
                + (f", {args.passes} passes" if r.startswith("refine") else ""))
        print(f"| {name} | {(e <= 0.02).mean() * 100:.0f} | {(e <= 0.05).mean() * 100:.0f} | {e.mean() * 1000:.0f} |")
    print(f"\n{sum(len(e) for e in errors['ctc'])} word boundaries in {len(errors['ctc'])} utterances")


if __name__ == "__main__":
    main()
