"""The Ray backend of ``otalign batch``: the same job on a Ray cluster, one model pair per actor.

Each actor loads the models once and aligns the files it is handed with the same code as a
local worker, so outputs are identical. Files are read and written by path: on a cluster the
corpus and output folders must be on a filesystem every node sees, and otalign must be
installed on every node. Ray is an optional extra: ``pip install 'otalign[ray]'``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from otalign_cli.batch.corpus import Item, Outcome
from otalign_cli.batch.worker import WorkerSettings, align_group, align_one, init_worker
from otalign_cli.errors import OtalignError


class _Aligner:
    """One worker: the models of ``init_worker`` living in an actor's process."""

    def __init__(self, settings: WorkerSettings) -> None:
        init_worker(settings)

    def align(self, item: Item, out: Path, formats: list[str], readout: str) -> Outcome:
        return align_one(item, out, formats, readout)

    def align_group(self, items: list[Item], out: Path, formats: list[str], readout: str,
                    adapt: bool) -> list[Outcome]:
        return align_group(items, out, formats, readout, adapt)


def run_on_ray(units: list[tuple[list[Item], bool | None]], out: Path, formats: list[str], readout: str, actors: int,
               address: str | None, settings: WorkerSettings) -> Iterator[Outcome]:
    """Yield outcomes as actors finish the units of work (``corpus.work_units``, the same as the
    local workers get: each file alone, unless adapted per speaker). ``address`` None starts a local Ray
    with ``actors`` CPUs."""
    try:
        import ray
        from ray.util import ActorPool
    except ImportError:
        raise OtalignError(None, "the Ray backend needs Ray: pip install 'otalign[ray]'") from None
    started_here = not ray.is_initialized()
    if started_here and address is None:
        from otalign_cli.reaper import start_reaper

        start_reaper()  # the local Ray's processes end with this run, even after SIGKILL
    if started_here:
        kwargs = {"address": address} if address else {"num_cpus": actors}
        ray.init(include_dashboard=False, log_to_driver=False, logging_level="error", **kwargs)
    try:
        on_gpu = str(settings.device).startswith("cuda")
        remote = ray.remote(num_cpus=1, num_gpus=1 if on_gpu else 0)(_Aligner)
        pool = ActorPool([remote.remote(settings) for _ in range(actors)])
        def submit(actor, unit):
            items, adapted = unit
            if adapted is None:
                return actor.align.remote(items[0], out, formats, readout)
            return actor.align_group.remote(items, out, formats, readout, adapted)

        for result in pool.map_unordered(submit, units):
            yield from result if isinstance(result, list) else [result]
    finally:
        if started_here:
            ray.shutdown()
