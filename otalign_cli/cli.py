"""The ``otalign`` command line (Typer + rich)."""

from __future__ import annotations

import json
import math
import os
import signal
import sys
import time
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from otalign_cli import __version__
from otalign_cli.errors import OtalignError

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="otalign: forced alignment of speech with optimal transport (OTTC), compared with CTC.")
# piped or captured output (files, CI logs) gets a wide console so tables never truncate numbers
# markup off: paths, words and messages print as they are ("[laughs].wav", "otalign[ray]")
out_console = Console(width=None if sys.stdout.isatty() else 160, markup=False)
err_console = Console(stderr=True, markup=False)


def error_line(message: str) -> Text:
    return Text.assemble(("error:", "bold red"), " " + message)


from otalign_cli.formats import FORMATS, PHONE_SETS, OutputOptions  # noqa: E402  (no torch: cheap)

Format = Enum("Format", {name: name for name in FORMATS}, type=str)  # every registered output format
PhoneSet = Enum("PhoneSet", {name: name for name in PHONE_SETS}, type=str)

def _checked(value: float | None, ok, what: str) -> float | None:
    if value is not None and not (math.isfinite(value) and ok(value)):
        raise typer.BadParameter(f"must be {what}, not {value}")
    return value


def _positive(value: float | None) -> float | None:
    return _checked(value, lambda v: v > 0, "a positive number")


def _non_negative(value: float | None) -> float | None:
    return _checked(value, lambda v: v >= 0, "a number >= 0")


# options align and batch share, declared once
DictionaryOption = Annotated[Optional[Path], typer.Option("--dictionary", help="Pronunciation dictionary (MFA format: WORD PHONE ...); its entries come before CMUdict's.")]
PhoneSetOption = Annotated[PhoneSet, typer.Option("--phone-set", help="Phone labels in the outputs: arpabet (the models' own) or ipa.")]
OriginalTextOption = Annotated[bool, typer.Option("--include-original-text", help="TextGrid/EAF/JSON: add an utterances tier with the transcript as written.")]
MaxLineCharsOption = Annotated[int, typer.Option("--max-line-chars", min=1, help="Subtitles (srt, vtt): characters per line.")]
MaxCueLinesOption = Annotated[int, typer.Option("--max-cue-lines", min=1, help="Subtitles: lines per cue.")]
MaxCueSecondsOption = Annotated[float, typer.Option("--max-cue-seconds", callback=_positive, help="Subtitles: longest cue in seconds.")]


class Readout(str, Enum):
    refine = "refine"
    banded = "banded"
    plain = "plain"
    viterbi = "viterbi"


class Device(str, Enum):
    auto = "auto"
    cpu = "cpu"
    cuda = "cuda"


MAX_PLOT_SECONDS = 60.0  # a longer window is unreadable and its spectrogram costs GBs
MIN_PLOT_SECONDS = 0.05  # the spectrogram needs a few of its 32 ms analysis frames


class Backend(str, Enum):
    local = "local"
    ray = "ray"


class Terminated(BaseException):  # like KeyboardInterrupt: no per-file handler may swallow it
    """SIGTERM, turned into an exception so a batch can stop cleanly and say how to resume."""


def _raise_terminated(signum, frame) -> None:
    raise Terminated()


def fail(message: str, code: int = 1) -> None:
    err_console.print(error_line(message), highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def _version(value: bool) -> None:
    if value:
        out_console.print(f"otalign {__version__}")
        raise typer.Exit()


@app.callback()
def _main(version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                                help="Print the version and exit.")] = False) -> None:
    """Forced alignment of speech with optimal transport."""


def _fmt_ms(v: float | None) -> str:
    return "-" if v is None else f"{v:+.1f}"


def report_table(res, min_confidence: float | None = None) -> Table:
    s = res.stats
    passes = f", {res.stats['passes']} passes" if res.stats.get("passes", 1) > 1 else ""
    t = Table(title=f"{res.audio.name}  ({res.duration:.2f} s)", show_header=True)
    t.add_column("measure")
    t.add_column("value", justify="right")
    t.add_row("readout", f"{res.readout}{passes}")
    t.add_row("words aligned", str(len(res.ot.words)))
    t.add_row("phones aligned", str(len(res.ot.phones)))
    if s.get("utterances"):
        t.add_row("utterances (speaker tiers)", str(s["utterances"]))
    if s.get("oov"):
        t.add_row("words pronounced by G2P", ", ".join(s["oov"]))
    if s.get("pronunciations"):
        t.add_row("pronunciations chosen by the audio", "\n".join(f"{c['word']}: {c['phones']}" for c in s["pronunciations"]))
    if res.ctc is not None:
        d = s.get("label_delay", {})
        t.add_row("label delay CTC - OT, mean (ms)", _fmt_ms(d.get("mean_ms")))
        t.add_row("label delay CTC - OT, median (ms)", _fmt_ms(d.get("median_ms")))
        t.add_row("label delay CTC - OT, p90 (ms)", _fmt_ms(d.get("p90_ms")))
        t.add_row("CTC peaky (% frames on blank)", f"{s['ctc_peaky_pct']:.1f}")
    elif "ctc_skipped" in s:
        t.add_row("CTC comparison", s["ctc_skipped"])
    t.add_row("OT dropped (% frames)", f"{s['dropped_pct']:.1f}")
    if s.get("untranscribed"):
        t.add_row("no transcribed words (start or end of the file)",
                  "\n".join(f"{x['start']:.2f}-{x['end']:.2f} s" for x in s["untranscribed"]))
    suspects = [f"{x['start']:.2f}-{x['end']:.2f} s: {x['words']}" for x in s.get("suspect", [])]
    t.add_row("suspect stretches (audio unlike the transcript)", "\n".join(suspects) or "none")
    if min_confidence is not None:
        low = [f"{w.label} ({w.confidence:.2f}, {w.start:.2f} s)" for w in res.ot.words
               if w.confidence is not None and w.confidence < min_confidence]
        t.add_row(f"words with confidence < {min_confidence:g}", "\n".join(low) or "none")
    t.add_row("speed (x real time)", f"{s['real_time_factor']:.0f}")
    return t


