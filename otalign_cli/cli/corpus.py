"""``otalign batch``, ``validate`` and ``evaluate``: a corpus."""

from __future__ import annotations

import hashlib
import json
import signal
import time
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from otalign_cli.cli.common import (
    Backend,
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
    Terminated,
    VariantsOption,
    _check_passes,
    _device,
    _raise_terminated,
    app,
    err_console,
    error_line,
    fail,
    out_console,
)
from otalign_cli.errors import OtalignError


@app.command()
def batch(
    corpus: Annotated[Path, typer.Argument(help="Corpus folder: audio with same-stem .txt/.lab, speaker folders at any depth.")],
    out: Annotated[Path, typer.Argument(help="Output folder; mirrors the corpus tree.")],
    fmt: FormatOption = ["textgrid"],  # noqa: B006
    jobs: Annotated[int, typer.Option("--jobs", "-j", min=1, help="Worker processes, each loading the models once.")] = 1,
    threads: Annotated[int, typer.Option("--threads", min=1, help="torch threads per worker (1: fastest on short files, and unhurt by a busy machine).")] = 1,
    readout: ReadoutOption = Readout[DEFAULT_READOUT],
    passes: PassesOption = DEFAULT_PASSES,
    boundaries: BoundariesOption = True,
    frames: FramesOption = True,
    variants: VariantsOption = True,
    ctc: CtcOption = True,
    model: ModelOption = None,
    ctc_model: CtcModelOption = None,
    device: DeviceOption = Device.auto,
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
    suspect_threshold: SuspectThresholdOption = None,
    suspect_min_seconds: SuspectMinSecondsOption = None,
) -> None:
    """Align every file of a corpus; failures go to OUT/errors.tsv, totals to OUT/summary.json."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from otalign_cli import __version__
    from otalign_cli.alignment.suspect import SuspectSettings
    from otalign_cli.batch import (SUSPECTS_HEADER, discover, read_suspects, record_settings,
                                   remove_stale_temporaries, resume_refusal, run_batch, settings_digest,
                                   summarize_outcomes, suspect_rows, tsv_field)
    from otalign_cli.alignment.readouts import get as get_readout
    from otalign_cli.formats.atomic import write_text_atomic
    from otalign_cli.formats.tiers import models_used
    from otalign_cli.models import load_models
    from otalign_cli.text.dictionary import read_dictionary

    if not corpus.is_dir():
        fail(f"{corpus}: not a folder", code=2)
    if out.exists() and not out.is_dir():
        fail(f"{out}: not a folder (the output folder)", code=2)
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
        dev = _device(device.value)
        # a bad model fails once, here, not once per file; loaded as the workers load it, to name it in the settings
        loaded = load_models(model, ctc_model, ctc, "cpu", boundaries, frames)
        ottc = loaded.ottc
        _check_passes(passes, ottc)
        dictionary_sha256 = None
        if dictionary is not None:
            read_dictionary(dictionary, ottc.cfg.language)  # a bad dictionary fails once, here, not once per file
            try:
                dictionary_sha256 = hashlib.sha256(dictionary.read_bytes()).hexdigest()
            except OSError as err:
                raise OtalignError(dictionary, f"cannot read ({err.strerror or err})") from None
    except (OtalignError, ValueError) as err:
        fail(str(err))
    formats = fmt
    from otalign_cli.batch import outputs_of

    inputs = {p.resolve() for item in items for p in (item.audio, item.transcript) if p is not None}
    clash = next((p for item in items for p in outputs_of(out, item, formats) if p.resolve() in inputs), None)
    if clash is not None:
        fail(f"{clash}: an output would overwrite an input of the corpus (choose another OUT folder)", code=2)
    suspects_at = SuspectSettings(suspect_threshold, suspect_min_seconds)  # None fields: the shipped values
    output_options = OutputOptions(phone_set.value, include_original_text, max_line_chars, max_cue_lines,
                                   max_cue_seconds)
    # what shapes the files: each finished file's record carries their digest, so a resumed run can
    # refuse to leave a corpus made two ways (a file done before, the next one otherwise)
    # what the readout does not use is None, so changing it is no reason to refuse a resume
    reads = get_readout(readout.value)
    summaries = models_used(readout.value, loaded.summaries())
    settings = {
        "otalign_version": __version__, "readout": readout.value, "passes": passes if reads.shifted_passes else None,
        "boundaries": boundaries if reads.corrected else None, "frames": frames if reads.corrected else None,
        "variants": variants, "adapt": adapt, "device": dev,
        "dictionary": str(dictionary) if dictionary is not None else None,
        "dictionary_sha256": dictionary_sha256,
        "suspect_threshold": suspects_at.frame_threshold(),
        "suspect_min_seconds": round(suspects_at.min_frames(ottc.frame_shift) * ottc.frame_shift, 3),
        "phone_set": phone_set.value, "include_original_text": include_original_text,
        "max_line_chars": max_line_chars, "max_cue_lines": max_cue_lines, "max_cue_seconds": max_cue_seconds,
        "models": {"ottc": summaries["ottc"], "ctc": summaries["ctc"] if ctc else None}}
    if not overwrite and (why := resume_refusal(out, items, settings)) is not None:
        fail(why, code=2)
    out.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(out)
    record_settings(out, settings)
    outcomes = []
    previous = read_suspects(out / "suspects.tsv")
    t0 = time.perf_counter()
    # rows go out as files finish, so a killed run leaves what a resumed one needs (read_suspects)
    stopped_by = None
    previous_term = signal.signal(signal.SIGTERM, _raise_terminated)
    runs = run_batch(items, out, formats, readout.value, jobs, overwrite, model, ctc_model, ctc, dev,
                     backend.value, address, previous_suspects=previous, passes=passes,
                     boundaries=boundaries, frames=frames, variants=variants, adapt=adapt, dictionary=dictionary,
                     output_options=output_options, threads=threads,
                     suspects=suspects_at, settings_digest=settings_digest(settings))
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
    summary["settings"] = settings
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
        again = ("run the same command again to start over (with --overwrite every file is realigned)" if overwrite
                 else "run the same command again to resume")
        err_console.print(error_line(f"{corpus}: stopped by {stopped_by[0]} with {left} of {len(items)} files not done; "
                                     f"{again}"), highlight=False, soft_wrap=True)
        raise typer.Exit(stopped_by[1])
    if failed:
        raise typer.Exit(1)


@app.command()
def validate(
    corpus: Annotated[Path, typer.Argument(help="Corpus folder, as batch reads it.")],
    dictionary: DictionaryOption = None,
    tsv: Annotated[Optional[Path], typer.Option("--tsv", help="Write every problem to this TSV (path, problem, detail).")] = None,
    g2p_out: Annotated[Optional[Path], typer.Option("--g2p-dictionary", help="Write the words G2P would pronounce, with its pronunciations, as a dictionary to edit and pass back with --dictionary.")] = None,
    model: Annotated[Optional[Path], typer.Option("--model", help="Check lengths against this OTTC model's frame rate and pronounce in its language (loads it); default: the bundled model's (20 ms, English).")] = None,
    show: Annotated[int, typer.Option("--show", min=0, help="Problems listed on screen (all go to --tsv).")] = 50,
) -> None:
    """Check a corpus before a long run: audio, transcripts, pronunciations, lengths, stems. Exit 0 only if every file would align."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from otalign_cli.batch import discover
    from otalign_cli.formats.atomic import write_text_atomic
    from otalign_cli.text.dictionary import read_dictionary
    from otalign_cli.text.languages import DEFAULT_LANGUAGE
    from otalign_cli.validate import BUNDLED_FRAME_SHIFT, g2p_dictionary, problems_tsv, validate_corpus

    if not corpus.is_dir():
        fail(f"{corpus}: not a folder", code=2)
    frame_shift, language = BUNDLED_FRAME_SHIFT, DEFAULT_LANGUAGE
    try:
        if model is not None:
            from otalign_cli.models import load_models

            ottc = load_models(model, with_ctc=False).ottc
            frame_shift, language = ottc.frame_shift, ottc.cfg.language
        lexicon = read_dictionary(dictionary, language) if dictionary is not None else None
    except OtalignError as err:
        fail(str(err))
    n = len(discover(corpus))
    if n == 0:
        fail(f"{corpus}: no audio files (wav, flac, ogg, mp3) found", code=1)
    with Progress(TextColumn("checking"), BarColumn(), MofNCompleteColumn(), console=err_console) as progress:
        task = progress.add_task("checking", total=n)
        v = validate_corpus(corpus, lexicon, frame_shift, on_file=lambda: progress.advance(task), language=language)
    summary = Table(title=f"otalign validate {corpus}")
    summary.add_column("measure"), summary.add_column("value", justify="right")
    summary.add_row("audio files", str(v.files))
    summary.add_row("would align", str(v.ready))
    summary.add_row("with a problem", str(v.files - v.ready))
    summary.add_row("audio hours", f"{v.audio_seconds / 3600:.2f}")
    for fmt, count in v.formats.most_common():
        summary.add_row(f"audio {fmt}", str(count))
    summary.add_row("words pronounced by G2P (distinct)", str(len(v.g2p)))
    if v.markers:  # what will be aligned as events or unknown speech: a stray "<b>" shows here
        summary.add_row("markers: <unk> and [events]", ", ".join(f"{m} {c}" for m, c in v.markers.most_common(5)) + (", ..." if len(v.markers) > 5 else ""))
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


