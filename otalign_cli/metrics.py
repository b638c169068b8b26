"""Alignment metrics (names as in DESIGN section 7): boundary error, label delay, IDR."""

from __future__ import annotations

import numpy as np
import torch


def boundary_errors(ref: list[tuple[float, float]], hyp: list[tuple[float, float]]) -> dict[str, np.ndarray]:
    """Per matched token: absolute onset/offset errors and signed onset error (s). Same length lists."""
    r, h = np.asarray(ref, dtype=np.float64), np.asarray(hyp, dtype=np.float64)
    return {"abs": np.abs(np.concatenate([h[:, 0] - r[:, 0], h[:, 1] - r[:, 1]])),
            "onset_signed": h[:, 0] - r[:, 0],
            "idr": np.clip(np.minimum(r[:, 1], h[:, 1]) - np.maximum(r[:, 0], h[:, 0]), 0, None)
                   / np.maximum(r[:, 1] - r[:, 0], 1e-9)}


def summarize(errors: list[dict[str, np.ndarray]]) -> dict[str, float]:
    """Corpus figures from per-file ``boundary_errors``: mean ms, % within 10/20/50 ms, delay, IDR."""
    a = np.concatenate([e["abs"] for e in errors]) * 1000
    d = np.concatenate([e["onset_signed"] for e in errors]) * 1000
    idr = np.concatenate([e["idr"] for e in errors])
    return {"mean_ms": float(a.mean()), "within_10ms": float((a <= 10).mean() * 100),
            "within_20ms": float((a <= 20).mean() * 100), "within_50ms": float((a <= 50).mean() * 100),
            "delay_mean_ms": float(d.mean()), "delay_median_ms": float(np.median(d)),
            "delay_p90_ms": float(np.percentile(d, 90)), "idr_pct": float(idr.mean() * 100), "count": int(a.size // 2)}


# Per-file sums that the corpus figures are ratios of, so a resampled corpus's figures are a
# matrix product (``bootstrap_intervals``): edges, |error| sum, edges within 10/20/50 ms, tokens,
# signed onset error sum, IDR sum.
SUM_FIELDS = ("edges", "abs_s", "within_10ms", "within_20ms", "within_50ms", "tokens", "onset_s", "idr")
RATIOS = {"mean_ms": ("abs_s", "edges", 1000.0), "within_10ms": ("within_10ms", "edges", 100.0),
          "within_20ms": ("within_20ms", "edges", 100.0), "within_50ms": ("within_50ms", "edges", 100.0),
          "delay_mean_ms": ("onset_s", "tokens", 1000.0), "idr_pct": ("idr", "tokens", 100.0)}


def file_sums(errors: dict[str, np.ndarray]) -> np.ndarray:
    """(len(SUM_FIELDS),) sums of one file's ``boundary_errors``."""
    a = errors["abs"]
    return np.array([a.size, a.sum(), (a <= 0.010).sum(), (a <= 0.020).sum(), (a <= 0.050).sum(),
                     errors["onset_signed"].size, errors["onset_signed"].sum(), errors["idr"].sum()], dtype=np.float64)


def ratios(sums: np.ndarray) -> dict[str, np.ndarray]:
    """The ``RATIOS`` figures of (..., len(SUM_FIELDS)) summed files."""
    col = {f: sums[..., k] for k, f in enumerate(SUM_FIELDS)}
    return {name: scale * col[num] / np.maximum(col[den], 1) for name, (num, den, scale) in RATIOS.items()}


def bootstrap_intervals(sums: np.ndarray, other: np.ndarray | None = None, reps: int = 2000,
                        level: float = 0.95, seed: int = 0) -> dict[str, tuple[float, float]]:
    """Percentile bootstrap intervals over files of the ``RATIOS`` figures of ``sums`` (F, fields),
    or, given ``other`` (the same F files aligned by another aligner), of the differences
    ``sums`` minus ``other``, both resampled with the same files (a paired bootstrap). Files are
    the unit because boundaries within a file share a speaker and a recording."""
    rng = np.random.default_rng(seed)
    f = sums.shape[0]
    draws: dict[str, list[np.ndarray]] = {k: [] for k in RATIOS}
    step = max(1, 4_000_000 // max(f, 1))  # draws at a time: a 100k-file corpus holds 320 MB of weights, not 1.6 GB
    for start in range(0, reps, step):
        weights = rng.multinomial(f, np.full(f, 1.0 / f), size=min(step, reps - start)).astype(np.float64)
        got = ratios(weights @ sums)
        if other is not None:
            theirs = ratios(weights @ other)
            got = {k: v - theirs[k] for k, v in got.items()}
        for k, v in got.items():
            draws[k].append(v)
    stats = {k: np.concatenate(v) for k, v in draws.items()}
    lo, hi = 100 * (1 - level) / 2, 100 * (1 + level) / 2
    return {k: (float(np.percentile(v, lo)), float(np.percentile(v, hi))) for k, v in stats.items()}


def delay_summary(ctc_onsets: torch.Tensor, ot_onsets: torch.Tensor) -> dict[str, float]:
    """Label delay CTC - OT per token in ms: mean, median and 90th percentile (positive = CTC later)."""
    d = (ctc_onsets - ot_onsets) * 1000.0
    d = d[torch.isfinite(d)]
    if d.numel() == 0:
        return {}
    return {"mean_ms": float(d.mean()), "median_ms": float(d.median()),
            "p90_ms": float(torch.quantile(d.to(torch.float64), 0.9))}
