"""Align a whole corpus (Montreal-Forced-Aligner layout) in worker processes.

Every file is independent: a failure is recorded and the run goes on; outputs are written
atomically, so a run killed at any moment leaves only complete files, and running the same
command again skips every file whose outputs all exist.
"""

from __future__ import annotations

import ctypes
import glob
import json
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from otalign_cli.formats import OutputOptions

AUDIO_EXTS = (".wav", ".flac", ".ogg", ".mp3")
TRANSCRIPT_EXTS = (".txt", ".lab", ".TextGrid")  # a TextGrid transcript has one tier of utterances per speaker


@dataclass(frozen=True)
class Item:
    audio: Path
    transcript: Path | None
    rel: Path  # audio path relative to the corpus root
    speaker: str


@dataclass
class Outcome:
    item: Item
    status: str  # "aligned", "skipped" or "failed"
    reason: str = ""
    duration: float = 0.0
    seconds: float = 0.0
    delays_ms: list[float] = field(default_factory=list)
    suspects: list[dict] = field(default_factory=list)  # stretches where the audio is unlike the transcript


def discover(corpus: Path) -> list[Item]:
    """Audio files under ``corpus`` (any depth), each with its same-stem .txt/.lab/.TextGrid if there is one.

    The speaker is the first folder under the root (MFA's convention), "" for files at the top.
    """
    items = []
    for audio in sorted(p for p in corpus.rglob("*") if p.suffix.lower() in AUDIO_EXTS and p.is_file()):
        transcript = next((audio.with_suffix(e) for e in TRANSCRIPT_EXTS if audio.with_suffix(e).is_file()), None)
        if transcript is None:  # TextGrid is spelt in several cases
            transcript = next((p for p in audio.parent.glob(glob.escape(audio.stem) + ".*")
                               if p.suffix.lower() == ".textgrid" and p.is_file()), None)
        rel = audio.relative_to(corpus)
        items.append(Item(audio, transcript, rel, rel.parts[0] if len(rel.parts) > 1 else ""))
    return items


def output_base(out: Path, item: Item) -> Path:
    return out / item.rel


def outputs_of(out: Path, item: Item, formats: list[str]) -> list[Path]:
    from otalign_cli.formats import output_paths

    return [p for f in formats for p in output_paths(output_base(out, item), f)]


SUSPECTS_HEADER = "path\tstart\tend\twords\n"
_TSV_ESCAPES = {"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"}


def tsv_field(text: str) -> str:
    """A value made safe for one TSV cell: backslash, tab, newline and return written as \\\\, \\t, \\n, \\r."""
    return "".join(_TSV_ESCAPES.get(c, c) for c in text)


def tsv_value(field: str) -> str:
    """The value ``tsv_field`` wrote."""
    out, chars = [], iter(field)
    for c in chars:
        if c == "\\":
            nxt = next(chars, "")
            out.append({"t": "\t", "n": "\n", "r": "\r"}.get(nxt, nxt))
        else:
            out.append(c)
    return "".join(out)


def suspect_rows(outcome: Outcome) -> str:
    """Lines of OUT/suspects.tsv for one file (none if nothing was suspect)."""
    return "".join(f"{tsv_field(str(outcome.item.rel))}\t{x['start']:.3f}\t{x['end']:.3f}\t{tsv_field(x['words'])}\n"
                   for x in outcome.suspects)


def read_suspects(path: Path) -> dict[str, list[dict]]:
    """Per file, the suspect stretches an earlier run recorded in ``path`` (suspects.tsv).

    A run that was killed leaves the rows of the files it finished, perhaps with a cut last line,
    which is ignored; so a resumed run can still list the files it skips.
    """
    out: dict[str, list[dict]] = {}
    if not path.is_file():
        return out
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines()[1:]:
        parts = line.split("\t")
        try:
            row = {"start": float(parts[1]), "end": float(parts[2]), "words": tsv_value(parts[3])}
        except (IndexError, ValueError):
            continue
        out.setdefault(tsv_value(parts[0]), []).append(row)
    return out


def remove_stale_temporaries(out: Path) -> None:
    """Temporary files a killed otalign run left behind, known by their mark; nobody else's."""
    from otalign_cli.formats.atomic import TEMP_MARK

    for tmp in out.rglob(".*" + TEMP_MARK):
        if tmp.is_file():
            tmp.unlink(missing_ok=True)


RECORDS = ".otalign"  # OUT/.otalign/REL.json: what a finished file's report rows need, for resumed runs


def record_path(out: Path, item: Item) -> Path:
    return out / RECORDS / (str(item.rel) + ".json")


