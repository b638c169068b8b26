"""The interval tiers of one aligned file, shared by the TextGrid and ELAN writers.

One speaker (a plain text transcript): ``words``, ``phones``, then ``ctc-words`` and
``ctc-phones`` when the CTC twin ran, then ``utterances`` with the transcript as written when
asked. Several speakers (a TextGrid transcript with one tier per speaker): the same tiers per
speaker, named ``SPEAKER - words`` and so on, as the Montreal Forced Aligner names them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from otalign_cli import __version__

if TYPE_CHECKING:
    from otalign_cli.formats import OutputContext
    from otalign_cli.results import Alignment, FileResult, Segment

Interval = tuple[float, float, str]


def speakers_of(res: FileResult) -> list[str]:
    """Speakers in the order the transcript names them; [""] for a file without speakers."""
    names = list(dict.fromkeys(u.speaker for u in res.utterances)) or [""]
    return names


def _of(segments: list[Segment], speaker: str) -> list[Segment]:
    return [s for s in segments if s.speaker == speaker]


def _tiers_of(al: Alignment, speaker: str, ctx: OutputContext, prefix: str) -> dict[str, list[Interval]]:
    return {f"{prefix}words": [(s.start, s.end, s.label) for s in _of(al.words, speaker)],
            f"{prefix}phones": [(s.start, s.end, ctx.phone(s.label)) for s in _of(al.phones, speaker)]}


def interval_tiers(res: FileResult, ctx: OutputContext) -> dict[str, list[Interval]]:
    tiers: dict[str, list[Interval]] = {}
    for spk in speakers_of(res):
        name = f"{spk} - " if spk else ""
        tiers.update(_tiers_of(res.ot, spk, ctx, name))
        if res.ctc is not None:
            tiers.update(_tiers_of(res.ctc, spk, ctx, f"{name}ctc-"))
        if ctx.options.include_original_text:
            tiers[f"{name}utterances"] = [(u.start, u.end, u.text) for u in res.utterances if u.speaker == spk]
    return tiers


def models_used(readout_name: str, models: dict[str, dict]) -> dict[str, dict]:
    """``models`` (``Models.summaries``) less the boundary and frame models where the readout
    (as given, or as named in outputs) does not run them (only the ``corrected`` readouts do:
    ``--readout refine``)."""
    from otalign_cli.alignment.readouts import BOUNDARY_SUFFIX, REGISTRY
    from otalign_cli.models import without_parts

    readout = REGISTRY.get(readout_name.removesuffix(BOUNDARY_SUFFIX))
    if readout is None or readout.corrected:  # a readout not registered here: nothing known to leave out
        return models
    return {key: without_parts(m or {}) for key, m in models.items()}


def provenance(res: FileResult, ctx: OutputContext) -> str:
    """What produced these times, in words a Praat user reads on the ``otalign`` tier."""
    parts = [f"otalign {__version__}", f"readout {res.readout}"]
    used = models_used(res.readout, ctx.models)
    for key, what in (("ottc", "model"), ("ctc", "CTC twin")):
        m = used.get(key) or {}
        if m.get("name"):
            extra = "".join(f", {part} {str(m[f'{part}_model_sha256'])[:12]}" for part in ("boundary", "frame")
                            if m.get(f"{part}_model_sha256"))
            if m.get("frame_model_window") is not None:  # outside the frame model's weights, so named apart
                extra += f" window {round(1000 * m['frame_model_window'])} ms"
            parts.append(f"{what} {m['name']} (sha256 {str(m.get('sha256'))[:12]}{extra})")
        if key == "ottc" and res.adapted:  # the SHA-256 names the weights before adaptation
            parts.append("OTTC heads adapted to the transcripts")
    if ctx.options.phone_set != "arpabet":
        parts.append(f"phones in {ctx.options.phone_set.upper()}")
    return "; ".join(parts)
