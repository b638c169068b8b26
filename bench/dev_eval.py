"""Boundary accuracy of the bundled models on a corpus split with gold TextGrids (run by hand).

Aligns each utterance's gold phone sequence with every OT readout (refine with and without the
model's boundary model, where it carries one) and with the CTC twin, and prints phone (PBE) and
word (WBE) boundary error and label delay against the gold times:

    python bench/dev_eval.py /work/data/synth --split dev --limit 200
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from otalign_cli.devset import evaluate, with_boundary_model
from otalign_cli.models import load_models
from otalign_cli.alignment.readouts import READOUTS
from otalign_cli.pipeline import DEFAULT_PASSES
from otalign_cli.train import load_corpus


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("corpus", type=Path, nargs="+")
    ap.add_argument("--split", default="dev")
    ap.add_argument("--limit", type=int, default=200, help="utterances per corpus")
    ap.add_argument("--model", type=Path)
    ap.add_argument("--ctc-model", type=Path)
    ap.add_argument("--readouts", default=",".join(READOUTS))
    ap.add_argument("--passes", type=int, default=DEFAULT_PASSES, help="shifted encoder passes of the refine readout")
    args = ap.parse_args()
    torch.set_num_threads(2)
    m = load_models(args.model, args.ctc_model)
    ottc, ctc = m.ottc, m.ctc
    examples = [e for root in args.corpus for e in load_corpus(root, limit=args.limit, split=args.split)]
    readouts = with_boundary_model(ottc, args.readouts.split(","))
    results = {**evaluate(ottc, examples, readouts, args.passes), **evaluate(ctc, examples, [])}
    minutes = sum(len(e.audio) for e in examples) / 16000 / 60
    print(f"{results['ctc']['utterances']} utterances ({minutes:.1f} min), split '{args.split}' of "
          f"{', '.join(map(str, args.corpus))}\n")
    print("| aligner | PBE mean ms | PBE <=20 ms % | PBE <=50 ms % | WBE mean ms | WBE <=20 ms % | WBE <=50 ms % "
          "| phone onset delay mean / median ms | IDR % | readout s |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r, v in results.items():
        p, w = v["phones"], v["words"]
        name = ("CTC twin (Viterbi)" if r == "ctc" else f"OT, readout {r}"
                + (f", {args.passes} passes" if r.startswith("refine") else ""))
        print(f"| {name} | {p['mean_ms']:.1f} | {p['within_20ms']:.1f} | {p['within_50ms']:.1f} | {w['mean_ms']:.1f} "
              f"| {w['within_20ms']:.1f} | {w['within_50ms']:.1f} | {p['delay_mean_ms']:+.1f} / {p['delay_median_ms']:+.1f} "
              f"| {p['idr_pct']:.1f} | {v['seconds']:.2f} |")


if __name__ == "__main__":
    main()
