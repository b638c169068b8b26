"""``otalign align`` and ``otalign plot``: one recording."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from otalign_cli.cli.common import (
    BoundariesOption,
    FramesOption,
    CtcModelOption,
    CtcOption,
    DEFAULT_PASSES,
    DEFAULT_READOUT,
    Device,
    DeviceOption,
    DictionaryOption,
    FormatOption,
    MAX_PLOT_SECONDS,
    MIN_PLOT_SECONDS,
    MaxCueLinesOption,
    MaxCueSecondsOption,
    MaxLineCharsOption,
    ModelOption,
    OriginalTextOption,
    OutputOptions,
    PassesOption,
    PhoneSet,
    PhoneSetOption,
    Readout,
    ReadoutOption,
    SuspectMinSecondsOption,
    SuspectThresholdOption,
    VariantsOption,
    _can_write,
    _check_passes,
    _device,
    _non_negative,
    app,
    err_console,
    fail,
    out_console,
)
from otalign_cli.errors import OtalignError


def _fmt_ms(v: float | None) -> str:
    return "-" if v is None else f"{v:+.1f}"


def report_table(res, min_confidence: float | None = None) -> Table:
    s = res.stats
    passes = f", {s.passes} passes" if (s.passes or 1) > 1 else ""
    t = Table(title=f"{res.audio.name}  ({res.duration:.2f} s)", show_header=True)
    t.add_column("measure")
    t.add_column("value", justify="right")
    t.add_row("readout", f"{res.readout}{passes}")
    t.add_row("words aligned", str(len(res.ot.words)))
    t.add_row("phones aligned", str(len(res.ot.phones)))
    if s.utterances:
        t.add_row("utterances (speaker tiers)", str(s.utterances))
    if s.oov:
        t.add_row("words pronounced by G2P", ", ".join(s.oov))
    if s.pronunciations:
        t.add_row("pronunciations chosen by the audio", "\n".join(f"{c.word}: {c.phones}" for c in s.pronunciations))
    if res.ctc is not None:
        d = s.label_delay or {}
        t.add_row("label delay CTC - OT, mean (ms)", _fmt_ms(d.get("mean_ms")))
        t.add_row("label delay CTC - OT, median (ms)", _fmt_ms(d.get("median_ms")))
        t.add_row("label delay CTC - OT, p90 (ms)", _fmt_ms(d.get("p90_ms")))
        t.add_row("CTC peaky (% frames on blank)", f"{s.ctc_peaky_pct:.1f}")
    elif s.ctc_skipped is not None:
        t.add_row("CTC comparison", s.ctc_skipped)
    t.add_row("OT dropped (% frames)", f"{s.dropped_pct:.1f}")
    if s.untranscribed:
        t.add_row("no transcribed words (start or end of the file)",
                  "\n".join(f"{x.start:.2f}-{x.end:.2f} s" for x in s.untranscribed))
    suspects = [f"{x.start:.2f}-{x.end:.2f} s: {x.words}" for x in s.suspect]
    t.add_row("suspect stretches (audio unlike the transcript)", "\n".join(suspects) or "none")
    if min_confidence is not None:
        low = [f"{w.label} ({w.confidence:.2f}, {w.start:.2f} s)" for w in res.ot.words
               if w.confidence is not None and w.confidence < min_confidence]
        t.add_row(f"words with confidence < {min_confidence:g}", "\n".join(low) or "none")
    t.add_row("speed (x real time)", f"{s.real_time_factor:.0f}")
    return t


@app.command()
def align(
    audio: Annotated[Path, typer.Argument(help="Recording: wav, flac, ogg or mp3, any sample rate.")],
    transcript: Annotated[Path, typer.Argument(help="UTF-8 text file with what is said; or a TextGrid or ELAN file with a tier per speaker, or SRT/VTT subtitles to retime.")],
    output_arg: Annotated[Optional[str], typer.Option("-o", "--output", help="Output path (each format swaps in its own extension), or a folder (an existing one, or any path ending in /). Default: next to the audio.")] = None,
    fmt: FormatOption = ["textgrid"],  # noqa: B006
    model: ModelOption = None,
    ctc_model: CtcModelOption = None,
    ctc: CtcOption = True,
    readout: ReadoutOption = Readout[DEFAULT_READOUT],
    passes: PassesOption = DEFAULT_PASSES,
    boundaries: BoundariesOption = True,
    frames: FramesOption = True,
    variants: VariantsOption = True,
    device: DeviceOption = Device.auto,
    threads: Annotated[int, typer.Option("--threads", min=1, help="torch threads (1 is as fast on 2 cores and unhurt by a busy machine).")] = 1,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace existing output files.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Do not print the report table.")] = False,
    min_confidence: Annotated[Optional[float], typer.Option("--min-confidence", callback=_non_negative, help="List words whose confidence is below this (0-1) in the report.")] = None,
    dictionary: DictionaryOption = None,
    phone_set: PhoneSetOption = PhoneSet.arpabet,
    include_original_text: OriginalTextOption = False,
    max_line_chars: MaxLineCharsOption = 42,
    max_cue_lines: MaxCueLinesOption = 2,
    max_cue_seconds: MaxCueSecondsOption = 7.0,
    suspect_threshold: SuspectThresholdOption = None,
    suspect_min_seconds: SuspectMinSecondsOption = None,
) -> None:
    """Align one recording with its transcript; write TextGrid / CTM / JSON and report the label delay."""
    from otalign_cli.alignment.suspect import SuspectSettings
    from otalign_cli.formats import output_paths
    from otalign_cli.formats.write import write_outputs
    from otalign_cli.models import load_models
    from otalign_cli.pipeline import align_file
    from otalign_cli.text.dictionary import read_dictionary

    formats = fmt
    output = Path(output_arg) if output_arg is not None else None
    output_options = OutputOptions(phone_set.value, include_original_text, max_line_chars, max_cue_lines, max_cue_seconds)
    base = output if output is not None else audio
    if output is not None and (output.is_dir() or output_arg.endswith(("/", "\\"))):
        base = output / audio.name  # a folder: files named after the audio inside it
    targets = [p for f in formats for p in output_paths(base, f)]
    for given, what in ((audio, "audio"), (transcript, "transcript")):
        if given.resolve() in {p.resolve() for p in targets}:
            fail(f"{given}: an output would overwrite this input {what} (choose another path with -o)")
    existing = [p for p in targets if p.exists()]
    if existing and not overwrite:
        fail(f"{existing[0]}: output exists (use --overwrite to replace it)")
    try:
        dev = _device(device.value)
        import torch

        torch.set_num_threads(threads)
        m = load_models(model, ctc_model, ctc, dev, boundaries, frames)
        ottc, ctc_net = m.ottc, m.ctc
        lexicon = read_dictionary(dictionary, ottc.cfg.language) if dictionary is not None else None
        _check_passes(passes, ottc)
        res = align_file(audio, transcript, ottc, ctc_net, readout=readout.value, device=dev, passes=passes,
                         variants=variants, lexicon=lexicon,
                         suspects=SuspectSettings(suspect_threshold, suspect_min_seconds))
        written = write_outputs(base, formats, res, m.summaries(),
                                output_options, replace=overwrite)
    except OtalignError as err:
        fail(str(err))
    except ValueError as err:
        fail(f"{audio}: {err}")
    if not quiet:
        out_console.print(report_table(res, min_confidence))
    for p in written:
        out_console.print(f"wrote {p}", highlight=False)


@app.command()
def plot(
    audio: Annotated[Path, typer.Argument(help="Recording.")],
    transcript: Annotated[Path, typer.Argument(help="Its transcript.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="PNG file to write.")],
    textgrid: Annotated[Optional[Path], typer.Option("--textgrid", help="Draw the tiers of this TextGrid instead of a new alignment.")] = None,
    start: Annotated[float, typer.Option("--start", callback=_non_negative, help="First second shown.")] = 0.0,
    end: Annotated[Optional[float], typer.Option("--end", callback=_non_negative, help="Last second shown (default: the end).")] = None,
    readout: ReadoutOption = Readout[DEFAULT_READOUT],
    passes: PassesOption = DEFAULT_PASSES,
    boundaries: BoundariesOption = True,
    frames: FramesOption = True,
    model: ModelOption = None,
    ctc_model: CtcModelOption = None,
    overwrite: Annotated[bool, typer.Option("--overwrite")] = False,
) -> None:
    """Picture of an alignment: spectrogram, OT and CTC tiers, alpha and CTC posteriors."""
    _can_write(output)
    from otalign_cli.audio import load_audio
    from otalign_cli.formats.textgrid import read_textgrid
    from otalign_cli.formats.write import textgrid_tiers
    from otalign_cli.models import load_models
    from otalign_cli.pipeline import align_file
    from otalign_cli.plot import plot_alignment

    from otalign_cli.text.utterances import names_speakers

    for given in (audio, transcript, textgrid):
        if given is not None and output.resolve() == given.resolve():
            fail(f"{output}: the picture would overwrite an input (choose another path with -o)")
    if output.exists() and not overwrite:
        fail(f"{output}: output exists (use --overwrite to replace it)")
    if names_speakers(transcript):
        fail(f"{transcript}: plot takes a plain text transcript, not a TextGrid or ELAN file with speaker tiers", code=2)
    if end is not None and end <= start:
        fail(f"--end ({end}) must be after --start ({start})", code=2)
    if end is not None and end - start < MIN_PLOT_SECONDS:
        fail(f"--start {start:g} --end {end:g}: the window must be at least {MIN_PLOT_SECONDS:g} s "
             "(the spectrogram's analysis frame)", code=2)
    if end is not None and end - start > MAX_PLOT_SECONDS:
        fail(f"plot shows at most {MAX_PLOT_SECONDS:g} s at a time; --start {start:g} --end {end:g} spans "
             f"{end - start:g} s", code=2)
    try:
        m = load_models(model, ctc_model, True, "cpu", boundaries, frames)
        ottc, ctc_net = m.ottc, m.ctc
        _check_passes(passes, ottc)
        res = align_file(audio, transcript, ottc, ctc_net, readout=readout.value, passes=passes)
        tiers = textgrid_tiers(res)
        if textgrid is not None:
            tiers = read_textgrid(textgrid)
        if start >= res.duration:
            fail(f"--start ({start:g}) is past the end of {audio} ({res.duration:.2f} s)", code=2)
        shown_end = min(end if end is not None else start + MAX_PLOT_SECONDS, res.duration)
        if end is None and shown_end < res.duration:
            err_console.print(f"note: showing {start:g}-{shown_end:g} s of {res.duration:.0f} s; choose the window "
                              "with --start/--end", highlight=False)
        title = f"{audio.name} — OT readout {res.readout} (blue), CTC Viterbi (red, dashed)"
        plot_alignment(output, load_audio(audio), tiers, res.traces, title, start=start, end=shown_end)
    except OtalignError as err:
        fail(str(err))
    out_console.print(f"wrote {output}", highlight=False)