def recorded_suspects(out: Path, item: Item) -> list[dict] | None:
    """The suspect stretches written with the file's outputs, or None (no record, or unreadable)."""
    try:
        return json.loads(record_path(out, item).read_text(encoding="utf-8"))["suspects"]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def collisions(items: list[Item], out: Path, formats: list[str]) -> dict[int, str]:
    """Per item (by index) that shares an output path with another: the other's name."""
    owner: dict[Path, int] = {}
    clash: dict[int, str] = {}
    for k, item in enumerate(items):
        for p in outputs_of(out, item, formats):
            j = owner.setdefault(p, k)
            if j != k:
                clash[k] = str(items[j].rel)
                clash.setdefault(j, str(item.rel))
    return clash


@dataclass(frozen=True)
class WorkerSettings:
    """Everything a worker (process or Ray actor) needs to align files as ``otalign align`` would."""

    model: Path | None = None
    ctc_model: Path | None = None
    with_ctc: bool = True
    device: str = "cpu"
    threads: int = 1
    passes: int = 2
    boundaries: bool = True
    variants: bool = True
    dictionary: Path | None = None
    output_options: OutputOptions = OutputOptions()
    overwrite: bool = False  # replace existing outputs; otherwise only missing formats are written


_WORKER: dict = {}


def die_with_parent(parent: int) -> None:
    """End this worker when the batch command ends, even if that was SIGKILL (the OOM killer, a
    scheduler): on Linux the kernel sends SIGKILL on the parent's death (``PR_SET_PDEATHSIG``);
    everywhere a thread watches for the parent to go. Ctrl-C is the parent's to handle."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # 1 = PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:  # the parent died before the line above took effect
        os._exit(1)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch, name="otalign-parent-watch", daemon=True).start()


def _init_worker(settings: WorkerSettings, parent: int | None = None) -> None:
    if parent is not None:
        die_with_parent(parent)
    import torch

    from otalign_cli.models import load_pair, model_summary
    from otalign_cli.text.dictionary import read_dictionary

    torch.set_num_threads(settings.threads)
    ottc, meta, ctc, cmeta = load_pair(settings.model, settings.ctc_model, settings.with_ctc, settings.device,
                                       settings.boundaries)
    lexicon = read_dictionary(settings.dictionary) if settings.dictionary is not None else None
    _WORKER.update(ottc=ottc, ctc=ctc, device=settings.device, passes=settings.passes, variants=settings.variants,
                   lexicon=lexicon, output_options=settings.output_options, overwrite=settings.overwrite,
                   models={"ottc": model_summary(meta), "ctc": model_summary(cmeta)})


def _internal_error(item: Item, err: Exception) -> Outcome:
    return Outcome(item, "failed", f"{item.audio}: internal error ({type(err).__name__}: {str(err)[:200]})")


def _no_transcript(item: Item) -> Outcome:
    return Outcome(item, "failed", f"{item.audio}: no transcript (same-stem .txt or .lab)")


def _write(item: Item, res, out: Path, formats: list[str]) -> Outcome:
    """Write one file's outputs; its outcome, with the label delays and suspect stretches."""
    from otalign_cli.errors import OtalignError
    from otalign_cli.formats.write import write_outputs

    from otalign_cli.formats import output_paths

    base = output_base(out, item)
    overwrite = _WORKER.get("overwrite", False)
    # without --overwrite, formats already written (perhaps edited by hand since) are left alone
    missing = [f for f in formats if overwrite or not all(p.exists() for p in output_paths(base, f))]
    suspects = res.stats.get("suspect", [])
    try:
        write_outputs(base, missing, res, _WORKER["models"], _WORKER["output_options"], replace=overwrite,
                      extra=[(record_path(out, item), json.dumps({"suspects": suspects}) + "\n")])
    except OtalignError as err:
        return Outcome(item, "failed", str(err))
    except Exception as err:  # one broken file must never stop the corpus
        return _internal_error(item, err)
    delays = [(c.start - o.start) * 1000 for c, o in zip(res.ctc.phones, res.ot.phones)] if res.ctc else []
    return Outcome(item, "aligned", duration=res.duration, seconds=res.stats["seconds"], delays_ms=delays,
                   suspects=res.stats.get("suspect", []))


def _align_one(item: Item, out: Path, formats: list[str], readout: str) -> Outcome:
    from otalign_cli.errors import OtalignError
    from otalign_cli.pipeline import align_file

    if item.transcript is None:
        return _no_transcript(item)
    try:
        res = align_file(item.audio, item.transcript, _WORKER["ottc"], _WORKER["ctc"], readout=readout,
                         passes=_WORKER["passes"], variants=_WORKER["variants"],
                         device=_WORKER["device"], lexicon=_WORKER["lexicon"])
    except OtalignError as err:
        return Outcome(item, "failed", str(err))
    except Exception as err:  # one broken file must never stop the corpus
        return _internal_error(item, err)
    return _write(item, res, out, formats)


