"""Audio in: any file soundfile reads (wav, flac, ogg, mp3), downmixed and resampled to 16 kHz."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from otalign_cli.errors import OtalignError

SAMPLE_RATE = 16000
SILENCE_PEAK = 1e-4  # a file whose peak stays below -80 dBFS holds no speech to align


def load_audio(path: Path) -> np.ndarray:
    """16 kHz mono float32 samples of ``path``.

    Resampling uses soxr's very-high-quality filter: torchaudio's default sinc resampler
    leaks aliasing at about -17 dB, which smears high-frequency cues of fricatives.
    """
    if not path.exists():
        raise OtalignError(path, "audio file not found")
    if path.is_dir():
        raise OtalignError(path, "is a folder, not an audio file")
    try:
        audio, sr = sf.read(str(path), dtype="float32", always_2d=True)
    except Exception as err:  # soundfile raises several types for corrupt data
        reason = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise OtalignError(path, f"cannot read audio ({reason})") from None
    if audio.shape[0] == 0:
        raise OtalignError(path, "audio is empty (0 samples)")
    mono = audio.mean(axis=1)
    if not np.isfinite(mono).all():
        raise OtalignError(path, "audio contains NaN or infinite samples")
    if float(np.abs(mono).max()) < SILENCE_PEAK:
        raise OtalignError(path, "audio is silent (peak below -80 dBFS): nothing to align")
    if sr != SAMPLE_RATE:
        mono = soxr.resample(mono, sr, SAMPLE_RATE, quality="VHQ").astype(np.float32)
    return np.ascontiguousarray(mono)
