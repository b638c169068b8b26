"""otalign against pocketsphinx on real speech with boundaries placed by human phoneticians (run by hand).

The folder holds ``NAME.wav``, ``NAME.txt`` (the transcript as read) and ``NAME.TextGrid`` with
``words`` and ``phones`` tiers (../shared/data/timit-dev, read its README). Every aligner gets the
same files and the same words; each is scored exactly as ``otalign evaluate`` scores (tokens matched
by label on an edit-distance alignment, both edges of every matched token timed):

    pip install pocketsphinx
    python bench/human_labelled.py ../shared/data/timit-dev
    python bench/human_labelled.py ../shared/data/timit-dev --model M.pt --ctc-model C.pt --no-pocketsphinx

Rows: the OTTC model with its boundary model (today's default) and without it, the CTC twin,
pocketsphinx 5 with its en-us model. Appends the table to bench/RESULTS.md (``--no-report``: print only).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch
from results import report

from otalign_cli.audio import load_audio
from otalign_cli.evaluate import TierScore
from otalign_cli.formats.textgrid import read_textgrid
import otalign_cli as otalign
from otalign_cli.models import Models
from vs_pocketsphinx import pocketsphinx_align, spoken_text


def tiers_of(alignment) -> tuple[list, list]:
    return ([(w.start, w.end, w.label) for w in alignment.words],
            [(p.start, p.end, p.label) for p in alignment.phones])


def row(name: str, scores: dict[str, TierScore], files: int, suspects: int | None) -> str:
    w, p = scores["words"].summary(), scores["phones"].summary()
    return (f"| {name} | {files} | {w['mean_ms']:.1f} | {p['mean_ms']:.1f} | {p['within_20ms']:.1f} "
            f"| {p['within_50ms']:.1f} | {p['delay_mean_ms']:+.1f} | {w['within_20ms']:.1f} "
            f"| {w['matched_pct']:.1f} / {p['matched_pct']:.1f} | {'-' if suspects is None else suspects} |")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("folder", type=Path)
    ap.add_argument("--model", type=Path)
    ap.add_argument("--ctc-model", type=Path)
    ap.add_argument("--no-pocketsphinx", action="store_true")
    ap.add_argument("--no-variants", action="store_true", help="add rows with the dictionary's first pronunciations only")
    ap.add_argument("--no-report", action="store_true", help="print the table without appending it to RESULTS.md")
    ap.add_argument("--label", default="", help="a name for the models measured, written in the table's title")
    args = ap.parse_args()
    torch.set_num_threads(2)
    models = otalign.load_models(args.model, args.ctc_model)
    meta, cmeta = models.ottc_meta, models.ctc_meta
    bnd = models.ottc.boundary_model
    ottc_only = Models(models.ottc, meta)
    unbounded = Models(otalign.load_models(args.model, with_ctc=False, boundaries=False).ottc, meta)
    framed = models.ottc.frame_model is not None
    unframed = Models(otalign.load_models(args.model, with_ctc=False, frames=False).ottc, meta)
    aligners = ["OT refine+boundaries (default)", "OT refine (--no-boundaries)", "CTC twin"] if bnd is not None \
        else ["OT refine (default)", "CTC twin"]
    if framed:
        aligners.insert(1, "OT without the frame model (--no-frames)")
    if args.no_variants:
        aligners.insert(1, "OT, first pronunciations (--no-variants)")
    if not args.no_pocketsphinx:
        aligners.append("pocketsphinx 5 (en-us)")
    scores = {a: {"words": TierScore(), "phones": TierScore()} for a in aligners}
    files = sorted(p for p in args.folder.glob("*.wav") if p.with_suffix(".TextGrid").is_file())
    skipped = []
    suspects = {a: 0 for a in aligners if a.startswith("OT")}  # files with a suspect stretch (all are read correctly)
    for wav in files:
        txt = wav.with_suffix(".txt")
        ref = read_textgrid(wav.with_suffix(".TextGrid"))
        hyps = {}
        if not args.no_pocketsphinx:
            ps = pocketsphinx_align(load_audio(wav), spoken_text(txt.read_text(encoding="utf-8")))
            if ps is None:  # a word outside its dictionary, or no alignment: the file is left out for all
                skipped.append(wav.name)
                continue
            hyps["pocketsphinx 5 (en-us)"] = ps
        res = otalign.align(wav, txt, models)
        suspects[aligners[0]] += bool(res.stats.suspect)
        hyps[aligners[0]] = tiers_of(res.ot)
        if res.ctc is not None:  # skipped for a transcript with <unk> or audio too short for CTC
            hyps["CTC twin"] = tiers_of(res.ctc)
        if framed:
            nf = otalign.align(wav, txt, unframed)
            hyps["OT without the frame model (--no-frames)"] = tiers_of(nf.ot)
            suspects["OT without the frame model (--no-frames)"] += bool(nf.stats.suspect)
        if args.no_variants:
            plain = otalign.align(wav, txt, ottc_only, variants=False)
            hyps["OT, first pronunciations (--no-variants)"] = tiers_of(plain.ot)
            suspects["OT, first pronunciations (--no-variants)"] += bool(plain.stats.suspect)
        if bnd is not None:
            nb = otalign.align(wav, txt, unbounded)
            hyps["OT refine (--no-boundaries)"] = tiers_of(nb.ot)
            suspects["OT refine (--no-boundaries)"] += bool(nb.stats.suspect)
        for a, (words, phones) in hyps.items():
            scores[a]["words"].add(ref["words"], words, "words")
            scores[a]["phones"].add(ref["phones"], phones, "phones")
    n = len(files) - len(skipped)
    rows = [row(a, scores[a], n, suspects.get(a)) for a in aligners]
    title = (f"## Human-labelled real speech: {args.folder.name} ({time.strftime('%Y-%m-%d')}"
             f"{', ' + args.label if args.label else ''})")
    lines = [title, "",
             f"`python bench/human_labelled.py {args.folder}"
             + (f" --model {args.model}" if args.model else "") + (f" --ctc-model {args.ctc_model}" if args.ctc_model else "")
             + ("` " if args.no_pocketsphinx else "`, ")
             + f"models {meta.get('name')} ({meta.get('weights_sha256', '')[:12]}) and {cmeta.get('name')} "
             f"({cmeta.get('weights_sha256', '')[:12]}); {n} files"
             + (f", {len(skipped)} left out for all (pocketsphinx could not align them: {', '.join(skipped)})" if skipped else ""),
             "",
             "| aligner | files | word MAE ms | phone MAE ms | phones ≤ 20 ms % | phones ≤ 50 ms % "
             "| phone onset delay ms | words ≤ 20 ms % | matched words / phones % | files with a suspect stretch |",
             "|---|---|---|---|---|---|---|---|---|---|", *rows, ""]
    report(lines, append=not args.no_report)


if __name__ == "__main__":
    main()
