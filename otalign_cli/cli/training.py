"""``otalign synth``, ``train``, ``train-boundaries`` and ``models``: making and listing models."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table
from rich.text import Text

from otalign_cli.cli.common import (
    Device,
    Encoder,
    Language,
    LossName,
    _can_write,
    _device,
    _non_negative,
    _positive,
    app,
    err_console,
    fail,
    out_console,
)
from otalign_cli.errors import OtalignError
from otalign_cli.train_config import TrainConfig

_T = TrainConfig()  # the defaults, owned by the config


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


def _training_progress():
    """The progress display the training verbs share: count, time left and the latest loss."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    return Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                    TimeRemainingColumn(), TextColumn("{task.fields[loss]}"), console=err_console)


@app.command()
def train(
    corpus: Annotated[Path, typer.Argument(help="Corpus folder (manifest.jsonl, or audio + .txt/.lab).")],
    out: Annotated[Path, typer.Argument(help="Checkpoint to write (.pt).")],
    kind: Annotated[str, typer.Option("--kind", help="ottc or ctc.")] = _T.kind,
    steps: Annotated[int, typer.Option("--steps", min=1)] = _T.steps,
    batch_seconds: Annotated[float, typer.Option("--batch-seconds", callback=_positive, help="Audio seconds per batch.")] = _T.batch_seconds,
    lr: Annotated[float, typer.Option("--lr", callback=_positive, help="Peak learning rate (AdamW, warm-up then cosine).")] = _T.lr,
    warmup: Annotated[int, typer.Option("--warmup", min=0, help="Warm-up steps.")] = _T.warmup,
    stop_after: Annotated[Optional[int], typer.Option("--stop-after", min=1, help="End at this step, keeping the --steps schedule.")] = None,
    augment: Annotated[str, typer.Option("--augment", help="noise (gain + noise) or full (+ reverb, band-limit, mu-law).")] = _T.augment,
    supervised_steps: Annotated[int, typer.Option("--supervised-steps", min=0, help="OTTC warm start length (needs gold TextGrids).")] = _T.supervised_steps,
    supervised_floor: Annotated[float, typer.Option("--supervised-floor", callback=_non_negative, help="OTTC: weight the supervised term keeps after the warm start (0: pure OTTC then).")] = _T.supervised_floor,
    threads: Annotated[int, typer.Option("--threads", min=1)] = _T.threads,
    seed: Annotated[int, typer.Option("--seed")] = _T.seed,
    name: Annotated[Optional[str], typer.Option("--name", help="Model name stored in the checkpoint.")] = None,
    add_corpus: Annotated[Optional[list[Path]], typer.Option("--add-corpus", help="Another corpus folder to train on (repeatable).")] = None,
    aligned_times: Annotated[Optional[list[Path]], typer.Option("--aligned-times", help="A corpus given above whose TextGrids an aligner made (pseudo-labels, not gold): they teach OTTC's alpha target only (repeatable).")] = None,
    init: Annotated[Optional[Path], typer.Option("--init", help="Start from this checkpoint's weights (same kind).")] = None,
    subsample: Annotated[int, typer.Option("--subsample", min=1, help="Output frame = SUBSAMPLE x 10 ms (new models only).")] = _T.subsample,
    hidden: Annotated[int, typer.Option("--hidden", min=1, help="GRU width per direction (new models only).")] = _T.hidden,
    encoder: Annotated[Encoder, typer.Option("--encoder", help="Encoder architecture (new models only; otalign_cli/encoders).")] = Encoder(_T.encoder),
    language: Annotated[Optional[Language], typer.Option("--language", help="How transcripts are pronounced, and the phones it learns (new models only, default en; otalign_cli/text/languages).")] = None,
    device: Annotated[Device, typer.Option("--device", help="Where the model trains (auto picks CUDA when there is a GPU).")] = Device.auto,
    loss: Annotated[Optional[list[LossName]], typer.Option("--loss", help="Train with this loss (repeatable; otalign_cli/losses) instead of the kind's set: ottc, ctc_aux, supervised for OTTC; ctc for CTC.")] = None,
    ctc_weight: Annotated[float, typer.Option("--ctc-weight", callback=_non_negative, help="OTTC only: weight of an auxiliary CTC loss on its own head (0: none).")] = _T.ctc_weight,
    alpha: Annotated[str, typer.Option("--alpha", help="softplus or exp: how the alpha head's output becomes a weight (new OTTC models only).")] = _T.alpha,
    log: Annotated[Optional[Path], typer.Option("--log", help="Append one JSON line per step (step, lr, loss and its parts, seconds) to this file.")] = None,
) -> None:
    """Train an OTTC model or its CTC twin; resumes from OUT.state if present."""

    _can_write(out)

    from otalign_cli.checkpoint import load_checkpoint
    from otalign_cli.train import check_resumable, load_corpus
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
    losses = tuple(dict.fromkeys(x.value for x in loss)) if loss else None
    try:
        from otalign_cli.losses import losses_for

        losses_for(kind, losses)
    except ValueError as err:
        fail(f"--loss: {err}", code=2)
    if losses and ("ctc_aux" in losses) != (ctc_weight > 0):
        fail("--loss ctc_aux and --ctc-weight go together: the weight is that loss's"
             if "ctc_aux" in losses else "--ctc-weight weighs the ctc_aux loss: add --loss ctc_aux", code=2)
    if ctc_weight < 0 or (ctc_weight > 0 and kind != "ottc"):
        fail(f"--ctc-weight must be >= 0 and is for --kind ottc only (got {ctc_weight:g} with {kind})", code=2)
    roots = [corpus, *(add_corpus or [])]
    resolved = [r.resolve() for r in roots]
    marked = {a.resolve(): a for a in aligned_times or []}
    unknown = [a for path, a in marked.items() if path not in resolved]
    if unknown:
        fail(f"--aligned-times {unknown[0]}: not one of the corpora given (CORPUS or --add-corpus)", code=2)
    if aligned_times and (kind != "ottc" or (losses and "supervised" not in losses)):
        fail("--aligned-times needs --kind ottc and the supervised loss (its times teach that loss's alpha target)",
             code=2)
    dev = _device(device.value)
    try:
        lang = load_checkpoint(init)[0].cfg.language if init is not None else (language.value if language else _T.language)
    except OtalignError as err:
        fail(str(err))
    if init is not None and language is not None and language.value != lang:
        fail(f"--language {language.value}: {init} is a model for {lang!r}; a fine-tuned model keeps its language",
             code=2)
    cfg = TrainConfig(kind=kind, steps=steps, batch_seconds=batch_seconds, lr=lr, warmup=warmup, stop_after=stop_after, augment=augment,
                      supervised_steps=supervised_steps, threads=threads, seed=seed, subsample=subsample, hidden=hidden, encoder=encoder.value, alpha=alpha, language=lang, losses=losses,
                      device=dev, ctc_weight=ctc_weight, supervised_floor=supervised_floor,
                      corpora=tuple(map(str, resolved)), aligned_corpora=tuple(map(str, marked)))
    # before the corpus is read and the log opened: a refusal must cost neither the time the
    # corpus takes to load nor an empty log file
    try:
        check_resumable(out, cfg)
    except OtalignError as err:
        fail(str(err))
    log_file = None
    try:
        log_file = log.open("a", encoding="utf-8") if log else None
    except OSError as err:
        fail(f"{log}: cannot write the training log ({err.strerror or err})")
    skipped: list[Path] = []
    try:
        examples = [e for root, path in zip(roots, resolved)
                    for e in load_corpus(root, language=lang, aligned=path in marked, skipped=skipped)]
    except OtalignError as err:
        fail(str(err))
    if skipped:
        err_console.print(f"left out {len(skipped)} transcript(s) marking unknown speech or noise "
                          f"(<unk>, [noise]), which have no phones to learn there: {skipped[0]}"
                          + (", ..." if len(skipped) > 1 else ""), highlight=False)
    if not examples:
        fail(f"{corpus}: no audio with transcripts found")
    with _training_progress() as progress:
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
        lang = ottc.cfg.language
        train = [e for root in corpus for e in load_corpus(root, limit=per, split="train", sample_seed=seed, language=lang)]
        dev = [e for root in corpus for e in load_corpus(root, limit=dev_utterances, split="dev", language=lang)]
    except OtalignError as err:
        fail(str(err))
    if not any(e.intervals for e in train):
        fail(f"{', '.join(map(str, corpus))}: no training utterances with gold TextGrids")
    with _training_progress() as progress:
        aligning = progress.add_task("aligning with the refine readout", total=len(train) + len(dev), loss="")
        fitting = progress.add_task("training the boundary model", total=steps, loss="")
        bm, summary = train_boundary_model(
            ottc, train, dev, steps=steps, seed=seed, augmentation=None if augment == "none" else augment,
            on_item=lambda: progress.advance(aligning),
            on_step=lambda s, loss: progress.update(fitting, completed=s, loss=f"loss {loss:.2f}"))
    summary["corpora"] = [str(c) for c in corpus]
    ottc.set_boundary_model(bm)
    save_checkpoint(out, ottc, meta["name"], meta["training"], boundary_training=summary,
                    frame_training=meta.get("frame_model", {}).get("training"))
    if "dev_after" in summary:
        b, a = summary["dev_before"], summary["dev_after"]
        out_console.print(f"dev boundaries within 20 ms: {b['within_20ms']:.1f} % -> {a['within_20ms']:.1f} %, "
                          f"mean error {b['mean_ms']:.1f} -> {a['mean_ms']:.1f} ms ({a['count']} boundaries)", highlight=False)
    out_console.print(f"wrote {out}", highlight=False)


