"""The independent evaluation set: the reserved voices, never heard in training or tuning.

flite ``rms`` and ``slt`` and festival ``cmu_us_slt_arctic_hts`` are kept out of every training
corpus and dev set (``synth.RESERVED_VOICES``). This module is the one place that synthesizes
them, into a folder marked ``RESERVED_MARKER`` that ``otalign train`` refuses, from held-out
sentences only (the dev split of ``corpus.split_of``). The voices speak at their own rate and
pitch: the set measures how the bundled models do on voices and texts they never met.
"""

from __future__ import annotations

import random
from pathlib import Path

import soundfile as sf

from otalign_cli.formats.textgrid import write_textgrid
from otalign_cli.manifest import write_manifest
from otalign_cli.synth import festival, flite
from otalign_cli.synth.corpus import SAMPLE_RATE, Utterance, flite_wav, fortune_sentences, split_of
from otalign_cli.synth.festival import SynthJob
from otalign_cli.text.phones import SILENCE

RESERVED_MARKER = "RESERVED_VOICES_EVALUATION_ONLY"
EVALUATION_VOICES = (*flite.EVALUATION_VOICES, *festival.EVALUATION_VOICES)


def evaluation_sentences(n: int, seed: int, dev_fraction: float = 0.05) -> list[str]:
    """``n`` held-out sentences (never in any training split), drawn deterministically."""
    held_out = [s for s in fortune_sentences() if split_of(s, dev_fraction) == "dev"]
    return random.Random(seed).sample(held_out, min(n, len(held_out)))


def build_evaluation_set(outdir: Path, per_voice: int, seed: int = 0) -> list[Utterance]:
    """``per_voice`` utterances of each reserved voice in ``outdir`` (wav, gold TextGrid, .txt,
    manifest.jsonl with split "eval"); the same sentences for every voice."""
    outdir.mkdir(parents=True, exist_ok=True)
    (outdir / RESERVED_MARKER).write_text("Reserved-voice evaluation data: never train or tune on it.\n")
    sentences = evaluation_sentences(per_voice, seed)
    utts: list[Utterance] = []
    for voice in EVALUATION_VOICES:
        folder = outdir / voice
        folder.mkdir(exist_ok=True)
        ids = [f"{voice}-{seed}-{k:04d}" for k in range(len(sentences))]
        if voice in flite.EVALUATION_VOICES:
            done = [flite_wav(flite.synthesize(text, voice, evaluation=True), folder, i)
                    for text, i in zip(sentences, ids)]
            engine = "flite"
        else:
            jobs = [SynthJob(i, text, voice, 1.0, 105.0, 15.0) for text, i in zip(sentences, ids)]
            done = festival.synthesize(jobs, folder, evaluation=True)
            engine = "festival"
        for s, text in zip(done, sentences):
            if not s.phones:
                continue
            audio, _ = sf.read(s.wav, dtype="float32")
            duration = len(audio) / SAMPLE_RATE
            phones = [p for p in s.phones if p[2] != SILENCE and p[0] < duration]
            write_textgrid(s.wav.with_suffix(".TextGrid"), {"words": s.words, "phones": phones}, duration)
            s.wav.with_suffix(".txt").write_text(text + "\n", encoding="utf-8")
            utts.append(Utterance(s.utt_id, str(s.wav.relative_to(outdir)), text,
                                  str(s.wav.with_suffix(".TextGrid").relative_to(outdir)), round(duration, 4),
                                  voice, engine, 1.0, 1.0, 0.0, "eval"))
    write_manifest(outdir / "manifest.jsonl", [u.record() for u in utts])
    return utts
