"""Which device the models run on, and how they compute there."""

from __future__ import annotations

import torch


def resolve_device(device: str) -> str:
    """``auto`` → ``cuda`` where a GPU is present, else ``cpu``; ``cuda`` without a GPU is an error."""
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise ValueError("--device cuda was asked for, but no CUDA GPU is available")
    return device


MEASURE_TF32 = False  # True leaves torch's TF32 settings alone: only to measure what they change


def full_float32(device: str | torch.device) -> None:
    """On a CUDA device, make the models compute in full float32, as on the CPU: alignment times
    must not depend on the device. PyTorch lets cuDNN's convolutions and recurrent layers use TF32
    (10-bit mantissas) on Ampere and newer GPUs by default; with it (an H100, PyTorch 2.11,
    ``bench/cuda_parity.py --tf32``) the encoder's posteriors differ from the CPU's by 6e-4 and
    word times on the TIMIT sample by up to 24 ms, without it by 2e-6 and 0.2 ms. Every place a
    model runs calls this with its device; the setting is torch's, for the whole process.
    ``MEASURE_TF32`` switches it off (``bench/cuda_parity.py --tf32``)."""
    if str(device).startswith("cuda") and not MEASURE_TF32:
        torch.backends.cudnn.allow_tf32 = False
        torch.backends.cuda.matmul.allow_tf32 = False
