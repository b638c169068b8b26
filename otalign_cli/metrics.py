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


def delay_summary(ctc_onsets: torch.Tensor, ot_onsets: torch.Tensor) -> dict[str, float]:
    """Label delay CTC - OT per token in ms: mean, median and 90th percentile (positive = CTC later)."""
    d = (ctc_onsets - ot_onsets) * 1000.0
    d = d[torch.isfinite(d)]
    if d.numel() == 0:
        return {}
    return {"mean_ms": float(d.mean()), "median_ms": float(d.median()),
            "p90_ms": float(torch.quantile(d.to(torch.float64), 0.9))}