def pending(items: list[Item], out: Path, formats: list[str], overwrite: bool) -> tuple[list[Item], list[Item]]:
    """(to align, already finished): a file is finished when all its outputs exist."""
    todo, done = [], []
    for item in items:
        finished = not overwrite and all(p.exists() for p in outputs_of(out, item, formats))
        (done if finished else todo).append(item)
    return todo, done


def _align_group(items: list[Item], out: Path, formats: list[str], readout: str,
                 adapt: bool = False) -> list[Outcome]:
    """Several files with their encoder passes batched (``align_files``); same outputs as one by one.
    With ``adapt``, the OTTC model is first adapted to the group (one speaker, or one file)."""
    from otalign_cli.adapt import AdaptConfig
    from otalign_cli.errors import OtalignError
    from otalign_cli.pipeline import align_files

    ready = [item for item in items if item.transcript is not None]
    try:
        results = align_files([(item.audio, item.transcript) for item in ready], _WORKER["ottc"],
                              _WORKER["ctc"], readout=readout, device=_WORKER["device"], passes=_WORKER["passes"],
                              variants=_WORKER["variants"], adapt=AdaptConfig() if adapt else None,
                              lexicon=_WORKER["lexicon"])
    except Exception:  # something no single file explains: fall back to one by one, unadapted
        return [_align_one(item, out, formats, readout) for item in items]
    by_item = {id(item): res for item, res in zip(ready, results)}
    outcomes = []
    for item in items:
        res = by_item.get(id(item))
        if res is None:
            outcomes.append(_no_transcript(item))
        elif isinstance(res, OtalignError):
            outcomes.append(Outcome(item, "failed", str(res)))
        else:
            outcomes.append(_write(item, res, out, formats))
    return outcomes


ADAPT_MODES = ("none", "speaker", "file")


def adapt_groups(items: list[Item], mode: str) -> list[tuple[list[Item], bool]]:
    """(files, adapt them?) units of work for ``--adapt``: a speaker folder's files together
    (``speaker``), or each file alone (``file``); files with no speaker folder are never pooled."""
    if mode == "file":
        return [([item], True) for item in items]
    by_speaker: dict[str, list[Item]] = {}
    for item in items:
        by_speaker.setdefault(item.speaker, []).append(item)
    groups = [(g, True) for spk, g in by_speaker.items() if spk]
    return groups + [([item], False) for item in by_speaker.get("", [])]


def length_groups(items: list[Item], size: int) -> list[list[Item]]:
    """Items sorted by audio length (unreadable files first) in groups of ``size``: similar lengths
    share an encoder batch, so little of it is padding."""
    import soundfile as sf

    def seconds(item: Item) -> float:
        try:
            return float(sf.info(str(item.audio)).duration)
        except Exception:
            return 0.0

    ordered = sorted(items, key=seconds)
    return [ordered[i:i + size] for i in range(0, len(ordered), size)]