def _can_write(path: Path) -> None:
    """Fail now, not after hours of training, when ``path`` cannot be written."""
    if path.is_dir():
        fail(f"{path}: is a folder; give a file name")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        fail(f"{path}: cannot write here ({'a parent is a file' if isinstance(err, (FileExistsError, NotADirectoryError)) else err.strerror})")
    if not os.access(path.parent, os.W_OK):
        fail(f"{path}: cannot write here (the folder is not writable)")


def _device(device: str) -> str:
    """The device to run on; asking for a GPU that is not there is a usage error (exit 2)."""
    from otalign_cli.models import resolve_device

    try:
        return resolve_device(device)
    except ValueError as err:
        fail(str(err), code=2)
        raise


def _check_passes(passes: int, model) -> None:
    """A bad --passes is a usage error (exit 2), found once the model's frame is known."""
    from otalign_cli.pipeline import check_passes

    try:
        check_passes(passes, model)
    except ValueError as err:
        fail(str(err), code=2)


@app.command()
def align(
    audio: Annotated[Path, typer.Argument(help="Recording: wav, flac, ogg or mp3, any sample rate.")],
    transcript: Annotated[Path, typer.Argument(help="UTF-8 text file with what is said.")],
    output_arg: Annotated[Optional[str], typer.Option("-o", "--output", help="Output path (each format swaps in its own extension), or a folder (an existing one, or any path ending in /). Default: next to the audio.")] = None,
    fmt: Annotated[list[Format], typer.Option("--format", "-f", help="Output format; repeat for several.")] = [Format.textgrid],  # noqa: B006
    model: Annotated[Optional[Path], typer.Option("--model", help="OTTC checkpoint (default: bundled English model).")] = None,
    ctc_model: Annotated[Optional[Path], typer.Option("--ctc-model", help="CTC twin checkpoint for the comparison.")] = None,
    ctc: Annotated[bool, typer.Option("--ctc/--no-ctc", help="Also align with the CTC twin and report the label delay.")] = True,
    readout: Annotated[Readout, typer.Option("--readout", help="How OT times are read out (see README).")] = Readout.refine,
    passes: Annotated[int, typer.Option("--passes", min=1, help="Encoder passes, shifted by 10 ms, averaged by the refine readout (1: faster).")] = 2,
    boundaries: Annotated[bool, typer.Option("--boundaries/--no-boundaries", help="Refine readout: let the model's boundary model move each boundary (if it has one).")] = True,
    variants: Annotated[bool, typer.Option("--variants/--no-variants", help="Let the audio choose among a word's dictionary pronunciations and weak forms (the choices are reported).")] = True,
    device: Annotated[Device, typer.Option("--device", help="Where the models run.")] = Device.auto,
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
) -> None:
    """Align one recording with its transcript; write TextGrid / CTM / JSON and report the label delay."""
    from otalign_cli.formats import output_paths
    from otalign_cli.formats.write import write_outputs
    from otalign_cli.models import load_pair, model_summary
    from otalign_cli.pipeline import align_file
    from otalign_cli.text.dictionary import read_dictionary

    formats = list(dict.fromkeys(f.value for f in fmt))
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
        lexicon = read_dictionary(dictionary) if dictionary is not None else None
        dev = _device(device.value)
        import torch

        torch.set_num_threads(threads)
        ottc, meta, ctc_net, cmeta = load_pair(model, ctc_model, ctc, dev, boundaries)
        _check_passes(passes, ottc)
        res = align_file(audio, transcript, ottc, ctc_net, readout=readout.value, device=dev, passes=passes,
                         variants=variants, lexicon=lexicon)
        written = write_outputs(base, formats, res, {"ottc": model_summary(meta), "ctc": model_summary(cmeta)},
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
def batch(
    corpus: Annotated[Path, typer.Argument(help="Corpus folder: audio with same-stem .txt/.lab, speaker folders at any depth.")],
    out: Annotated[Path, typer.Argument(help="Output folder; mirrors the corpus tree.")],
    fmt: Annotated[list[Format], typer.Option("--format", "-f", help="Output format; repeat for several.")] = [Format.textgrid],  # noqa: B006
    jobs: Annotated[int, typer.Option("--jobs", "-j", min=1, help="Worker processes, each loading the models once.")] = 1,
    threads: Annotated[int, typer.Option("--threads", min=1, help="torch threads per worker (1: fastest on short files, and unhurt by a busy machine).")] = 1,
    readout: Annotated[Readout, typer.Option("--readout")] = Readout.refine,
    passes: Annotated[int, typer.Option("--passes", min=1, help="Encoder passes, shifted by 10 ms, averaged by the refine readout (1: faster).")] = 2,
    boundaries: Annotated[bool, typer.Option("--boundaries/--no-boundaries", help="Refine readout: let the model's boundary model move each boundary (if it has one).")] = True,
    variants: Annotated[bool, typer.Option("--variants/--no-variants", help="Let the audio choose among a word's dictionary pronunciations and weak forms (the choices are reported).")] = True,
    ctc: Annotated[bool, typer.Option("--ctc/--no-ctc", help="Also align with the CTC twin (ctc-* tiers, label delay).")] = True,
    model: Annotated[Optional[Path], typer.Option("--model")] = None,
    ctc_model: Annotated[Optional[Path], typer.Option("--ctc-model")] = None,
    device: Annotated[Device, typer.Option("--device")] = Device.auto,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Redo files whose outputs exist.")] = False,
    adapt: Annotated[str, typer.Option("--adapt", help="none, speaker (adapt the OTTC model to each speaker folder's files before aligning them) or file (to each file alone).")] = "none",
    backend: Annotated[Backend, typer.Option("--backend", help="local: worker processes here; ray: Ray actors (pip install 'otalign\\[ray]').")] = Backend.local,
    address: Annotated[Optional[str], typer.Option("--address", help="Ray cluster address (e.g. ray://head:10001 or auto); default: start a local Ray with --jobs CPUs.")] = None,
    dictionary: DictionaryOption = None,
    phone_set: PhoneSetOption = PhoneSet.arpabet,
    include_original_text: OriginalTextOption = False,
    max_line_chars: MaxLineCharsOption = 42,
    max_cue_lines: MaxCueLinesOption = 2,
    max_cue_seconds: MaxCueSecondsOption = 7.0,
) -> None:
    """Align every file of a corpus; failures go to OUT/errors.tsv, totals to OUT/summary.json."""
    import json
    import time

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from otalign_cli.batch import (SUSPECTS_HEADER, discover, read_suspects, remove_stale_temporaries, run_batch,
                                   summarize_outcomes, suspect_rows, tsv_field)
    from otalign_cli.formats.atomic import write_text_atomic
    from otalign_cli.models import load_pair
    from otalign_cli.text.dictionary import read_dictionary

    if not corpus.is_dir():
        fail(f"{corpus}: not a folder", code=2)
    if jobs < 1:
        fail(f"--jobs must be at least 1, not {jobs}", code=2)
    from otalign_cli.batch import ADAPT_MODES

    if adapt not in ADAPT_MODES:
        fail(f"--adapt must be {', '.join(ADAPT_MODES)}, not {adapt!r}", code=2)
    if address is not None and backend != Backend.ray:
        fail("--address needs --backend ray", code=2)
    if backend == Backend.ray:
        import importlib.util

        if importlib.util.find_spec("ray") is None:
            fail("--backend ray needs Ray: pip install 'otalign[ray]'", code=2)
    items = discover(corpus)
    if not items:
        fail(f"{corpus}: no audio files (wav, flac, ogg, mp3) found", code=2)
    try:
        if dictionary is not None:
            read_dictionary(dictionary)  # a bad dictionary fails once, here, not once per file
        dev = _device(device.value)
        ottc, _, _, _ = load_pair(model, ctc_model, ctc, "cpu")  # a bad model fails once, here, not once per file
        _check_passes(passes, ottc)
    except (OtalignError, ValueError) as err:
        fail(str(err))
    formats = list(dict.fromkeys(f.value for f in fmt))
    from otalign_cli.batch import outputs_of

    inputs = {p.resolve() for item in items for p in (item.audio, item.transcript) if p is not None}
    clash = next((p for item in items for p in outputs_of(out, item, formats) if p.resolve() in inputs), None)
    if clash is not None:
        fail(f"{clash}: an output would overwrite an input of the corpus (choose another OUT folder)", code=2)
    out.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(out)
    outcomes = []
    previous = read_suspects(out / "suspects.tsv")
    t0 = time.perf_counter()
    # rows go out as files finish, so a killed run leaves what a resumed one needs (read_suspects)
    stopped_by = None
    previous_term = signal.signal(signal.SIGTERM, _raise_terminated)
    runs = run_batch(items, out, formats, readout.value, jobs, overwrite, model, ctc_model, ctc, dev,
                     backend.value, address, previous_suspects=previous, passes=passes,
                     boundaries=boundaries, variants=variants, adapt=adapt, dictionary=dictionary,
                     output_options=OutputOptions(phone_set.value, include_original_text, max_line_chars,
                                                  max_cue_lines, max_cue_seconds), threads=threads)
    try:
        with (out / "suspects.tsv").open("w", encoding="utf-8") as suspects_log, \
                Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                         TextColumn("{task.fields[hours]:.2f} h aligned, {task.fields[failed]} failed"),
                         TimeRemainingColumn(), console=err_console) as progress:
            task = progress.add_task("aligning", total=len(items), hours=0.0, failed=0)
            suspects_log.write(SUSPECTS_HEADER)
            for o in runs:
                outcomes.append(o)
                suspects_log.write(suspect_rows(o))
                suspects_log.flush()
                if o.status == "failed":
                    progress.console.print(error_line(o.reason), highlight=False, soft_wrap=True)
                progress.update(task, advance=1, hours=sum(x.duration for x in outcomes) / 3600,
                                failed=sum(x.status == "failed" for x in outcomes))
    except KeyboardInterrupt:
        stopped_by = ("SIGINT", 130)
    except Terminated:
        stopped_by = ("SIGTERM", 143)
    finally:
        runs.close()  # stops the workers now if the loop ended early
        signal.signal(signal.SIGTERM, previous_term)
    summary = summarize_outcomes(outcomes, time.perf_counter() - t0)
    summary["adapt"] = adapt
    if stopped_by is not None:
        summary["stopped_by"] = stopped_by[0]
        summary["not_done"] = len(items) - len(outcomes)
    failed = sorted((o for o in outcomes if o.status == "failed"), key=lambda o: str(o.item.rel))
    suspects = sorted((o for o in outcomes if o.suspects), key=lambda o: str(o.item.rel))
    write_text_atomic(out / "suspects.tsv", SUSPECTS_HEADER + "".join(suspect_rows(o) for o in suspects))
    write_text_atomic(out / "errors.tsv", "path\treason\n" + "".join(
        f"{tsv_field(str(o.item.rel))}\t{tsv_field(o.reason)}\n" for o in failed))
    write_text_atomic(out / "summary.json", json.dumps(summary, indent=2) + "\n")
    table = Table(title=f"{corpus} -> {out}")
    table.add_column("measure")
    table.add_column("value", justify="right")
    for key in ("files", "aligned", "skipped", "failed", "files_with_suspects", "audio_hours", "wall_seconds",
                "x_real_time", "real_time_factor"):
        label = {"x_real_time": "speed (x real time)", "real_time_factor": "real time factor (RTF)"}.get(key, key.replace("_", " "))
        table.add_row(label, str(summary.get(key)))
    if "label_delay_ms" in summary:
        d = summary["label_delay_ms"]
        table.add_row("label delay CTC - OT mean / median / p90 (ms)", f"{d['mean']:+.1f} / {d['median']:+.1f} / {d['p90']:+.1f}")
    out_console.print(table)
    if stopped_by is not None:
        left = len(items) - len(outcomes)
        err_console.print(error_line(f"{corpus}: stopped by {stopped_by[0]} with {left} of {len(items)} files not done; "
                                     "run the same command again to resume"), highlight=False, soft_wrap=True)
        raise typer.Exit(stopped_by[1])
    if failed:
        raise typer.Exit(1)


