"""Independent evaluation of the bundled models on the reserved voices (run by hand).

Builds (once) the evaluation set of ``synth.evaluation_set``: held-out sentences spoken by flite
rms and slt and festival cmu_us_slt_arctic_hts, voices no model here was trained or tuned on.
The last needs the Debian package festvox-us-slt-hts. Reports phone and word boundary error and
label delay per voice, for the OT readouts and the CTC twin, and appends to RESULTS.md:

    python bench/reserved_voices.py --workdir data/reserved-eval --per-voice 60
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch
from results import report

from otalign_cli.devset import evaluate, with_boundary_model
from otalign_cli.models import load_models
from otalign_cli.pipeline import DEFAULT_PASSES
from otalign_cli.synth.evaluation_set import EVALUATION_VOICES, build_evaluation_set
from otalign_cli.train import load_corpus


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--workdir", type=Path, default=Path("data/reserved-eval"))
    ap.add_argument("--per-voice", type=int, default=60)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--model", type=Path)
    ap.add_argument("--ctc-model", type=Path)
    ap.add_argument("--readouts", default="refine,banded")
    ap.add_argument("--passes", type=int, default=DEFAULT_PASSES, help="shifted encoder passes of the refine readout")
    args = ap.parse_args()
    torch.set_num_threads(2)
    if not (args.workdir / "manifest.jsonl").is_file():
        build_evaluation_set(args.workdir, args.per_voice, args.seed)
    m = load_models(args.model, args.ctc_model)
    ottc, ctc = m.ottc, m.ctc
    examples = load_corpus(args.workdir, split="eval", evaluation=True)
    rows = []
    for voice in (*EVALUATION_VOICES, "all"):
        part = [e for e in examples if voice == "all" or e.id.startswith(voice + "-")]
        results = {**evaluate(ottc, part, with_boundary_model(ottc, args.readouts.split(",")), args.passes),
                   **evaluate(ctc, part, [])}
        minutes = sum(len(e.audio) for e in part) / 16000 / 60
        for r, v in results.items():
            p, w = v["phones"], v["words"]
            name = ("CTC twin (Viterbi)" if r == "ctc" else f"OT, readout {r}"
                + (f", {args.passes} passes" if r.startswith("refine") else ""))
            rows.append(f"| {voice} ({v['utterances']} utt., {minutes:.1f} min) | {name} | {p['mean_ms']:.1f} "
                        f"| {p['within_20ms']:.1f} | {p['within_50ms']:.1f} | {w['mean_ms']:.1f} | {w['within_20ms']:.1f} "
                        f"| {w['within_50ms']:.1f} | {p['delay_mean_ms']:+.1f} / {p['delay_median_ms']:+.1f} |")
            print(rows[-1], flush=True)
    report([f"## Reserved voices, independent evaluation ({time.strftime('%Y-%m-%d')}, "
            f"`python bench/reserved_voices.py --per-voice {args.per_voice} --seed {args.seed} --passes {args.passes}`)", "",
            "Held-out sentences spoken by voices never used for training or tuning; gold phone times from "
            "the engines. The gold phone sequence is aligned, so this measures boundary placement.", "",
            "| voice | aligner | PBE mean ms | PBE <= 20 ms % | PBE <= 50 ms % | WBE mean ms | WBE <= 20 ms % "
            "| WBE <= 50 ms % | phone onset delay mean / median ms |",
            "|---|---|---|---|---|---|---|---|---|", *rows, ""])


if __name__ == "__main__":
    main()
