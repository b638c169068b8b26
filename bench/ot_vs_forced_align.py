"""OT alignment step vs torchaudio's CTC forced_align on the same posteriors (run by hand).

For n = 1e3 .. 1e6 frames and m = n / 4 tokens: wall time and peak memory of the sparse OT plan
+ plain readout, and of ``torchaudio.functional.forced_align``. Each measurement runs in a fresh
process, so peak RSS is its own and a crash (forced_align overflows past ~65k frames) is
recorded as a failure instead of killing the script. Prints a markdown table with the log-log
slopes and appends it to bench/RESULTS.md:

    python bench/ot_vs_forced_align.py
"""

from __future__ import annotations

import json
import math
import platform
import subprocess
import sys
import time

from results import RESULTS

CHILD = r"""
import json, resource, sys, time, torch
torch.set_num_threads(2)
kind, n = sys.argv[1], int(sys.argv[2])
m, v = n // 4, 41
g = torch.Generator().manual_seed(0)
if kind == "ot":
    from otalign_cli.alignment.ot import monotone_plan
    from otalign_cli.alignment.spans import ot_spans
    alpha = torch.rand(n, generator=g) + 0.05
    dt = float("inf")
    for _ in range(5):  # best of five: first calls pay one-time set-up, other load only adds time
        t0 = time.perf_counter()
        plan = monotone_plan(alpha[None], torch.tensor([n]), torch.tensor([m]))
        spans = ot_spans(alpha, m)
        dt = min(dt, time.perf_counter() - t0)
else:
    import torchaudio.functional as F
    lp = torch.log_softmax(torch.randn(1, n, v, generator=g), -1)
    y = torch.randint(1, v, (1, m), generator=g, dtype=torch.int32)
    F.forced_align(lp[:, :100], y[:, :25], blank=0)  # warm-up
    dt = float("inf")
    for _ in range(3 if n <= 30_000 else 1):
        t0 = time.perf_counter()
        F.forced_align(lp, y, blank=0)
        dt = min(dt, time.perf_counter() - t0)
print(json.dumps({"seconds": dt, "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

SIZES = [1_000, 3_000, 10_000, 30_000, 60_000, 100_000, 300_000, 1_000_000]


def measure(kind: str, n: int) -> dict:
    proc = subprocess.run([sys.executable, "-c", CHILD, kind, str(n)], capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        return {"error": f"exit {proc.returncode}" + (" (crashed)" if proc.returncode < 0 else "")}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def slope(rows: list[tuple[int, float]]) -> float:
    xs = [math.log(n) for n, _ in rows]
    ys = [math.log(t) for _, t in rows]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)


def main() -> None:
    lines = ["| frames n (tokens n/4) | OT plan + readout s | OT peak MB | forced_align s | forced_align peak MB | time ratio |",
             "|---|---|---|---|---|---|"]
    ot_rows, fa_rows = [], []
    fa_failed = False
    for n in SIZES:
        ot = measure("ot", n)
        fa = {"error": "skipped (failed at a smaller n)"} if fa_failed else measure("fa", n)
        fa_failed = fa_failed or "error" in fa
        ot_rows.append((n, ot["seconds"]))
        if "error" not in fa:
            fa_rows.append((n, fa["seconds"]))
        fa_s = f"{fa['seconds']:.3f}" if "error" not in fa else fa["error"]
        fa_mb = f"{fa['peak_mb']:.0f}" if "error" not in fa else "-"
        ratio = f"{fa['seconds'] / ot['seconds']:.0f}×" if "error" not in fa else "-"
        lines.append(f"| {n:,} | {ot['seconds']:.4f} | {ot['peak_mb']:.0f} | {fa_s} | {fa_mb} | {ratio} |")
        print(lines[-1], flush=True)
    lines.append("")
    lines.append(f"log-log slope of time: OT {slope(ot_rows):.2f} (n = 10k..1M: {slope([r for r in ot_rows if r[0] >= 10_000]):.2f}), "
                 f"forced_align {slope(fa_rows):.2f} (over the sizes it survived)")
    table = "\n".join(lines)
    print("\n" + lines[-1])
    header = (f"\n## OT alignment vs torchaudio forced_align ({time.strftime('%Y-%m-%d')})\n\n"
              f"Machine: {platform.machine()}, {platform.processor() or 'cpu'}, 2 threads, torch "
              f"{__import__('torch').__version__}. Command: `python bench/ot_vs_forced_align.py`. Peak MB is the "
              f"whole measuring process (Python + torch ≈ 300 MB before any work).\n\n")
    with open(RESULTS, "a", encoding="utf-8") as f:
        f.write(header + table + "\n")


if __name__ == "__main__":
    main()