@app.command("train-frames")
def train_frames(
    corpus: Annotated[list[Path], typer.Argument(help="Corpus folders: with gold TextGrids (otalign synth) or transcripts only (real speech, aligned first).")],
    out: Annotated[Path, typer.Option("-o", "--output", help="OTTC checkpoint to write, with the frame model inside.")],
    model: Annotated[Optional[Path], typer.Option("--model", help="The OTTC model (and its boundary model) whose alignments it learns from (default: the bundled one).")] = None,
    utterances: Annotated[Optional[int], typer.Option("--utterances", min=1, help="At most this many train-split utterances per corpus (default: all).")] = None,
    steps: Annotated[int, typer.Option("--steps", min=1)] = 1500,
    seed: Annotated[int, typer.Option("--seed")] = 0,
    threads: Annotated[int, typer.Option("--threads", min=1)] = 2,
) -> None:
    """Train the frame model of an OTTC model: a 10 ms phone-state classifier that re-segments its
    alignments (Viterbi training on real speech, gold times on synthetic speech). A model that
    already carries a frame model labels with it: one more round of Viterbi training."""
    _can_write(out)
    import torch

    from otalign_cli.alignment.frames import FrameConfig
    from otalign_cli.checkpoint import load_checkpoint, save_checkpoint
    from otalign_cli.models import DEFAULT_OTTC, models_dir
    from otalign_cli.text.languages import get_language
    from otalign_cli.train_frames import label_corpus, train_entries, train_frame_model

    torch.set_num_threads(threads)
    try:
        ottc, meta = load_checkpoint(model or models_dir() / DEFAULT_OTTC, expect_kind="ottc")
        cfg = FrameConfig(phones=tuple(get_language(ottc.cfg.language).PHONES))
        with _training_progress() as progress:
            entries = [audio for root in corpus for audio in train_entries(root, utterances, seed)]
            labelling = progress.add_task("labelling (gold, or aligned)", total=len(entries), loss="")
            items = label_corpus(ottc, entries, cfg, on_item=lambda: progress.advance(labelling))
            fitting = progress.add_task("training the frame model", total=steps, loss="")
            fm, summary = train_frame_model(items, cfg, steps=steps, seed=seed,
                                            on_step=lambda s, loss: progress.update(fitting, completed=s, loss=f"loss {loss:.2f}"))
    except OtalignError as err:
        fail(str(err))
    except ValueError as err:
        fail(f"{', '.join(map(str, corpus))}: {err}")
    summary["corpora"] = [str(c) for c in corpus]
    ottc.set_frame_model(fm)
    save_checkpoint(out, ottc, meta["name"], meta["training"],
                    boundary_training=meta.get("boundary_model", {}).get("training"), frame_training=summary)
    out_console.print(f"frame model: {summary['utterances']} utterances ({summary['gold_utterances']} with gold times), "
                      f"{summary['hours']} h, {steps} steps, final loss {summary['final_loss']}", highlight=False)
    out_console.print(f"wrote {out}", highlight=False)


