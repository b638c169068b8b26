"""pocketsphinx 5 forced alignment of one utterance, and a whole-corpus job (run by hand).

Kept free of torch and of otalign's models, so that timing pocketsphinx as a whole process
(bench/whole_process.py) counts pocketsphinx's own start-up only:

    python bench/pocketsphinx_job.py CORPUS OUT

writes ``OUT/NAME.TextGrid`` (tiers words and phones) for every file it aligns.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from otalign_cli.formats.textgrid import write_textgrid
from otalign_cli.text.normalize import normalize_transcript


def pocketsphinx_align(audio: np.ndarray, words: list[str]):
    """(words, phones) as (start, end, label) lists, or None if a word is not in its dictionary."""
    from pocketsphinx import Decoder

    d = Decoder(samprate=16000, loglevel="FATAL")
    if any(d.lookup_word(w) is None for w in words):
        return None
    pcm = (np.clip(audio, -1, 1) * 32767).astype(np.int16).tobytes()
    d.set_align_text(" ".join(words))
    try:
        for second_pass in (False, True):
            if second_pass:
                d.set_alignment()
            d.start_utt()
            d.process_raw(pcm, full_utt=True)
            d.end_utt()
    except RuntimeError:  # pocketsphinx found no alignment ("Failed to stop utterance processing")
        return None
    al = d.get_alignment()
    if al is None:
        return None
    w_out, p_out = [], []
    for w in al:
        if w.name.startswith(("<", "[")):
            continue
        w_out.append((w.start / 100, (w.start + w.duration) / 100, w.name.split("(")[0]))
        p_out.extend((p.start / 100, (p.start + p.duration) / 100, p.name) for p in w if p.name != "SIL")
    return w_out, p_out


def spoken_text(text: str) -> list[str]:
    return [s for w in normalize_transcript(text) for s in w.spoken]


def main() -> None:
    import soundfile as sf
    import soxr

    corpus, out = Path(sys.argv[1]), Path(sys.argv[2])
    if out.resolve() == corpus.resolve():
        sys.exit(f"error: {out}: the output folder is the corpus (its reference TextGrids would be overwritten)")
    out.mkdir(parents=True, exist_ok=True)
    for wav in sorted(corpus.glob("*.wav")):
        audio, sr = sf.read(wav, dtype="float32", always_2d=True)
        audio = audio.mean(axis=1)
        if sr != 16000:
            audio = soxr.resample(audio, sr, 16000)
        r = pocketsphinx_align(audio, spoken_text(wav.with_suffix(".txt").read_text(encoding="utf-8")))
        if r is not None:
            # tiers words and phones, pauses as gaps: what `otalign evaluate REF OUT` (or --against OUT) reads
            write_textgrid(out / (wav.stem + ".TextGrid"), dict(zip(("words", "phones"), r)), len(audio) / 16000)


if __name__ == "__main__":
    main()
