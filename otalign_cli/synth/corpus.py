"""The synthetic training corpus recipe: sentences -> TTS with gold timings -> corpus folder.

Layout (what ``otalign batch`` and ``otalign train`` read): ``OUT/<voice>/<utt>.wav`` with a
same-stem ``.txt`` transcript and ``.TextGrid`` gold words/phones, plus ``OUT/manifest.jsonl``.
Deterministic for a seed: every random choice comes from a generator seeded per utterance.
"""

from __future__ import annotations

import hashlib
import random
import re
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from otalign_cli.formats.textgrid import write_textgrid
from otalign_cli.manifest import Recording, write_manifest
from otalign_cli.synth import RESERVED_VOICES, espeak, flite
from otalign_cli.synth.festival import SynthJob, Synthesized, synthesize
from otalign_cli.synth.festival import VOICES as FESTIVAL_VOICES
from otalign_cli.text.phones import SILENCE

FORTUNE_DIR = Path("/usr/share/games/fortunes")
SAMPLE_RATE = 16000
SPEEDS = (0.9, 1.0, 1.1)
VOICES = {**{v: "festival" for v in FESTIVAL_VOICES}, **{v: "flite" for v in flite.VOICES}, "espeak": "espeak"}
# espeak-ng brings the accents, pitches and female voices the other engines lack, and rejects
# about half its utterances (phones that do not map 1:1), so it gets more of the jobs
DEFAULT_MIX = ("kal", "ked", "awb", "kal16", "espeak", "espeak", "espeak", "espeak", "espeak")
DEV_VARIANT_SHARE = 0.12  # espeak-ng variants heard only in the dev split


def espeak_pools() -> tuple[list[str], list[str]]:
    """(train, dev) espeak-ng variants; the dev ones are chosen by hash and never trained on."""
    train, dev = [], []
    for v in espeak.variants():
        (dev if split_of("variant:" + v, DEV_VARIANT_SHARE) == "dev" else train).append(v)
    return train, dev


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

    def record(self) -> Recording:
        """Its line of the corpus manifest."""
        return Recording(self.audio, self.split, self.id, self.text, self.textgrid, self.duration,
                         extra={"voice": self.voice, "engine": self.engine, "speed": self.speed,
                                "stretch": self.stretch, "f0_mean": self.f0_mean})


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


def plan_jobs(sentences: list[str], n_utts: int, seed: int, voices: tuple[str, ...],
              dev_fraction: float = 0.05) -> list[tuple[SynthJob, float]]:
    """(festival job, speed factor) for ``n_utts`` utterances, drawn deterministically."""
    for v in voices:
        if v in RESERVED_VOICES:
            raise ValueError(f"voice {v!r} is reserved for evaluation and never used for training data")
        if v not in VOICES:
            raise ValueError(f"unknown voice {v!r}; choose from {', '.join(VOICES)}")
    rng = random.Random(seed)
    order = list(range(len(sentences)))
    rng.shuffle(order)
    pools = espeak_pools() if "espeak" in voices else ([], [])
    jobs = []
    for k in range(n_utts):
        r = random.Random(f"{seed}-{k}")
        voice = voices[k % len(voices)]
        text = sentences[order[k % len(order)]]
        variant = ""
        if voice == "espeak":
            pool = pools[1] if split_of(text, dev_fraction) == "dev" else pools[0]
            variant = f"{r.choice(espeak.ACCENTS)}+{r.choice(pool)}"
        job = SynthJob(
            utt_id=f"{voice}-{seed}-{k:06d}",
            text=text,
            voice=voice,
            stretch=round(r.uniform(0.8, 1.35), 3),
            f0_mean=round(r.uniform(80, 160), 1),
            f0_std=round(r.uniform(5, 30), 1),
            variant=variant,
        )
        jobs.append((job, r.choice(SPEEDS)))
    return jobs


def change_speed(audio: np.ndarray, factor: float) -> np.ndarray:
    """Play ``factor`` times faster (pitch moves too); all times are then divided by ``factor``."""
    if factor == 1.0:
        return audio
    return soxr.resample(audio, SAMPLE_RATE * factor, SAMPLE_RATE, quality="VHQ").astype(np.float32)


