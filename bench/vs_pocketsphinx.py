"""otalign (OT and its CTC twin) against pocketsphinx 5 forced alignment (run by hand).

1. Speed: end-to-end x real time on the same files (otalign: audio loading, features, both
   models, readouts; pocketsphinx: a fresh Decoder per file, word pass + phone pass).
2. Accuracy on a corpus split with gold TextGrids: word and phone boundary error of the three,
   each aligning the transcript with its own dictionary pronunciation; tokens matched by label.
3. Real speech (LibriVox, no gold): pairwise agreement of the three on word boundaries.

    pip install pocketsphinx
    python bench/vs_pocketsphinx.py data/synth2 --limit 60

Appends the tables to bench/RESULTS.md. Files whose words pocketsphinx's dictionary lacks, or
that pocketsphinx fails to align, are skipped for all three aligners (the count is printed).
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import numpy as np
import torch

from otalign_cli.audio import load_audio
from otalign_cli.evaluate import match_tokens
from otalign_cli.formats.textgrid import read_textgrid
from otalign_cli.metrics import boundary_errors, summarize
import otalign_cli as otalign
from pocketsphinx_job import pocketsphinx_align, spoken_text  # noqa: F401
from results import report

LIBRIVOX = Path("/usr/share/pocketsphinx/test/data/librivox")


def otalign_tiers(res, which: str):
    """Word and phone tiers of one of otalign's alignments (written word forms)."""
    al = res.ot if which == "ot" else res.ctc
    return [(w.start, w.end, w.label) for w in al.words], [(p.start, p.end, p.label) for p in al.phones]


def score(ref, hyp, tier):
    pairs = match_tokens(ref, hyp, tier)
    return boundary_errors([ref[i][:2] for i, _ in pairs], [hyp[j][:2] for _, j in pairs]), len(pairs), len(ref)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("corpus", type=Path)
    ap.add_argument("--split", default="dev")
    ap.add_argument("--limit", type=int, default=60)
    args = ap.parse_args()
    torch.set_num_threads(2)
    models = otalign.load_models()
    manifest = [json.loads(x) for x in (args.corpus / "manifest.jsonl").read_text().splitlines()]
    items = [m for m in manifest if m["split"] == args.split][: args.limit]
    tmp = Path("/tmp/otalign-vs-ps")
    tmp.mkdir(exist_ok=True)
    acc = {a: {"words": [[], 0, 0], "phones": [[], 0, 0]} for a in ("ot", "ctc", "ps")}
    speed = {"otalign": 0.0, "pocketsphinx": 0.0, "audio": 0.0}
    used = 0
    first = args.corpus / items[0]["audio"]
    readout = otalign.align(first, first.with_suffix(".txt"), models).readout  # warm-up, and the readout's name
    for m in items:
        wav = args.corpus / m["audio"]
        txt = wav.with_suffix(".txt")
        gold = read_textgrid(wav.with_suffix(".TextGrid"))
        audio = load_audio(wav)
        words = spoken_text(txt.read_text())
        t0 = time.perf_counter()
        ps = pocketsphinx_align(audio, words)
        t_ps = time.perf_counter() - t0
        if ps is None:
            continue
        t0 = time.perf_counter()
        res = otalign.align(wav, txt, models)
        t_ot = time.perf_counter() - t0
        if res.ctc is None:
            continue
        used += 1
        speed["otalign"] += t_ot
        speed["pocketsphinx"] += t_ps
        speed["audio"] += res.duration
        hyps = {"ot": otalign_tiers(res, "ot"), "ctc": otalign_tiers(res, "ctc"), "ps": ps}
        for a, (hw, hp) in hyps.items():
            for tier, ref, hyp in (("words", gold["words"], hw), ("phones", gold["phones"], hp)):
                err, matched, total = score(ref, hyp, tier)
                acc[a][tier][0].append(err)
                acc[a][tier][1] += matched
                acc[a][tier][2] += total
    lines = [f"\n## otalign vs pocketsphinx ({time.strftime('%Y-%m-%d')})\n",
             f"Machine: {platform.machine()}, 2 threads. Command: `python bench/vs_pocketsphinx.py {args.corpus} "
             f"--split {args.split} --limit {args.limit}`; pocketsphinx 5 from PyPI with its bundled en-us model.\n",
             f"{len(items) - used} of {len(items)} utterances skipped (pocketsphinx: word not in its dictionary or no "
             "alignment found).\n",
             f"Speed on the {used} utterances ({speed['audio'] / 60:.1f} min of audio), end to end per file: "
             f"otalign (OT readout `{readout}` + CTC twin) {speed['audio'] / speed['otalign']:.0f}× real time, "
             f"pocketsphinx {speed['audio'] / speed['pocketsphinx']:.0f}× real time "
             f"(ratio {speed['pocketsphinx'] / speed['otalign']:.1f}).\n",
             f"Accuracy against the gold times of split `{args.split}` (each aligner with its own dictionary; tokens "
             "matched by label, only matched tokens timed):\n",
             "| aligner | tier | matched % | mean ms | ≤ 20 ms % | ≤ 50 ms % | onset delay mean / median ms |",
             "|---|---|---|---|---|---|---|"]
    names = {"ot": f"otalign OT ({readout})", "ctc": "otalign CTC twin", "ps": "pocketsphinx"}
    for a in ("ot", "ctc", "ps"):
        for tier in ("words", "phones"):
            errs, matched, total = acc[a][tier]
            s = summarize(errs)
            lines.append(f"| {names[a]} | {tier} | {100 * matched / total:.1f} | {s['mean_ms']:.1f} | {s['within_20ms']:.1f} "
                         f"| {s['within_50ms']:.1f} | {s['delay_mean_ms']:+.1f} / {s['delay_median_ms']:+.1f} |")
    lines += ["", "Real speech (LibriVox utterances of pocketsphinx-testdata): share of word boundaries (onsets and "
              "offsets) on which two aligners agree within 20 / 50 ms:\n",
              "| pair | ≤ 20 ms % | ≤ 50 ms % | mean abs diff ms |", "|---|---|---|---|"]
    agree = {"OT vs pocketsphinx": [], "CTC vs pocketsphinx": [], "OT vs CTC": []}
    for line in (LIBRIVOX / "transcription").read_text().splitlines():
        text, _, utt = line.rpartition("(")
        text = text.replace("<s>", "").replace("</s>", "").strip()
        wav = LIBRIVOX / f"{utt.strip(') ')}.wav"
        txt = tmp / f"{wav.stem}.txt"
        txt.write_text(text)
        res = otalign.align(wav, txt, models)
        ps = pocketsphinx_align(load_audio(wav), spoken_text(text))
        ot_w = np.array([(w.start, w.end) for w in res.ot.words])
        ctc_w = np.array([(w.start, w.end) for w in res.ctc.words])
        ps_w = np.array([(a, b) for a, b, _ in ps[0]])
        agree["OT vs pocketsphinx"].append(np.abs(ot_w - ps_w).ravel())
        agree["CTC vs pocketsphinx"].append(np.abs(ctc_w - ps_w).ravel())
        agree["OT vs CTC"].append(np.abs(ot_w - ctc_w).ravel())
    for pair, diffs in agree.items():
        d = np.concatenate(diffs)
        lines.append(f"| {pair} | {(d <= 0.02).mean() * 100:.0f} | {(d <= 0.05).mean() * 100:.0f} | {d.mean() * 1000:.0f} |")
    report(lines)


if __name__ == "__main__":
    main()
