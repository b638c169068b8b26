"""The synthetic training corpus recipe: sentences -> TTS with gold timings -> corpus folder.

Layout (what ``otalign batch`` and ``otalign train`` read): ``OUT/<voice>/<utt>.wav`` with a
same-stem ``.txt`` transcript and ``.TextGrid`` gold words/phones, plus ``OUT/manifest.jsonl``.
Deterministic for a seed: every random choice comes from a generator seeded per utterance.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from otalign_cli.formats.textgrid import write_textgrid
from otalign_cli.synth.festival import RESERVED_VOICES, VOICES, FestivalJob, Synthesized, synthesize
from otalign_cli.text.phones import SILENCE

FORTUNE_DIR = Path("/usr/share/games/fortunes")
SAMPLE_RATE = 16000
SPEEDS = (0.9, 1.0, 1.1)


@dataclass
class Utterance:
    """One manifest line."""

    id: str
    audio: str
    text: str
    textgrid: str
    duration: float
    voice: str
    engine: str
    speed: float
    stretch: float
    f0_mean: float
    split: str


def fortune_sentences(folder: Path = FORTUNE_DIR, min_words: int = 4, max_words: int = 22) -> list[str]:
    """Distinct plain-English sentences from Debian's fortune files, sorted for determinism."""
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: no fortune files (apt-get install fortunes fortunes-min)")
    seen: set[str] = set()
    for path in sorted(folder.iterdir()):
        if path.suffix or not path.is_file():
            continue
        text = path.read_text(encoding="latin-1")
        for block in text.split("\n%\n"):
            flat = " ".join(block.split())
            for sent in re.split(r"(?<=[.!?])\s+", flat):
                words = sent.split()
                if not (min_words <= len(words) <= max_words):
                    continue
                if not re.fullmatch(r"[A-Z][A-Za-z0-9 ,.;:!?'\-$%]+", sent) or "--" in sent:
                    continue
                seen.add(sent)
    return sorted(seen)


def split_of(sentence: str, dev_fraction: float) -> str:
    """Held-out sentences are chosen by hash, so the split does not depend on the seed."""
    h = int(hashlib.sha1(sentence.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
    return "dev" if h < dev_fraction else "train"


def plan_jobs(sentences: list[str], n_utts: int, seed: int, voices: tuple[str, ...]) -> list[tuple[FestivalJob, float]]:
    """(festival job, speed factor) for ``n_utts`` utterances, drawn deterministically."""
    for v in voices:
        if v in RESERVED_VOICES:
            raise ValueError(f"voice {v!r} is reserved for evaluation and never used for training data")
        if v not in VOICES:
            raise ValueError(f"unknown voice {v!r}; choose from {', '.join(VOICES)}")
    rng = random.Random(seed)
    order = list(range(len(sentences)))
    rng.shuffle(order)
    jobs = []
    for k in range(n_utts):
        r = random.Random(f"{seed}-{k}")
        voice = voices[k % len(voices)]
        job = FestivalJob(
            utt_id=f"{voice}-{seed}-{k:06d}",
            text=sentences[order[k % len(order)]],
            voice=voice,
            stretch=round(r.uniform(0.8, 1.35), 3),
            f0_mean=round(r.uniform(80, 160), 1),
            f0_std=round(r.uniform(5, 30), 1),
        )
        jobs.append((job, r.choice(SPEEDS)))
    return jobs


def _speed(audio: np.ndarray, factor: float) -> np.ndarray:
    """Play ``factor`` times faster (pitch moves too); all times are then divided by ``factor``."""
    if factor == 1.0:
        return audio
    return soxr.resample(audio, SAMPLE_RATE * factor, SAMPLE_RATE, quality="VHQ").astype(np.float32)


def _finish(s: Synthesized, job: FestivalJob, speed: float, outdir: Path, dev_fraction: float) -> Utterance:
    audio, sr = sf.read(s.wav, dtype="float32")
    assert sr == SAMPLE_RATE
    audio = _speed(audio, speed)
    duration = len(audio) / SAMPLE_RATE
    sf.write(s.wav, audio, SAMPLE_RATE, subtype="PCM_16")

    def scale(items: list[tuple[float, float, str]]) -> list[tuple[float, float, str]]:
        return [(a / speed, min(b / speed, duration), lab) for a, b, lab in items if a / speed < duration]

    phones = [p for p in scale(s.phones) if p[2] != SILENCE]
    words = scale(s.words)
    tg = s.wav.with_suffix(".TextGrid")
    write_textgrid(tg, {"words": words, "phones": phones}, duration)
    s.wav.with_suffix(".txt").write_text(job.text + "\n", encoding="utf-8")
    return Utterance(
        id=s.utt_id, audio=str(s.wav.relative_to(outdir)), text=job.text, textgrid=str(tg.relative_to(outdir)),
        duration=round(duration, 4), voice=job.voice, engine="festival", speed=speed, stretch=job.stretch,
        f0_mean=job.f0_mean, split=split_of(job.text, dev_fraction),
    )


def _run_chunk(args: tuple[list[tuple[FestivalJob, float]], Path, float]) -> list[Utterance]:
    chunk, outdir, dev_fraction = args
    by_voice: dict[str, list[tuple[FestivalJob, float]]] = {}
    for job, speed in chunk:
        by_voice.setdefault(job.voice, []).append((job, speed))
    out = []
    for voice, items in by_voice.items():
        results = synthesize([j for j, _ in items], outdir / voice)
        done = {r.utt_id: r for r in results}
        for job, speed in items:
            if job.utt_id in done and done[job.utt_id].phones:
                out.append(_finish(done[job.utt_id], job, speed, outdir, dev_fraction))
    return out


def build_corpus(
    outdir: Path,
    hours: float,
    seed: int = 0,
    jobs: int = 2,
    voices: tuple[str, ...] = tuple(VOICES),
    dev_fraction: float = 0.05,
    sentences: list[str] | None = None,
    progress: Callable[[int], None] | None = None,
) -> list[Utterance]:
    """Synthesize about ``hours`` of speech (an utterance averages ~3.5 s) into ``outdir``."""
    sentences = sentences if sentences is not None else fortune_sentences()
    n_utts = max(1, int(hours * 3600 / 3.5))
    planned = plan_jobs(sentences, n_utts, seed, voices)
    chunks = [planned[i:i + 40] for i in range(0, len(planned), 40)]
    utts: list[Utterance] = []
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        for result in pool.map(_run_chunk, [(c, outdir, dev_fraction) for c in chunks]):
            utts.extend(result)
            if progress:
                progress(len(result))
    utts.sort(key=lambda u: u.id)
    with open(outdir / "manifest.jsonl", "w", encoding="utf-8") as f:
        for u in utts:
            f.write(json.dumps(asdict(u)) + "\n")
    return utts
