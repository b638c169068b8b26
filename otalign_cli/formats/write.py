"""Write one aligned file in every requested format."""

from __future__ import annotations

from pathlib import Path

from otalign_cli import __version__
from otalign_cli.formats import output_paths
from otalign_cli.formats.ctm import write_ctm
from otalign_cli.formats.json_out import write_json
from otalign_cli.formats.textgrid import write_textgrid
from otalign_cli.pipeline import Alignment, FileResult


def _intervals(al: Alignment, tier: str) -> list[tuple[float, float, str]]:
    return [(s.start, s.end, s.label) for s in (al.words if tier == "words" else al.phones)]


def textgrid_tiers(res: FileResult) -> dict[str, list[tuple[float, float, str]]]:
    tiers = {"words": _intervals(res.ot, "words"), "phones": _intervals(res.ot, "phones")}
    if res.ctc is not None:
        tiers["ctc-words"] = _intervals(res.ctc, "words")
        tiers["ctc-phones"] = _intervals(res.ctc, "phones")
    return tiers


def write_outputs(base: Path, formats: list[str], res: FileResult, models: dict[str, dict]) -> list[Path]:
    written: list[Path] = []
    for fmt in formats:
        paths = output_paths(base, fmt)
        if fmt == "textgrid":
            write_textgrid(paths[0], textgrid_tiers(res), res.duration)
        elif fmt == "ctm":
            ottc = models.get("ottc", {})
            comment = (f"otalign {__version__}, readout {res.readout}, model {ottc.get('name')} "
                       f"(sha256 {str(ottc.get('sha256'))[:12]})")
            write_ctm(paths[0], res.audio.stem, res.ot.words, comment)
            write_ctm(paths[1], res.audio.stem, res.ot.phones, comment)
        elif fmt == "json":
            write_json(paths[0], res, models)
        written.extend(paths)
    return written