def _attached_summary(meta: dict, key: str, amount: str, unit: str) -> str:
    """The training of a model a checkpoint carries beside its weights, for the table ("-": none)."""
    if meta.get(key) is None:
        return "-"
    tr = meta[key].get("training", {})
    return f"{tr.get(amount, '?')} {unit}, {tr.get('steps', '?')} steps"


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
    for col in ("file", "kind", "name", "language", "tokens", "frame (ms)", "trained on (h)", "steps", "boundary model",
                "frame model", "sha256"):
        table.add_column(col)
    for path in checkpoints:
        try:
            _, meta = load_checkpoint(path)
        except OtalignError as err:
            table.add_row(path.name, Text("unreadable", style="red"), err.message, "", "", "", "", "", "", "", "")
            continue
        tr = meta.get("training", {})
        table.add_row(path.name, meta["model"]["kind"], meta["name"], meta["model"].get("language", "en"),
                      str(len(meta["model"]["vocab"])),
                      f"{meta['frame_shift'] * 1000:.0f}", str(tr.get("hours", "?")), str(tr.get("steps", "?")),
                      _attached_summary(meta, "boundary_model", "boundaries", "boundaries"),
                      _attached_summary(meta, "frame_model", "hours", "h"), meta["weights_sha256"][:12])
    out_console.print(table)
