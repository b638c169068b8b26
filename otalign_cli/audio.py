"""Audio in: any file soundfile reads (wav, flac, ogg, mp3), downmixed and resampled to 16 kHz."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from otalign_cli.errors import OtalignError

SAMPLE_RATE = 16000
SILENCE_PEAK = 1e-4  # a file whose peak stays below -80 dBFS holds no speech to align


BLOCK = 1 << 20  # frames read per block: memory stays near the 16 kHz output, whatever the input rate


@dataclass(frozen=True)
class AudioInfo:
    format: str  # soundfile's name for the container, e.g. WAV, FLAC, MP3
    samplerate: int
    channels: int
    seconds: float


def _check_path(path: Path) -> None:
    if not path.exists():
        raise OtalignError(path, "audio file not found (or a symbolic link that leads nowhere)")
    if path.is_dir():
        raise OtalignError(path, "is a folder, not an audio file")
    if not path.is_file():  # a FIFO or device would block the reader forever
        raise OtalignError(path, "not a regular file (a FIFO, device or socket), not an audio file")


def write_wav(path: Path, samples: np.ndarray) -> None:
    """``samples`` (mono, ``SAMPLE_RATE``) as a 16-bit WAV at ``path``, written atomically (a
    temporary beside it, moved into place), so a killed run leaves no half-written recording."""
    from otalign_cli.formats.atomic import write_with  # the formats package is not needed to read audio

    write_with(path, lambda tmp: sf.write(str(tmp), samples, SAMPLE_RATE, subtype="PCM_16", format="WAV"))


def wav_shortfall(path: Path) -> tuple[int, int] | None:
    """(bytes the data chunk's header promises, bytes the file holds) of a RIFF/WAVE file cut
    short, else None. libsndfile quietly reads what is there, so a truncated WAV would align."""
    size = path.stat().st_size
    with path.open("rb") as fh:
        head = fh.read(12)
        if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
            return None
        pos = 12
        while pos + 8 <= size:
            fh.seek(pos)
            chunk = fh.read(8)
            n = int.from_bytes(chunk[4:8], "little")
            if chunk[:4] == b"data":
                present = size - pos - 8
                # 0 and 0xFFFFFFFF: a stream written before its length was known, not a promise
                return (n, present) if n not in (0, 0xFFFFFFFF) and n > present else None
            pos += 8 + n + (n & 1)
    return None


@contextmanager
def _quiet_stderr(active: bool) -> Iterator[None]:
    """Silence what a C decoder writes straight to file descriptor 2 (mpg123's warnings on damaged
    MP3s): otalign says what is wrong in its own one line."""
    if not active:
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


# An MP3's header counts the encoder's padding and delay, which the decoder drops: 100 Common Voice
# clips decoded 198 to 1,290 samples (median 270) short of it. Up to 2,304 samples short (two
# MPEG-1 Layer III frames) is not a truncated file; a file cut short lacks far more.
MP3_PADDING = 2 * 1152


def read_blocks(path: Path, on_open: Callable[[AudioInfo], None], on_block: Callable[[np.ndarray, bool], None]) -> int:
    """Read ``path`` block by block ((frames, channels) float32, and whether it is the last);
    returns the frames read. Every way a file can be unreadable or cut short is an
    ``OtalignError`` naming it."""
    _check_path(path)
    if (short := wav_shortfall(path)) is not None:
        raise OtalignError(path, f"audio is truncated: its header promises {short[0]} bytes of samples, "
                                 f"the file holds {short[1]}")
    frames = 0
    try:
        with _quiet_stderr(path.suffix.lower() == ".mp3"), sf.SoundFile(str(path)) as f:
            on_open(AudioInfo(f.format, f.samplerate, f.channels, f.frames / f.samplerate))
            promised, info_format = f.frames, f.format
            while True:
                block = f.read(BLOCK, dtype="float32", always_2d=True)
                frames += block.shape[0]
                last = block.shape[0] < BLOCK
                on_block(block, last)
                if last:
                    break
    except OtalignError:
        raise
    except Exception as err:  # soundfile raises several types for corrupt data
        reason = str(err).splitlines()[0] if str(err) else type(err).__name__
        if "possibly a pipe" in reason or "Format not recognised" in reason:  # libsndfile's words for data it cannot decode
            reason = "not a recognised audio format, or damaged data"
        elif reason.startswith("Error opening"):
            reason = reason.split(": ", 1)[-1]
        raise OtalignError(path, f"cannot read audio ({reason})") from None
    if 0 < frames < promised - (MP3_PADDING if info_format == "MP3" else 0):
        raise OtalignError(path, f"audio is truncated: its header promises {promised} samples, {frames} could be read")
    return frames


def _check_samples(path: Path, frames: int, finite: bool, peak: float) -> None:
    if frames == 0:
        raise OtalignError(path, "audio is empty (0 samples)")
    if not finite:
        raise OtalignError(path, "audio contains NaN or infinite samples")
    if peak < SILENCE_PEAK:
        raise OtalignError(path, "audio is silent (peak below -80 dBFS): nothing to align")


def load_audio(path: Path) -> np.ndarray:
    """16 kHz mono float32 samples of ``path``.

    Read block by block, downmixed and resampled as it streams, so an hour of 44.1 kHz stereo
    needs no more memory than its 16 kHz mono result. Resampling uses soxr's very-high-quality
    filter: torchaudio's default sinc resampler leaks aliasing at about -17 dB, which smears
    high-frequency cues of fricatives.
    """
    parts: list[np.ndarray] = []
    stream: list = []

    def opened(info: AudioInfo) -> None:
        if info.samplerate != SAMPLE_RATE:
            stream.append(soxr.ResampleStream(info.samplerate, SAMPLE_RATE, 1, dtype="float32", quality="VHQ"))

    def block(b: np.ndarray, last: bool) -> None:
        mono = b.mean(axis=1, dtype=np.float32)
        parts.append(stream[0].resample_chunk(mono, last=last) if stream else mono)

    read_blocks(path, opened, block)
    samples = np.concatenate(parts) if len(parts) > 1 else parts[0]
    finite = bool(np.isfinite(samples).all())
    _check_samples(path, samples.size, finite, float(np.abs(samples).max()) if finite and samples.size else 0.0)
    return np.ascontiguousarray(samples, dtype=np.float32)


def inspect_audio(path: Path) -> AudioInfo:
    """What ``load_audio`` would find, without resampling: every sample is read and the same
    problems raise the same ``OtalignError`` (unreadable, truncated, empty, NaN, silent)."""
    info: list[AudioInfo] = []
    state = {"finite": True, "peak": 0.0}

    def block(b: np.ndarray, last: bool) -> None:
        if b.size and state["finite"]:
            state["finite"] = bool(np.isfinite(b).all())
            if state["finite"]:
                state["peak"] = max(state["peak"], float(np.abs(b).max()))

    frames = read_blocks(path, info.append, block)
    _check_samples(path, frames, state["finite"], state["peak"])
    return AudioInfo(info[0].format, info[0].samplerate, info[0].channels, frames / info[0].samplerate)
