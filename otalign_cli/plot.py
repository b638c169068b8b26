"""One picture of an alignment: OT tiers above a spectrogram, CTC tiers below, then the OT
model's frame weight alpha and the CTC posteriors (blank vs best phone) on the same time axis."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

from otalign_cli.formats.atomic import write_with  # noqa: E402

Interval = tuple[float, float, str]


def spectrogram_db(samples: np.ndarray, sr: int = 16000, win_ms: float = 10.0, hop_ms: float = 2.5) -> np.ndarray:
    """Wide-band spectrogram in dB (rows: 0..sr/2), the kind phoneticians read formants from."""
    win, hop = int(sr * win_ms / 1000), int(sr * hop_ms / 1000)
    spec = torch.stft(torch.from_numpy(samples), n_fft=512, hop_length=hop, win_length=win,
                      window=torch.hann_window(win), return_complex=True).abs().pow(2)
    db = 10 * torch.log10(spec + 1e-10)
    return (db - db.max()).clamp(min=-70).numpy()


def _tier(ax, intervals: list[Interval], start: float, end: float, color: str, name: str) -> None:
    ax.set_xlim(start, end)
    ax.set_ylim(0, 1)
    ax.set_yticks([])
    ax.set_ylabel(name, rotation=0, ha="right", va="center", fontsize=9)
    for a, b, label in intervals:
        if b < start or a > end:
            continue
        ax.axvspan(a, b, ymin=0.1, ymax=0.9, facecolor=color, alpha=0.18, edgecolor=color, linewidth=0.8)
        ax.text((max(a, start) + min(b, end)) / 2, 0.5, label, ha="center", va="center", fontsize=8, clip_on=True)
    ax.tick_params(labelbottom=False, bottom=False)


def plot_alignment(path: Path, samples: np.ndarray, tiers: dict[str, list[Interval]], traces: dict,
                   title: str, start: float = 0.0, end: float | None = None, sr: int = 16000) -> None:
    """Write a PNG; ``tiers`` may hold words/phones and ctc-words/ctc-phones."""
    end = end if end is not None else len(samples) / sr
    has_ctc = "ctc-words" in tiers
    rows = ["words", "phones", "spec"] + (["ctc-phones", "ctc-words"] if has_ctc else []) + ["alpha"]
    rows += ["ctc"] if "ctc_blank" in traces else []
    heights = {"words": 0.6, "phones": 0.6, "spec": 3.0, "ctc-phones": 0.6, "ctc-words": 0.6, "alpha": 1.2, "ctc": 1.2}
    width = min(40.0, max(10.0, (end - start) * 2.2))
    fig, axes = plt.subplots(len(rows), 1, sharex=True, figsize=(width, sum(heights[r] for r in rows) + 0.8),
                             gridspec_kw={"height_ratios": [heights[r] for r in rows]})
    ax = dict(zip(rows, axes))
    _tier(ax["words"], tiers.get("words", []), start, end, "tab:blue", "OT words")
    _tier(ax["phones"], tiers.get("phones", []), start, end, "tab:blue", "OT phones")
    s0, s1 = int(start * sr), int(end * sr)
    spec = spectrogram_db(samples[s0:s1].astype(np.float32), sr)
    ax["spec"].imshow(spec, origin="lower", aspect="auto", cmap="Greys", extent=(start, end, 0, sr / 2000))
    ax["spec"].set_ylabel("kHz", fontsize=9)
    # OT boundaries in the upper half, CTC onsets (its spans are spikes) in the lower half
    for t in sorted({t for a, b, _ in tiers.get("phones", []) for t in (a, b) if start <= t <= end}):
        ax["spec"].axvline(t, color="tab:blue", linewidth=0.7, ymin=0.5)
    for t in sorted({a for a, _, _ in tiers.get("ctc-phones", []) if start <= a <= end}):
        ax["spec"].axvline(t, color="tab:red", linewidth=0.7, linestyle="--", ymax=0.5)
    if has_ctc:
        _tier(ax["ctc-phones"], tiers["ctc-phones"], start, end, "tab:red", "CTC phones")
        _tier(ax["ctc-words"], tiers["ctc-words"], start, end, "tab:red", "CTC words")
    fs = traces["frame_shift"]
    t_alpha = np.arange(len(traces["alpha"])) * fs
    ax["alpha"].step(t_alpha, traces["alpha"], where="post", color="tab:blue", linewidth=1)
    ax["alpha"].axhline(0.1, color="grey", linewidth=0.6, linestyle=":")
    ax["alpha"].set_ylabel("α × n", fontsize=9)
    if "ctc" in ax:
        t_ctc = np.arange(len(traces["ctc_blank"])) * traces["ctc_frame_shift"]
        ax["ctc"].plot(t_ctc, traces["ctc_blank"], color="grey", linewidth=0.8, label="blank")
        ax["ctc"].plot(t_ctc, traces["ctc_token"], color="tab:red", linewidth=1, label="best phone")
        ax["ctc"].set_ylim(0, 1.05)
        ax["ctc"].set_ylabel("CTC P", fontsize=9)
        ax["ctc"].legend(loc="upper right", fontsize=7, ncol=2)
    axes[-1].set_xlabel("time (s)")
    axes[-1].set_xlim(start, end)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    write_with(path, lambda tmp: fig.savefig(tmp, dpi=110, format="png"))
    plt.close(fig)
