"""The mean of several alignments of the same files, each given with the speed its audio was
played at (times are multiplied by it to come back to the original's clock).

Per file, only the alignments that chose the first's words and phones are averaged
(``ensemble_labels.mean_tiers``).

    python mean_alignments.py data/tta/mean data/tta/aligned-1:1 data/tta/aligned-0.95:0.95 data/tta/aligned-1.05:1.05
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "pseudo_labels"))
from ensemble_labels import TIERS, mean_tiers  # noqa: E402

from otalign_cli.errors import OtalignError  # noqa: E402
from otalign_cli.formats.textgrid import read_textgrid, write_textgrid  # noqa: E402


def spec(text: str) -> tuple[Path, float]:
    folder, _, speed = text.rpartition(":")
    return Path(folder), float(speed)


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("aligned", type=spec, nargs="+", help="FOLDER:SPEED, an otalign batch output (-f textgrid)")
    a = ap.parse_args()
    a.out.mkdir(parents=True, exist_ok=True)
    files = agree = 0
    for tg in sorted(a.aligned[0][0].glob("*.TextGrid")):
        grids = []
        try:
            for folder, speed in a.aligned:
                g = read_textgrid(folder / tg.name)
                grids.append({t: [(s * speed, e * speed, x) for s, e, x in g[t]] for t in TIERS})
        except (OtalignError, KeyError) as err:  # missing, unreadable, or without a words/phones tier
            print(f"skipped {tg.name}: {err}", file=sys.stderr)
            continue
        tiers, same = mean_tiers(grids)
        files, agree = files + 1, agree + (same == len(grids))
        write_textgrid(a.out / tg.name, tiers, max(e for g in grids for t in g.values() for _, e, _ in t))
    print(f"{a.out}: {files} files, {agree} with every alignment averaged")
