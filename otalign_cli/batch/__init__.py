"""``otalign batch``: a corpus aligned file by file in worker processes or Ray actors.

``corpus`` finds the files and plans the work, ``worker`` aligns and writes them (the same code in
a local process and a Ray actor), ``run`` drives the workers, ``reports`` writes what a run leaves
beside the outputs, ``on_ray`` is the Ray backend.
"""

from otalign_cli.batch.corpus import (ADAPT_MODES, AUDIO_EXTS, TRANSCRIPT_EXTS, Item, Outcome, adapt_groups,
                                      discover, length_groups, output_base, outputs_of)
from otalign_cli.batch.reports import (SUSPECTS_HEADER, made_otherwise, read_suspects, record_settings,
                                       remove_stale_temporaries, resume_refusal, settings_changes, settings_digest,
                                       suspect_rows, summarize_outcomes, tsv_field, tsv_value)
from otalign_cli.batch.run import run_batch, stop_pool
from otalign_cli.batch.worker import WorkerSettings, die_with_parent

__all__ = ["ADAPT_MODES", "AUDIO_EXTS", "TRANSCRIPT_EXTS", "Item", "Outcome", "SUSPECTS_HEADER", "WorkerSettings",
           "adapt_groups", "die_with_parent", "discover", "length_groups", "output_base", "outputs_of",
           "made_otherwise", "read_suspects", "record_settings", "remove_stale_temporaries", "resume_refusal",
           "run_batch",
           "settings_changes", "settings_digest", "stop_pool", "suspect_rows",
           "summarize_outcomes", "tsv_field", "tsv_value"]
