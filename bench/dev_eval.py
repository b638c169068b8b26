"""Boundary accuracy of the bundled models on a corpus split with gold TextGrids (run by hand).

Aligns each utterance's *gold* phone sequence (so pronunciation mismatches do not count) with
every OT readout and with the CTC twin, and prints phone (PBE) and word (WBE) boundary error and
label delay against the gold times. Example:

    python bench/dev_eval.py /work/data/synth --split dev --limit 200
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch

from otalign_cli.alignment.ctc import ctc_spans
from otalign_cli.features import log_mel
from otalign_cli.formats.textgrid import read_textgrid
from otalign_cli.metrics import boundary_errors, summarize
from otalign_cli.models import load_pair
from otalign_cli.pipeline import READOUTS, forward, ot_readout
from otalign_cli.train import load_corpus


def word_groups(words, phones) -> list[int]:
    """Index of the gold word each gold phone lies in."""
    owner = []
    for s, e, _ in phones:
        mid = (s + e) / 2
        owner.append(next((i for i, (ws, we, _) in enumerate(words) if ws <= mid < we), -1))
    return owner


def word_spans(on, off, owner, n_words):
    out = []
    for w in range(n_words):
        ks = [k for k, o in enumerate(owner) if o == w]
        out.append((on[ks[0]], off[ks[-1]]))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("corpus", type=Path)
    ap.add_argument("--split", default="dev")
    ap.add_argument("--limit", type=int, default=200)
    ap.add_argument("--model", type=Path)
    ap.add_argument("--ctc-model", type=Path)
    ap.add_argument("--readouts", default=",".join(READOUTS))
    args = ap.parse_args()
    torch.set_num_threads(2)
    ottc, _, ctc, _ = load_pair(args.model, args.ctc_model, True, "cpu")
    examples = [e for e in load_corpus(args.corpus) if e.split == args.split][: args.limit]
    readouts = args.readouts.split(",")
    phone_err = {r: [] for r in readouts + ["ctc"]}
    word_err = {r: [] for r in readouts + ["ctc"]}
    seconds = {r: 0.0 for r in readouts + ["ctc"]}
    vocab = {t: i for i, t in enumerate(ottc.cfg.vocab)}
    cvocab = {t: i for i, t in enumerate(ctc.cfg.vocab)}
    for ex in examples:
        tiers = read_textgrid(args.corpus / ex.id.split("-")[0] / f"{ex.id}.TextGrid")
        gold_p, gold_w = tiers["phones"], tiers["words"]
        owner = word_groups(gold_w, gold_p)
        if -1 in owner:
            continue
        feats = log_mel(torch.from_numpy(ex.audio))
        out = forward(ottc, feats, "cpu")
        targets = torch.tensor([vocab[p] for p in ex.phones])
        ref_p = [(s, e) for s, e, _ in gold_p]
        ref_w = [(s, e) for s, e, _ in gold_w]
        for r in readouts:
            t0 = time.perf_counter()
            sp = ot_readout(out, targets, owner, r, ottc.cfg.vocab)
            seconds[r] += time.perf_counter() - t0
            on, off = (sp.onset * ottc.frame_shift).tolist(), (sp.offset * ottc.frame_shift).tolist()
            phone_err[r].append(boundary_errors(ref_p, list(zip(on, off))))
            word_err[r].append(boundary_errors(ref_w, word_spans(on, off, owner, len(gold_w))))
        cout = forward(ctc, feats, "cpu")
        t0 = time.perf_counter()
        sp, _ = ctc_spans(cout["log_probs"][0], torch.tensor([cvocab[p] for p in ex.phones]))
        seconds["ctc"] += time.perf_counter() - t0
        on, off = (sp.onset * ctc.frame_shift).tolist(), (sp.offset * ctc.frame_shift).tolist()
        phone_err["ctc"].append(boundary_errors(ref_p, list(zip(on, off))))
        word_err["ctc"].append(boundary_errors(ref_w, word_spans(on, off, owner, len(gold_w))))
    hours = sum(len(e.audio) for e in examples) / 16000 / 3600
    print(f"{len(phone_err['ctc'])} utterances ({hours * 60:.1f} min) of split '{args.split}' in {args.corpus}\n")
    print("| readout | PBE mean ms | PBE <=20 ms % | PBE <=50 ms % | WBE mean ms | WBE <=20 ms % | WBE <=50 ms % "
          "| phone onset delay mean / median ms | IDR % | readout s |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in readouts + ["ctc"]:
        p, w = summarize(phone_err[r]), summarize(word_err[r])
        name = "CTC twin (Viterbi)" if r == "ctc" else f"OT {r}"
        print(f"| {name} | {p['mean_ms']:.1f} | {p['within_20ms']:.1f} | {p['within_50ms']:.1f} | {w['mean_ms']:.1f} "
              f"| {w['within_20ms']:.1f} | {w['within_50ms']:.1f} | {p['delay_mean_ms']:+.1f} / {p['delay_median_ms']:+.1f} "
              f"| {p['idr_pct']:.1f} | {seconds[r]:.2f} |")


if __name__ == "__main__":
    main()
