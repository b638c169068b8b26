"""The one batch worker: loads the models once, then aligns and writes files as ``otalign align``
would. Local worker processes and Ray actors (``batch.on_ray``) both run these functions."""

from __future__ import annotations

import ctypes
import json
import os
import signal
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from otalign_cli.batch.corpus import WHERE_TRANSCRIPTS, Item, Outcome, output_base
from otalign_cli.batch.reports import record_path
from otalign_cli.formats import OutputOptions

if TYPE_CHECKING:
    from otalign_cli.alignment.suspect import SuspectSettings


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
    frames: bool = True
    variants: bool = True
    dictionary: Path | None = None
    output_options: OutputOptions = OutputOptions()
    overwrite: bool = False  # replace existing outputs; otherwise only missing formats are written
    suspects: SuspectSettings | None = None  # the suspect detector's operating point (None: the shipped one)
    settings_digest: str = ""  # the run's settings (``reports.settings_digest``), kept in each file's record


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


def init_worker(settings: WorkerSettings, parent: int | None = None) -> None:
    if parent is not None:
        die_with_parent(parent)
    import torch

    from otalign_cli.models import load_models
    from otalign_cli.text.dictionary import read_dictionary

    torch.set_num_threads(settings.threads)
    m = load_models(settings.model, settings.ctc_model, settings.with_ctc, settings.device, settings.boundaries,
                    settings.frames)
    lexicon = read_dictionary(settings.dictionary, m.ottc.cfg.language) if settings.dictionary is not None else None
    _WORKER.update(ottc=m.ottc, ctc=m.ctc, device=settings.device, passes=settings.passes, variants=settings.variants,
                   lexicon=lexicon, output_options=settings.output_options, overwrite=settings.overwrite,
                   suspects=settings.suspects, settings_digest=settings.settings_digest,
                   models=m.summaries())


def _internal_error(item: Item, err: Exception) -> Outcome:
    return Outcome(item, "failed", f"{item.audio}: internal error ({type(err).__name__}: {str(err)[:200]})")


def _no_transcript(item: Item) -> Outcome:
    return Outcome(item, "failed", f"{item.audio}: no transcript ({WHERE_TRANSCRIPTS})")


def _write(item: Item, res, out: Path, formats: list[str]) -> Outcome:
    """Write one file's outputs; its outcome, with the label delays and suspect stretches."""
    from otalign_cli.errors import OtalignError
    from otalign_cli.formats.write import write_outputs

    from otalign_cli.formats import output_paths

    base = output_base(out, item)
    overwrite = _WORKER.get("overwrite", False)
    # without --overwrite, formats already written (perhaps edited by hand since) are left alone
    missing = [f for f in formats if overwrite or not all(p.exists() for p in output_paths(base, f))]
    suspects = [x._asdict() for x in res.stats.suspect]
    try:
        write_outputs(base, missing, res, _WORKER["models"], _WORKER["output_options"], replace=overwrite,
                      extra=[(record_path(out, item), json.dumps({"suspects": suspects,
                                                                  "settings_digest": _WORKER.get("settings_digest", "")}) + "\n")])
    except OtalignError as err:
        return Outcome(item, "failed", str(err))
    except Exception as err:  # one broken file must never stop the corpus
        return _internal_error(item, err)
    delays = [(c.start - o.start) * 1000 for c, o in zip(res.ctc.phones, res.ot.phones)] if res.ctc else []
    return Outcome(item, "aligned", duration=res.duration, seconds=res.stats.seconds, delays_ms=delays,
                   suspects=res.stats.suspect)


def align_one(item: Item, out: Path, formats: list[str], readout: str) -> Outcome:
    from otalign_cli.errors import OtalignError
    from otalign_cli.pipeline import align_file

    if item.transcript is None:
        return _no_transcript(item)
    try:
        res = align_file(item.audio, item.transcript, _WORKER["ottc"], _WORKER["ctc"], readout=readout,
                         passes=_WORKER["passes"], variants=_WORKER["variants"],
                         device=_WORKER["device"], lexicon=_WORKER["lexicon"], suspects=_WORKER["suspects"])
    except OtalignError as err:
        return Outcome(item, "failed", str(err))
    except Exception as err:  # one broken file must never stop the corpus
        return _internal_error(item, err)
    return _write(item, res, out, formats)


def align_group(items: list[Item], out: Path, formats: list[str], readout: str,
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
                              lexicon=_WORKER["lexicon"], suspects=_WORKER["suspects"])
    except Exception:  # something no single file explains: fall back to one by one, unadapted
        return [align_one(item, out, formats, readout) for item in items]
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