def _finish(s: Synthesized, job: SynthJob, speed: float, outdir: Path, dev_fraction: float) -> Utterance:
    audio, sr = sf.read(s.wav, dtype="float32")
    assert sr == SAMPLE_RATE
    audio = change_speed(audio, speed)
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
        duration=round(duration, 4), voice=job.variant or job.voice, engine=VOICES[job.voice], speed=speed, stretch=job.stretch,
        f0_mean=job.f0_mean, split=split_of(job.text, dev_fraction),
    )


def flite_wav(r: flite.FliteResult, folder: Path, utt_id: str) -> Synthesized:
    """Write a flite result as ``folder/utt_id.wav`` at 16 kHz, with its phone and word times."""
    audio = r.audio if r.sample_rate == SAMPLE_RATE else soxr.resample(r.audio, r.sample_rate, SAMPLE_RATE, quality="VHQ")
    folder.mkdir(parents=True, exist_ok=True)
    wav = folder / f"{utt_id}.wav"
    sf.write(wav, audio, SAMPLE_RATE, subtype="PCM_16")
    return Synthesized(utt_id, wav, r.phones, r.words)


def _flite(job: SynthJob, folder: Path) -> Synthesized:
    return flite_wav(flite.synthesize(job.text, job.voice, stretch=job.stretch, f0_mean=job.f0_mean), folder,
                     job.utt_id)


def _espeak(job: SynthJob, folder: Path) -> Synthesized | None:
    """espeak-ng job: stretch sets the rate (175 wpm / stretch), f0 the pitch and range (0-100)."""
    rate = int(175 / job.stretch)
    pitch = int(min(100, max(0, (job.f0_mean - 80) / 80 * 100)))
    r = espeak.synthesize(job.text, job.variant, rate, pitch, int(job.f0_std * 3), random.Random(job.utt_id))
    if r is None:
        return None
    folder.mkdir(parents=True, exist_ok=True)
    wav = folder / f"{job.utt_id}.wav"
    sf.write(wav, soxr.resample(r.audio, r.sample_rate, SAMPLE_RATE, quality="VHQ"), SAMPLE_RATE, subtype="PCM_16")
    return Synthesized(job.utt_id, wav, r.phones, r.words)


def _run_chunk(args: tuple[list[tuple[SynthJob, float]], Path, float]) -> list[Utterance]:
    chunk, outdir, dev_fraction = args
    by_voice: dict[str, list[tuple[SynthJob, float]]] = {}
    for job, speed in chunk:
        by_voice.setdefault(job.voice, []).append((job, speed))
    out = []
    for voice, items in by_voice.items():
        if VOICES[voice] == "festival":
            done = {r.utt_id: r for r in synthesize([j for j, _ in items], outdir / voice)}
        elif VOICES[voice] == "flite":
            done = {j.utt_id: _flite(j, outdir / voice) for j, _ in items}
        else:
            done = {j.utt_id: _espeak(j, outdir / voice) for j, _ in items}
        for job, speed in items:
            if done.get(job.utt_id) is not None and done[job.utt_id].phones:
                out.append(_finish(done[job.utt_id], job, speed, outdir, dev_fraction))
    return out


def build_corpus(
    outdir: Path,
    hours: float,
    seed: int = 0,
    jobs: int = 2,
    voices: tuple[str, ...] = DEFAULT_MIX,
    dev_fraction: float = 0.05,
    sentences: list[str] | None = None,
    progress: Callable[[int], None] | None = None,
) -> list[Utterance]:
    """Synthesize about ``hours`` of speech (an utterance averages ~3.5 s) into ``outdir``."""
    sentences = sentences if sentences is not None else fortune_sentences()
    n_utts = max(1, int(hours * 3600 / 3.5))
    planned = plan_jobs(sentences, n_utts, seed, voices, dev_fraction)
    chunks = [planned[i:i + 40] for i in range(0, len(planned), 40)]
    utts: list[Utterance] = []
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        for chunk, result in zip(chunks, pool.map(_run_chunk, [(c, outdir, dev_fraction) for c in chunks])):
            utts.extend(result)
            if progress:
                progress(len(chunk))
    utts.sort(key=lambda u: u.id)
    write_manifest(outdir / "manifest.jsonl", [u.record() for u in utts])
    return utts
