"""Align a whole corpus (Montreal-Forced-Aligner layout) in worker processes or on Ray.

Every file is independent: a failure is recorded and the run goes on; outputs are written
atomically, so a run killed at any moment leaves only complete files, and running the same
command again skips every file whose outputs all exist.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import TYPE_CHECKING

from otalign_cli.batch.corpus import Item, Outcome, collisions, pending, work_units
from otalign_cli.batch.reports import recorded_suspects
from otalign_cli.batch.worker import WorkerSettings, align_group, align_one, init_worker
from otalign_cli.formats import OutputOptions
from otalign_cli.results import Suspect

if TYPE_CHECKING:
    from otalign_cli.alignment.suspect import SuspectSettings


def run_batch(items: list[Item], out: Path, formats: list[str], readout: str, jobs: int, overwrite: bool,
              model: Path | None = None, ctc_model: Path | None = None, with_ctc: bool = True,
              device: str = "cpu", backend: str = "local", address: str | None = None,
              group_size: int = 1, previous_suspects: dict[str, list[Suspect]] | None = None,
              *, passes: int, boundaries: bool = True, frames: bool = True, variants: bool = True,
              adapt: str = "none", dictionary: Path | None = None,
              output_options: OutputOptions | None = None, in_process: bool = True,
              threads: int = 1, suspects: SuspectSettings | None = None,
              settings_digest: str = "") -> Iterator[Outcome]:
    """Align ``items`` with ``jobs`` workers (processes, or Ray actors); yields each outcome as it completes.

    Files whose outputs all exist come first, as skipped, with the suspect stretches an earlier
    run recorded for them (``previous_suspects``, see ``read_suspects``). ``group_size`` files
    share batched encoder passes (``length_groups``). The default, 1, aligns each file alone on
    every device: batched, a file's times depend in the last float bits on which files share its
    batch (so a resumed run would not end with a straight run's bytes), and on an H100 batching
    saved only 14 % of the wall time (bench/cuda_parity.py).
    ``boundaries`` False leaves the OTTC model's boundary model out (``otalign batch --no-boundaries``),
    ``frames`` False its frame model (``--no-frames``);
    ``variants`` False keeps every word's first dictionary pronunciation (``--no-variants``).
    ``adapt`` "speaker" adapts the OTTC model to each speaker folder's files before aligning them
    (files at the top of the corpus have no known speaker and are aligned unadapted), "file" to
    each file alone (``adapt_groups``). ``dictionary`` is a pronunciation dictionary whose
    entries come before CMUdict's (``text.dictionary``); ``output_options`` shape the outputs;
    ``suspects`` is the suspect detector's operating point (None: the shipped one);
    ``settings_digest`` is written into each finished file's record (``reports.settings_digest``).
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
    units = work_units(todo, adapt, group_size)
    if backend == "ray":
        from otalign_cli.batch.on_ray import run_on_ray

        settings = WorkerSettings(model, ctc_model, with_ctc, device, 1, passes, boundaries, frames, variants, dictionary,
                                  output_options or OutputOptions(), overwrite, suspects, settings_digest)
        yield from run_on_ray(units, out, formats, readout, jobs, address, settings)
        return
    threads = max(1, threads)
    settings = WorkerSettings(model, ctc_model, with_ctc, device, threads, passes, boundaries, frames, variants,
                              dictionary, output_options or OutputOptions(), overwrite, suspects, settings_digest)
    tasks = [(align_one, (g[0], out, formats, readout)) if adapted is None
             else (align_group, (g, out, formats, readout, adapted)) for g, adapted in units]
    if jobs == 1 and in_process:
        # one worker: this process is it (no second start of torch, the models and CMUdict)
        init_worker(settings)
        for fn, args in tasks:
            yield from _outcomes(fn(*args))
        return
    # spawn, not fork: a forked child of a process that already ran torch can deadlock in OpenMP
    pool = ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("spawn"),
                               initializer=init_worker, initargs=(settings, os.getpid()))
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