def _aligner_and_tier(key: str) -> tuple[str, str]:
    """("OT" or "CTC", reference tier) of an evaluate key such as ``words->ctc-words``."""
    ref_tier, hyp_tier = key.split("->")
    return ("CTC" if hyp_tier.startswith("ctc") else "OT"), ref_tier


@app.command()
def evaluate(
    ref_dir: Annotated[Path, typer.Argument(help="Folder of reference TextGrids (tiers words, phones).")],
    hyp_dir: Annotated[Path, typer.Argument(help="Folder of otalign TextGrids, same relative paths.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the scores as JSON instead of tables.")] = False,
    ci: Annotated[bool, typer.Option("--ci", help="Add 95 % intervals to the corpus figures (bootstrap over files).")] = False,
    against: Annotated[Optional[Path], typer.Option("--against", metavar="DIR",
                       help="Another aligner's TextGrids for the same references: the differences HYP_DIR minus DIR "
                            "on the files both have, with 95 % paired bootstrap intervals.")] = None,
) -> None:
    """Score alignments against references: boundary error, label delay, IDR, for OT and CTC tiers."""
    from otalign_cli.evaluate import compare, evaluate_dirs, intervals

    for d in (ref_dir, hyp_dir, *([against] if against is not None else [])):
        if not d.is_dir():
            fail(f"{d}: not a folder")
    res = evaluate_dirs(ref_dir, hyp_dir, with_sums=True)
    if not res["files"]:
        for line in res["errors"]:  # the files that did match but could not be read say why
            err_console.print(error_line(line), highlight=False, soft_wrap=True)
        fail(f"{hyp_dir}: no readable TextGrid matches a reference in {ref_dir}"
             + (f" ({len(res['errors'])} unreadable, above)" if res["errors"] else ""))
    bounds = intervals(res) if ci else {}
    versus = None
    if against is not None:
        other = evaluate_dirs(ref_dir, against, with_sums=True)
        for line in other["errors"]:  # left out of the comparison: say which and why
            err_console.print(error_line(line), highlight=False, soft_wrap=True)
        versus = compare(res, other)
        if not versus:
            fail(f"{against}: no readable TextGrid with a words or phones tier matches a reference in {ref_dir} "
                 f"and a file of {hyp_dir}")
    res.pop("sums")
    if ci:
        res["ci95"] = bounds
    if versus is not None:
        res["against"] = {"dir": str(against), "tiers": versus}
    if as_json:
        print(json.dumps(res, indent=2))
    else:
        table = Table(title=f"{len(res['files'])} files: {hyp_dir} against {ref_dir}")
        for col in ("aligner", "tier", "match %", "mean ms", "≤10ms %", "≤20ms %", "≤50ms %",
                    "delay mean", "delay med", "delay p90", "IDR %"):
            table.add_column(col, justify="right" if col not in ("aligner", "tier") else "left")
        for key, v in res["corpus"].items():
            aligner, ref_tier = _aligner_and_tier(key)
            if "mean_ms" not in v:
                table.add_row(aligner, ref_tier, f"{v['matched_pct']:.1f}", *["-"] * 8)
                continue
            b = bounds.get(key, {})

            def cell(name: str, fmt: str = ".1f") -> str:
                value = format(v[name], fmt)
                return f"{value} [{b[name][0]:{fmt}}, {b[name][1]:{fmt}}]" if name in b else value

            table.add_row(aligner, ref_tier, f"{v['matched_pct']:.1f}",
                          cell("mean_ms"), f"{v['within_10ms']:.1f}", cell("within_20ms"), cell("within_50ms"),
                          cell("delay_mean_ms", "+.1f"), f"{v['delay_median_ms']:+.1f}", f"{v['delay_p90_ms']:+.1f}",
                          f"{v['idr_pct']:.1f}")
        out_console.print(table)
        if ci:
            out_console.print("[brackets: 95 % interval, files resampled with replacement; none under 5 files]",
                              highlight=False)
        if versus is not None:
            diff = Table(title=f"{hyp_dir} minus {against} (95 % interval, files resampled in pairs; none under 5 files)")
            for col in ("aligner", "tier", "files", "mean ms", "≤20ms %", "≤50ms %", "delay mean"):
                diff.add_column(col, justify="right" if col not in ("aligner", "tier") else "left")
            for key, c in versus.items():
                d, lohi = c["difference"], c["ci95"]
                diff.add_row(*_aligner_and_tier(key), str(c["files"]),
                             *[f"{d[k]:+.1f}" + (f" [{lohi[k][0]:+.1f}, {lohi[k][1]:+.1f}]" if lohi else "")
                               for k in ("mean_ms", "within_20ms", "within_50ms", "delay_mean_ms")])
            out_console.print(diff)
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