@app.command()
def validate(
    corpus: Annotated[Path, typer.Argument(help="Corpus folder, as batch reads it.")],
    dictionary: DictionaryOption = None,
    tsv: Annotated[Optional[Path], typer.Option("--tsv", help="Write every problem to this TSV (path, problem, detail).")] = None,
    g2p_out: Annotated[Optional[Path], typer.Option("--g2p-dictionary", help="Write the words G2P would pronounce, with its pronunciations, as a dictionary to edit and pass back with --dictionary.")] = None,
    model: Annotated[Optional[Path], typer.Option("--model", help="Check lengths against this OTTC model's frame rate (loads it); default: the bundled models' 20 ms.")] = None,
    show: Annotated[int, typer.Option("--show", min=0, help="Problems listed on screen (all go to --tsv).")] = 50,
) -> None:
    """Check a corpus before a long run: audio, transcripts, pronunciations, lengths, stems. Exit 0 only if every file would align."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from otalign_cli.batch import discover
    from otalign_cli.formats.atomic import write_text_atomic
    from otalign_cli.text.dictionary import read_dictionary
    from otalign_cli.validate import BUNDLED_FRAME_SHIFT, g2p_dictionary, problems_tsv, validate_corpus

    if not corpus.is_dir():
        fail(f"{corpus}: not a folder", code=2)
    frame_shift = BUNDLED_FRAME_SHIFT
    try:
        lexicon = read_dictionary(dictionary) if dictionary is not None else None
        if model is not None:
            from otalign_cli.models import load_pair

            frame_shift = load_pair(model, None, False, "cpu")[0].frame_shift
    except OtalignError as err:
        fail(str(err))
    n = len(discover(corpus))
    if n == 0:
        fail(f"{corpus}: no audio files (wav, flac, ogg, mp3) found", code=1)
    with Progress(TextColumn("checking"), BarColumn(), MofNCompleteColumn(), console=err_console) as progress:
        task = progress.add_task("checking", total=n)
        v = validate_corpus(corpus, lexicon, frame_shift, on_file=lambda: progress.advance(task))
    summary = Table(title=f"otalign validate {corpus}")
    summary.add_column("measure")
    summary.add_column("value", justify="right")
    summary.add_row("audio files", str(v.files))
    summary.add_row("would align", str(v.ready))
    summary.add_row("with a problem", str(v.files - v.ready))
    summary.add_row("audio hours", f"{v.audio_seconds / 3600:.2f}")
    for fmt, count in v.formats.most_common():
        summary.add_row(f"audio {fmt}", str(count))
    summary.add_row("words pronounced by G2P (distinct)", str(len(v.g2p)))
    out_console.print(summary)
    if v.problems:
        t = Table(title=f"problems ({len(v.problems)})")
        for col in ("file", "problem", "detail"):
            t.add_column(col)
        for p in v.problems[:show]:
            t.add_row(p.path, p.kind, p.detail)
        out_console.print(t)
        if len(v.problems) > show:
            out_console.print(f"... {len(v.problems) - show} more" + (f" in {tsv}" if tsv else " (--tsv FILE lists all)"))
    if v.g2p:
        t = Table(title="words pronounced by G2P (copy into a dictionary to correct them)")
        for col in ("word", "files", "pronunciation"):
            t.add_column(col)
        for w, count in v.g2p_count.most_common(show):
            t.add_row(w, str(count), " ".join(v.g2p[w]))
        out_console.print(t)
    try:
        if tsv is not None:
            write_text_atomic(tsv, problems_tsv(v))
            out_console.print(f"wrote {tsv}", highlight=False)
        if g2p_out is not None:
            write_text_atomic(g2p_out, g2p_dictionary(v))
            out_console.print(f"wrote {g2p_out}", highlight=False)
    except OSError as err:
        fail(f"{err.filename}: cannot write ({err.strerror})")
    if v.problems:
        raise typer.Exit(1)


@app.command()
def synth(
    out: Annotated[Path, typer.Argument(help="Folder for the corpus (created).")],
    hours: Annotated[float, typer.Option("--hours", callback=_positive, help="About how many hours of speech.")] = 1.0,
    seed: Annotated[int, typer.Option("--seed")] = 0,
    jobs: Annotated[int, typer.Option("--jobs", "-j", min=1, help="Parallel festival processes.")] = 2,
    voice: Annotated[Optional[list[str]], typer.Option("--voice", help="Voice: kal, ked (festival), awb, kal16 (flite), espeak (all accents and variants); repeatable. Default: a mix of all, espeak weighted up.")] = None,
) -> None:
    """Synthesize a training corpus with exact phone timings (festival and flite voices)."""
    from rich.progress import Progress

    from otalign_cli.synth.corpus import DEFAULT_MIX, build_corpus, plan_jobs

    voices = tuple(voice or DEFAULT_MIX)
    try:
        plan_jobs(["probe"], 1, seed, voices)
    except ValueError as err:
        fail(str(err), code=2)
    if (out / "manifest.jsonl").exists():
        fail(f"{out}: already holds a corpus (manifest.jsonl); choose another folder")
    n = max(1, int(hours * 3600 / 3.5))
    with Progress(console=err_console) as progress:
        task = progress.add_task("synthesizing", total=n)
        utts = build_corpus(out, hours, seed=seed, jobs=jobs, voices=voices,
                            progress=lambda k: progress.advance(task, k))
    total = sum(u.duration for u in utts) / 3600
    out_console.print(f"{len(utts)} utterances, {total:.2f} h, manifest {out / 'manifest.jsonl'}", highlight=False)


@app.command()
def train(
    corpus: Annotated[Path, typer.Argument(help="Corpus folder (manifest.jsonl, or audio + .txt/.lab).")],
    out: Annotated[Path, typer.Argument(help="Checkpoint to write (.pt).")],
    kind: Annotated[str, typer.Option("--kind", help="ottc or ctc.")] = "ottc",
    steps: Annotated[int, typer.Option("--steps", min=1)] = 1100,
    batch_seconds: Annotated[float, typer.Option("--batch-seconds", callback=_positive, help="Audio seconds per batch.")] = 60.0,
    lr: Annotated[float, typer.Option("--lr", callback=_positive, help="Peak learning rate (AdamW, warm-up then cosine).")] = 2e-3,
    warmup: Annotated[int, typer.Option("--warmup", min=0, help="Warm-up steps.")] = 60,
    stop_after: Annotated[Optional[int], typer.Option("--stop-after", min=1, help="End at this step, keeping the --steps schedule.")] = None,
    augment: Annotated[str, typer.Option("--augment", help="noise (gain + noise) or full (+ reverb, band-limit, mu-law).")] = "noise",
    supervised_steps: Annotated[int, typer.Option("--supervised-steps", min=0, help="OTTC warm start length (needs gold TextGrids).")] = 300,
    supervised_floor: Annotated[float, typer.Option("--supervised-floor", callback=_non_negative, help="OTTC: weight the supervised term keeps after the warm start (0: pure OTTC then).")] = 0.1,
    threads: Annotated[int, typer.Option("--threads", min=1)] = 1,
    seed: Annotated[int, typer.Option("--seed")] = 0,
    name: Annotated[Optional[str], typer.Option("--name", help="Model name stored in the checkpoint.")] = None,
    add_corpus: Annotated[Optional[list[Path]], typer.Option("--add-corpus", help="Another corpus folder to train on (repeatable).")] = None,
    init: Annotated[Optional[Path], typer.Option("--init", help="Start from this checkpoint's weights (same kind).")] = None,
    subsample: Annotated[int, typer.Option("--subsample", min=1, help="Output frame = SUBSAMPLE x 10 ms (new models only).")] = 2,
    hidden: Annotated[int, typer.Option("--hidden", min=1, help="GRU width per direction (new models only).")] = 192,
    device: Annotated[Device, typer.Option("--device", help="Where the model trains (auto picks CUDA when there is a GPU).")] = Device.auto,
    ctc_weight: Annotated[float, typer.Option("--ctc-weight", callback=_non_negative, help="OTTC only: weight of an auxiliary CTC loss on its own head (0: none).")] = 0.0,
    alpha: Annotated[str, typer.Option("--alpha", help="softplus or exp: how the alpha head's output becomes a weight (new OTTC models only).")] = "softplus",
    log: Annotated[Optional[Path], typer.Option("--log", help="Append one JSON line per step (step, lr, loss and its parts, seconds) to this file.")] = None,
) -> None:
    """Train an OTTC model or its CTC twin; resumes from OUT.state if present."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    _can_write(out)

    from otalign_cli.train import TrainConfig, load_corpus
    from otalign_cli.train import train as run_training

    if kind not in ("ottc", "ctc"):
        fail(f"--kind must be ottc or ctc, not {kind!r}", code=2)
    if augment not in ("noise", "full"):
        fail(f"--augment must be noise or full, not {augment!r}", code=2)
    from otalign_cli.model import ALPHA_FUNCTIONS

    if alpha not in ALPHA_FUNCTIONS:
        fail(f"--alpha must be {' or '.join(ALPHA_FUNCTIONS)}, not {alpha!r}", code=2)
    if supervised_floor < 0:
        fail(f"--supervised-floor must be >= 0, not {supervised_floor:g}", code=2)
    if ctc_weight < 0 or (ctc_weight > 0 and kind != "ottc"):
        fail(f"--ctc-weight must be >= 0 and is for --kind ottc only (got {ctc_weight:g} with {kind})", code=2)
    dev = _device(device.value)
    log_file = None
    try:  # before the corpus is read: a bad path must not cost the time it takes to load
        log_file = log.open("a", encoding="utf-8") if log else None
    except OSError as err:
        fail(f"{log}: cannot write the training log ({err.strerror or err})")
    try:
        examples = [e for root in [corpus, *(add_corpus or [])] for e in load_corpus(root)]
    except OtalignError as err:
        fail(str(err))
    if not examples:
        fail(f"{corpus}: no audio with transcripts found")
    cfg = TrainConfig(kind=kind, steps=steps, batch_seconds=batch_seconds, lr=lr, warmup=warmup, stop_after=stop_after, augment=augment,
                      supervised_steps=supervised_steps, threads=threads, seed=seed, subsample=subsample, hidden=hidden, alpha=alpha,
                      device=dev, ctc_weight=ctc_weight, supervised_floor=supervised_floor)
    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                  TimeRemainingColumn(), TextColumn("{task.fields[loss]}"), console=err_console) as progress:
        task = progress.add_task(f"training {kind}", total=min(steps, stop_after or steps), loss="")
        t0 = time.time()

        def on_step(s: int, parts: dict) -> None:
            progress.update(task, completed=s, loss=f"loss {parts['loss']:.3f}")
            if log_file:
                log_file.write(json.dumps({"step": s, "seconds": round(time.time() - t0, 2), **parts}) + "\n")
                log_file.flush()

        try:
            run_training(examples, out, cfg, name or out.stem, init=init, on_step=on_step)
        except OtalignError as err:
            fail(str(err))
        finally:
            if log_file:
                log_file.close()
    out_console.print(f"wrote {out}", highlight=False)


