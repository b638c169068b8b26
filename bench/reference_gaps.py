"""The edges of the silences a reference leaves inside utterances, and how an alignment places them.

TIMIT-style references leave a gap for a glottal stop, a pause or an epenthetic silence. For
every gap of ``--min-gap`` or more between two reference phones, this matches the phones on
both sides to the hypothesis (as ``otalign evaluate`` does) and prints how far off their edges
are, split by whether the next phone is a vowel (a vowel-initial word's glottal stop, mostly),
and how often the hypothesis opens a gap there too. Appends the table to bench/RESULTS.md
(``--no-report``: print only).

    otalign batch ../shared/data/timit-dev aligned/ -f textgrid --no-ctc
    python bench/reference_gaps.py ../shared/data/timit-dev aligned/
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from otalign_cli.evaluate import find_pairs, match_tokens
from otalign_cli.formats.textgrid import read_textgrid
from otalign_cli.text.phones import VOWELS
from results import report


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("ref_dir", type=Path)
    ap.add_argument("hyp_dir", type=Path)
    ap.add_argument("--min-gap", type=float, default=0.02, help="seconds (default 0.02)")
    ap.add_argument("--no-report", action="store_true", help="print the table without appending it to RESULTS.md")
    a = ap.parse_args()
    groups: dict[str, list[tuple[list[float], float | None]]] = {"before a vowel": [], "before another phone": []}
    pairs, _ = find_pairs(a.ref_dir, a.hyp_dir)
    total = beyond20 = beyond50 = 0
    for ref_path, hyp_path in pairs:
        ref, hyp = read_textgrid(ref_path)["phones"], read_textgrid(hyp_path)["phones"]
        match = dict(match_tokens(ref, hyp, "phones"))
        for i, j in match.items():  # every matched edge, for the shares below
            for e in (hyp[j][0] - ref[i][0], hyp[j][1] - ref[i][1]):
                total += 1
                beyond20 += abs(e) > 0.02
                beyond50 += abs(e) > 0.05
        for i in range(len(ref) - 1):
            if ref[i + 1][0] - ref[i][1] < a.min_gap:
                continue
            errs = []
            if i in match:
                errs.append(abs(hyp[match[i]][1] - ref[i][1]))
            if i + 1 in match:
                errs.append(abs(hyp[match[i + 1]][0] - ref[i + 1][0]))
            adjacent = i in match and i + 1 in match and match[i + 1] == match[i] + 1
            hyp_gap = hyp[match[i + 1]][0] - hyp[match[i]][1] if adjacent else None
            key = "before a vowel" if ref[i + 1][2].rstrip("012") in VOWELS else "before another phone"
            groups[key].append((errs, hyp_gap))
    lines = [f"## Reference gaps inside utterances: {a.hyp_dir.name} against {a.ref_dir.name} "
             f"({time.strftime('%Y-%m-%d')}, `python bench/{Path(__file__).name} {' '.join(sys.argv[1:])}`)", "",
             f"{len(pairs)} files, {total} matched phone edges: {beyond20} beyond 20 ms, {beyond50} beyond 50 ms. "
             f"Gaps of {a.min_gap * 1000:.0f} ms or more between two reference phones, the edges of the phones on "
             "both sides, and where the hypothesis opens a gap of 10 ms or more too.", "",
             "| gaps | count | their edges | beyond 20 ms | beyond 50 ms | hypothesis opens a gap |",
             "|---|---|---|---|---|---|"]
    for name, rows in groups.items():
        errs = [e for es, _ in rows for e in es]
        opened = sum(g is not None and g >= 0.01 for _, g in rows)
        lines.append(f"| {name} | {len(rows)} | {len(errs)} | {sum(e > 0.02 for e in errs)} | "
                     f"{sum(e > 0.05 for e in errs)} | {opened} |")
    if a.no_report:
        print("\n".join(lines))
    else:
        report(lines)

if __name__ == "__main__":
    main()
