"""Speech with exact phone timings from the festival TTS engine (diphone voices kal and ked).

festival reports where each segment of its Segment relation ends; those are the times it
synthesized, so they are gold timings for the audio it writes. Many utterances go through one
``festival -b`` process because starting festival costs about a second.
"""

from __future__ import annotations

import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from otalign_cli.synth import RESERVED_VOICES
from otalign_cli.text.phones import PHONES, SILENCE

VOICES = {"kal": "voice_kal_diphone", "ked": "voice_ked_diphone"}
# Reserved: only ``synth.evaluation_set`` asks for it (``evaluation=True``), never the training recipe.
EVALUATION_VOICES = {"cmu_us_slt_arctic_hts": "voice_cmu_us_slt_arctic_hts"}

# festival's radio phone set -> the 39 ARPAbet phones of CMUdict.
_MAP = {"pau": SILENCE, "h#": SILENCE, "ax": "AH", "axr": "ER", "el": "L", "em": "M", "en": "N",
        "nx": "N", "dx": "T", "hv": "HH"}


@dataclass(frozen=True)
class SynthJob:
    utt_id: str
    text: str
    voice: str
    stretch: float  # Duration_Stretch: > 1 is slower
    f0_mean: float  # target mean pitch in Hz
    f0_std: float
    variant: str = ""  # espeak-ng only: accent+variant, e.g. "en-gb-x-rp+f1"


@dataclass
class Synthesized:
    utt_id: str
    wav: Path
    phones: list[tuple[float, float, str]]  # (start, end, ARPAbet or "sil"), tiling the audio
    words: list[tuple[float, float, str]]


def map_phone(name: str) -> str:
    phone = _MAP.get(name, name.upper())
    if phone != SILENCE and phone not in PHONES:
        raise ValueError(f"festival phone {name!r} has no ARPAbet equivalent")
    return phone


def _scheme_string(text: str) -> str:
    return '"' + text.replace("\\", " ").replace('"', " ") + '"'


def _voice_table(evaluation: bool) -> dict[str, str]:
    return EVALUATION_VOICES if evaluation else VOICES


def _script(jobs: list[SynthJob], outdir: Path, evaluation: bool = False) -> str:
    lines = []
    table = _voice_table(evaluation)
    for job in jobs:
        if job.voice in RESERVED_VOICES and not evaluation:
            raise ValueError(f"voice {job.voice!r} is reserved for evaluation and never used for training data")
        if job.voice not in table:
            kind = "evaluation" if evaluation else "training"
            raise ValueError(f"voice {job.voice!r} is not a festival {kind} voice")
        wav = outdir / f"{job.utt_id}.wav"
        lines.append(f"""
({table[job.voice]})
(Parameter.set 'Duration_Stretch {job.stretch:.3f})
(set! int_lr_params '((target_f0_mean {job.f0_mean:.1f}) (target_f0_std {job.f0_std:.1f})
                      (model_f0_mean 170) (model_f0_std 34)))
(set! utt (Utterance Text {_scheme_string(job.text)}))
(utt.synth utt)
(utt.wave.resample utt 16000)
(utt.save.wave utt "{wav}" 'riff)
(format t "UTT {job.utt_id}\\n")
(mapcar (lambda (seg)
  (let ((syl (item.relation.parent seg 'SylStructure)))
    (format t "SEG %s %f %s\\n" (item.name seg) (item.feat seg 'end)
       (if syl (item.feat (item.relation.parent syl 'SylStructure) 'id) "-"))))
  (utt.relation.items utt 'Segment))
(mapcar (lambda (w) (format t "WORD %s %s\\n" (item.feat w 'id) (item.name w)))
  (utt.relation.items utt 'Word))
""")
    return "\n".join(lines)


def _parse(output: str, outdir: Path) -> list[Synthesized]:
    results: list[Synthesized] = []
    segs: list[tuple[str, float, str]] = []
    names: dict[str, str] = {}
    utt = None

    def flush() -> None:
        if utt is None:
            return
        phones, words, start = [], [], 0.0
        word_spans: dict[str, list[float]] = {}
        order: list[str] = []
        for name, end, wid in segs:
            if end > start:
                phones.append((start, end, map_phone(name)))
                if wid != "-":
                    if wid not in word_spans:
                        word_spans[wid] = [start, end]
                        order.append(wid)
                    word_spans[wid][1] = end
            start = end
        words = [(word_spans[w][0], word_spans[w][1], names.get(w, "?").lower()) for w in order]
        results.append(Synthesized(utt, outdir / f"{utt}.wav", phones, words))

    for line in output.splitlines():
        parts = line.split()
        if not parts:
            continue
        if parts[0] == "UTT":
            flush()
            utt, segs, names = parts[1], [], {}
        elif parts[0] == "SEG" and len(parts) == 4:
            segs.append((parts[1], float(parts[2]), parts[3]))
        elif parts[0] == "WORD" and len(parts) >= 3:
            names[parts[1]] = " ".join(parts[2:])
    flush()
    return results


def synthesize(jobs: list[SynthJob], outdir: Path, evaluation: bool = False) -> list[Synthesized]:
    """Synthesize ``jobs`` into ``outdir`` (16 kHz wav) in one festival process.

    ``evaluation`` switches to the reserved voices (and only them), for the held-out evaluation set.
    """
    outdir.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", suffix=".scm", delete=False) as f:
        f.write(_script(jobs, outdir.resolve(), evaluation))
        script = f.name
    try:
        proc = subprocess.run(["festival", "-b", script], capture_output=True, text=True, check=False)
    finally:
        Path(script).unlink(missing_ok=True)
    if proc.returncode != 0:
        raise RuntimeError(f"festival failed: {proc.stderr.strip()[-300:]}")
    return _parse(proc.stdout, outdir)