@app.command("train-boundaries")
def train_boundaries(
    corpus: Annotated[list[Path], typer.Argument(help="Corpus folders with gold TextGrids (from otalign synth).")],
    out: Annotated[Path, typer.Option("-o", "--output", help="OTTC checkpoint to write, with the boundary model inside.")],
    model: Annotated[Optional[Path], typer.Option("--model", help="The OTTC model to correct (default: the bundled one).")] = None,
    utterances: Annotated[int, typer.Option("--utterances", min=1, help="Training utterances, sampled from the corpora's train split.")] = 6000,
    dev_utterances: Annotated[int, typer.Option("--dev-utterances", min=0, help="Dev-split utterances per corpus for the before/after figures.")] = 100,
    steps: Annotated[int, typer.Option("--steps", min=1)] = 4000,
    augment: Annotated[str, typer.Option("--augment", help="none, noise (gain + noise) or full (+ reverb, band-limit, mu-law): degrade the training audio before aligning it.")] = "none",
    seed: Annotated[int, typer.Option("--seed")] = 0,
    threads: Annotated[int, typer.Option("--threads", min=1)] = 2,
) -> None:
    """Train the boundary model of an OTTC model: it learns to move the refine readout's boundaries
    to the gold ones, from the audio around each boundary."""
    _can_write(out)
    import torch
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    from otalign_cli.checkpoint import load_checkpoint, save_checkpoint
    from otalign_cli.models import DEFAULT_OTTC, models_dir
    from otalign_cli.train import load_corpus
    from otalign_cli.train_boundaries import train_boundary_model

    torch.set_num_threads(threads)
    if utterances < 1 or steps < 1:
        fail("--utterances and --steps must be at least 1", code=2)
    if augment not in ("none", "noise", "full"):
        fail(f"--augment must be none, noise or full, not {augment!r}", code=2)
    try:
        ottc, meta = load_checkpoint(model or models_dir() / DEFAULT_OTTC, expect_kind="ottc")
        per = -(-utterances // len(corpus))
        train = [e for root in corpus for e in load_corpus(root, limit=per, split="train", sample_seed=seed)]
        dev = [e for root in corpus for e in load_corpus(root, limit=dev_utterances, split="dev")]
    except OtalignError as err:
        fail(str(err))
    if not any(e.intervals for e in train):
        fail(f"{', '.join(map(str, corpus))}: no training utterances with gold TextGrids")
    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                  TimeRemainingColumn(), TextColumn("{task.fields[loss]}"), console=err_console) as progress:
        aligning = progress.add_task("aligning with the refine readout", total=len(train) + len(dev), loss="")
        fitting = progress.add_task("training the boundary model", total=steps, loss="")
        bm, summary = train_boundary_model(
            ottc, train, dev, steps=steps, seed=seed, augmentation=None if augment == "none" else augment,
            on_item=lambda: progress.advance(aligning),
            on_step=lambda s, loss: progress.update(fitting, completed=s, loss=f"loss {loss:.2f}"))
    summary["corpora"] = [str(c) for c in corpus]
    ottc.set_boundary_model(bm)
    save_checkpoint(out, ottc, meta["name"], meta["training"], boundary_training=summary)
    if "dev_after" in summary:
        b, a = summary["dev_before"], summary["dev_after"]
        out_console.print(f"dev boundaries within 20 ms: {b['within_20ms']:.1f} % -> {a['within_20ms']:.1f} %, "
                          f"mean error {b['mean_ms']:.1f} -> {a['mean_ms']:.1f} ms ({a['count']} boundaries)", highlight=False)
    out_console.print(f"wrote {out}", highlight=False)