def run_batch(items: list[Item], out: Path, formats: list[str], readout: str, jobs: int, overwrite: bool,
              model: Path | None = None, ctc_model: Path | None = None, with_ctc: bool = True,
              device: str = "cpu", backend: str = "local", address: str | None = None,
              group_size: int | None = None, previous_suspects: dict[str, list[dict]] | None = None,
              *, passes: int, boundaries: bool = True, variants: bool = True,
              adapt: str = "none", dictionary: Path | None = None,
              output_options: OutputOptions | None = None, in_process: bool = True,
              threads: int = 1) -> Iterator[Outcome]:
    """Align ``items`` with ``jobs`` workers (processes, or Ray actors); yields each outcome as it completes.

    Files whose outputs all exist come first, as skipped, with the suspect stretches an earlier
    run recorded for them (``previous_suspects``, see ``read_suspects``). ``group_size`` files
    share batched encoder passes (default: 16 on a GPU, 1 on CPU, where batching buys nothing).
    ``boundaries`` False leaves the OTTC model's boundary model out (``otalign batch --no-boundaries``);
    ``variants`` False keeps every word's first dictionary pronunciation (``--no-variants``).
    ``adapt`` "speaker" adapts the OTTC model to each speaker folder's files before aligning them
    (files at the top of the corpus have no known speaker and are aligned unadapted), "file" to
    each file alone (``adapt_groups``). ``dictionary`` is a pronunciation dictionary whose
    entries come before CMUdict's (``text.dictionary``); ``output_options`` shape the outputs.
    With ``jobs`` 1 and ``in_process`` the files are aligned in this process (saving a second
    start-up of torch, the models and CMUdict: about a third of a short corpus's wall time).
    ``threads`` is torch's thread count per worker: 1 by default, which on 2 cores was as fast as
    2 on short files and on an hour-long one, and loses nothing when the machine is busy
    (bench/whole_process.py; two threads wait actively for a core another process holds).
    """
    clash = collisions(items, out, formats)
    for k in sorted(clash):
        yield Outcome(items[k], "failed", f"{items[k].audio}: its outputs would collide with those of {clash[k]} "
                                          "(same stem); rename one of them")
    todo, done = pending([item for k, item in enumerate(items) if k not in clash], out, formats, overwrite)
    for item in done:
        recorded = recorded_suspects(out, item)
        yield Outcome(item, "skipped", suspects=recorded if recorded is not None
                      else (previous_suspects or {}).get(str(item.rel), []))
    if not todo:
        return
    if backend == "ray":
        from otalign_cli.batch_ray import run_on_ray

        settings = WorkerSettings(model, ctc_model, with_ctc, device, 1, passes, boundaries, variants, dictionary,
                                  output_options or OutputOptions(), overwrite)
        yield from run_on_ray(todo, out, formats, readout, jobs, address, settings, adapt)
        return
    if group_size is None:
        group_size = 16 if str(device).startswith("cuda") else 1
    threads = max(1, threads)
    settings = WorkerSettings(model, ctc_model, with_ctc, device, threads, passes, boundaries, variants, dictionary,
                              output_options or OutputOptions(), overwrite)
    # one task per file, per length group or per adaptation group: the same list either way
    if adapt != "none":
        tasks = [(_align_group, (g, out, formats, readout, adapted)) for g, adapted in adapt_groups(todo, adapt)]
    elif group_size <= 1:
        tasks = [(_align_one, (item, out, formats, readout)) for item in todo]
    else:
        tasks = [(_align_group, (g, out, formats, readout)) for g in length_groups(todo, group_size)]
    if jobs == 1 and in_process:
        # one worker: this process is it (no second start of torch, the models and CMUdict)
        _init_worker(settings)
        for fn, args in tasks:
            yield from _outcomes(fn(*args))
        return
    # spawn, not fork: a forked child of a process that already ran torch can deadlock in OpenMP
    pool = ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_init_worker, initargs=(settings, os.getpid()))
    try:
        futures = [pool.submit(fn, *args) for fn, args in tasks]
        for fut in as_completed(futures):
            yield from _outcomes(fut.result())
    except BaseException:  # Ctrl-C, SIGTERM, or the caller stopped: no waiting for the queue
        stop_pool(pool)
        raise
    pool.shutdown(wait=True)


def _outcomes(result: Outcome | list[Outcome]) -> list[Outcome]:
    """A task's outcomes: one file's, or a group's."""
    return result if isinstance(result, list) else [result]


def stop_pool(pool: ProcessPoolExecutor) -> None:
    """Cancel what has not started and end the workers now (a file being written stays whole:
    outputs appear by rename only)."""
    procs = list((getattr(pool, "_processes", None) or {}).values())  # the executor has no public handle on them
    pool.shutdown(wait=False, cancel_futures=True)
    for proc in procs:
        if proc.is_alive():
            proc.terminate()
    for proc in procs:
        proc.join(timeout=5)


def summarize_outcomes(outcomes: list[Outcome], wall: float) -> dict:
    """Counts, hours, speed and the corpus label delay, overall and per speaker."""

    def block(group: list[Outcome]) -> dict:
        aligned = [o for o in group if o.status == "aligned"]
        delays = np.array([d for o in aligned for d in o.delays_ms])
        hours = sum(o.duration for o in aligned) / 3600
        out = {"files": len(group), "aligned": len(aligned),
               "skipped": sum(o.status == "skipped" for o in group),
               "failed": sum(o.status == "failed" for o in group), "audio_hours": round(hours, 4),
               "files_with_suspects": sum(bool(o.suspects) for o in group)}
        if delays.size:
            out["label_delay_ms"] = {"mean": float(delays.mean()), "median": float(np.median(delays)),
                                     "p90": float(np.percentile(delays, 90)), "phones": int(delays.size)}
        return out

    summary = block(outcomes)
    aligned_hours = summary["audio_hours"]
    summary["wall_seconds"] = round(wall, 2)
    # speed both ways: times faster than real time, and the real time factor (processing / audio time)
    summary["x_real_time"] = round(aligned_hours * 3600 / wall, 1) if wall > 0 and aligned_hours else None
    summary["real_time_factor"] = round(wall / (aligned_hours * 3600), 4) if aligned_hours else None
    speakers = sorted({o.item.speaker for o in outcomes if o.item.speaker})
    if speakers:
        summary["speakers"] = {s: block([o for o in outcomes if o.item.speaker == s]) for s in speakers}
    return summary