@app.command()
def plot(
    audio: Annotated[Path, typer.Argument(help="Recording.")],
    transcript: Annotated[Path, typer.Argument(help="Its transcript.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="PNG file to write.")],
    textgrid: Annotated[Optional[Path], typer.Option("--textgrid", help="Draw the tiers of this TextGrid instead of a new alignment.")] = None,
    start: Annotated[float, typer.Option("--start", callback=_non_negative, help="First second shown.")] = 0.0,
    end: Annotated[Optional[float], typer.Option("--end", callback=_non_negative, help="Last second shown (default: the end).")] = None,
    readout: Annotated[Readout, typer.Option("--readout")] = Readout.refine,
    passes: Annotated[int, typer.Option("--passes", min=1, help="Encoder passes, shifted by 10 ms, averaged by the refine readout (1: faster).")] = 2,
    boundaries: Annotated[bool, typer.Option("--boundaries/--no-boundaries", help="Refine readout: let the model's boundary model move each boundary (if it has one).")] = True,
    model: Annotated[Optional[Path], typer.Option("--model")] = None,
    ctc_model: Annotated[Optional[Path], typer.Option("--ctc-model")] = None,
    overwrite: Annotated[bool, typer.Option("--overwrite")] = False,
) -> None:
    """Picture of an alignment: spectrogram, OT and CTC tiers, alpha and CTC posteriors."""
    _can_write(output)
    from otalign_cli.audio import load_audio
    from otalign_cli.formats.textgrid import read_textgrid
    from otalign_cli.formats.write import textgrid_tiers
    from otalign_cli.models import load_pair
    from otalign_cli.pipeline import align_file
    from otalign_cli.plot import plot_alignment

    from otalign_cli.text.utterances import names_speakers

    for given in (audio, transcript, textgrid):
        if given is not None and output.resolve() == given.resolve():
            fail(f"{output}: the picture would overwrite an input (choose another path with -o)")
    if output.exists() and not overwrite:
        fail(f"{output}: output exists (use --overwrite to replace it)")
    if names_speakers(transcript):
        fail(f"{transcript}: plot takes a plain text transcript, not a TextGrid with speaker tiers", code=2)
    if end is not None and end <= start:
        fail(f"--end ({end}) must be after --start ({start})", code=2)
    if end is not None and end - start < MIN_PLOT_SECONDS:
        fail(f"--start {start:g} --end {end:g}: the window must be at least {MIN_PLOT_SECONDS:g} s "
             "(the spectrogram's analysis frame)", code=2)
    if end is not None and end - start > MAX_PLOT_SECONDS:
        fail(f"plot shows at most {MAX_PLOT_SECONDS:g} s at a time; --start {start:g} --end {end:g} spans "
             f"{end - start:g} s", code=2)
    try:
        ottc, _, ctc_net, _ = load_pair(model, ctc_model, True, "cpu", boundaries)
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


@app.command()
def evaluate(
    ref_dir: Annotated[Path, typer.Argument(help="Folder of reference TextGrids (tiers words, phones).")],
    hyp_dir: Annotated[Path, typer.Argument(help="Folder of otalign TextGrids, same relative paths.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the scores as JSON instead of tables.")] = False,
) -> None:
    """Score alignments against references: boundary error, label delay, IDR, for OT and CTC tiers."""
    import json

    from otalign_cli.evaluate import evaluate_dirs

    for d in (ref_dir, hyp_dir):
        if not d.is_dir():
            fail(f"{d}: not a folder")
    res = evaluate_dirs(ref_dir, hyp_dir)
    if not res["files"]:
        for line in res["errors"]:  # the files that did match but could not be read say why
            err_console.print(error_line(line), highlight=False, soft_wrap=True)
        fail(f"{hyp_dir}: no readable TextGrid matches a reference in {ref_dir}"
             + (f" ({len(res['errors'])} unreadable, above)" if res["errors"] else ""))
    if as_json:
        print(json.dumps(res, indent=2))
    else:
        table = Table(title=f"{len(res['files'])} files: {hyp_dir} against {ref_dir}")
        for col in ("aligner", "tier", "match %", "mean ms", "≤10ms %", "≤20ms %", "≤50ms %",
                    "delay mean", "delay med", "delay p90", "IDR %"):
            table.add_column(col, justify="right" if col not in ("aligner", "tier") else "left")
        for key, v in res["corpus"].items():
            ref_tier, hyp_tier = key.split("->")
            if "mean_ms" not in v:
                table.add_row("CTC" if hyp_tier.startswith("ctc") else "OT", ref_tier, f"{v['matched_pct']:.1f}", *["-"] * 8)
                continue
            table.add_row("CTC" if hyp_tier.startswith("ctc") else "OT", ref_tier, f"{v['matched_pct']:.1f}",
                          f"{v['mean_ms']:.1f}", f"{v['within_10ms']:.1f}", f"{v['within_20ms']:.1f}",
                          f"{v['within_50ms']:.1f}",
                          f"{v['delay_mean_ms']:+.1f}", f"{v['delay_median_ms']:+.1f}", f"{v['delay_p90_ms']:+.1f}",
                          f"{v['idr_pct']:.1f}")
        out_console.print(table)
        per_file = Table(title="per file: mean boundary error in ms (% within 20 ms)")
        keys = list(res["corpus"])
        per_file.add_column("file", overflow="fold")
        for key in keys:
            per_file.add_column(key.replace("->", " vs "), justify="right")
        for row in res["files"]:
            per_file.add_row(row["file"], *[f"{row[k]['mean_ms']:.1f} ({row[k]['within_20ms']:.0f})"
                                            if k in row and "mean_ms" in row[k] else "-" for k in keys])
        out_console.print(per_file)
    for path in res["missing"]:
        err_console.print(error_line(f"{path}: no hypothesis TextGrid in {hyp_dir}"), highlight=False, soft_wrap=True)
    for line in res["errors"]:
        err_console.print(error_line(line), highlight=False, soft_wrap=True)
    if res["missing"] or res["errors"]:
        raise typer.Exit(1)


def _boundary_summary(meta: dict) -> str:
    b = meta.get("boundary_model")
    if b is None:
        return "-"
    tr = b.get("training", {})
    return f"{tr.get('boundaries', '?')} boundaries, {tr.get('steps', '?')} steps"


@app.command("models")
def list_models() -> None:
    """List the bundled models with their metadata."""
    from otalign_cli.checkpoint import load_checkpoint
    from otalign_cli.models import models_dir

    folder = models_dir()
    if not folder.is_dir():
        fail(f"{folder}: models folder not found (set by OTALIGN_MODELS)" if os.environ.get("OTALIGN_MODELS")
             else f"{folder}: models folder not found")
    checkpoints = sorted(folder.glob("*.pt"))
    if not checkpoints:
        fail(f"{folder}: no models (*.pt) in this folder")
    table = Table(title=f"models in {folder}")
    for col in ("file", "kind", "name", "tokens", "frame (ms)", "trained on (h)", "steps", "boundary model", "sha256"):
        table.add_column(col)
    for path in checkpoints:
        try:
            _, meta = load_checkpoint(path)
        except OtalignError as err:
            table.add_row(path.name, Text("unreadable", style="red"), err.message, "", "", "", "", "", "")
            continue
        tr = meta.get("training", {})
        table.add_row(path.name, meta["model"]["kind"], meta["name"], str(len(meta["model"]["vocab"])),
                      f"{meta['frame_shift'] * 1000:.0f}", str(tr.get("hours", "?")), str(tr.get("steps", "?")),
                      _boundary_summary(meta), meta["weights_sha256"][:12])
    out_console.print(table)


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        err_console.print("interrupted")
        sys.exit(130)
    except OSError as err:  # the system refused a path the checks did not foresee: still one line
        where = err.filename if err.filename is not None else "otalign"
        err_console.print(error_line(f"{where}: {err.strerror or err}"), highlight=False, soft_wrap=True)
        sys.exit(1)
    except Exception as err:  # a bug: one line by default, the traceback with OTALIGN_DEBUG=1
        if os.environ.get("OTALIGN_DEBUG"):
            raise
        err_console.print(error_line(f"internal error ({type(err).__name__}: {str(err)[:300]}); "
                                     "rerun with OTALIGN_DEBUG=1 for the traceback and please report it"),
                          highlight=False, soft_wrap=True)
        sys.exit(1)
