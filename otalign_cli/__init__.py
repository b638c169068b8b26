"""otalign: a forced aligner for speech built on one-dimensional optimal transport (OTTC).

The library API, what ``otalign align`` and ``otalign batch`` run::

    import otalign_cli as otalign

    models = otalign.load_models()                      # the bundled English models
    result = otalign.align("a.wav", "a.txt", models)    # a FileResult: .ot.words, .ot.phones, .ctc, .stats
    otalign.write(result, "out/a", ["textgrid", "json"], models)

Importing this module is cheap (no torch until a function is called).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from otalign_cli.errors import OtalignError
    from otalign_cli.formats import OutputOptions
    from otalign_cli.models import Models
    from otalign_cli.results import FileResult

__version__ = "0.1.0"
__all__ = ["align", "align_many", "load_models", "write"]


def load_models(model: str | Path | None = None, ctc_model: str | Path | None = None, with_ctc: bool = True,
                device: str = "auto", boundaries: bool = True, frames: bool = True) -> Models:
    """The OTTC model (default: the bundled English one) and, ``with_ctc``, its CTC twin;
    ``boundaries`` / ``frames`` False leave its boundary / frame model out. ``device`` as the
    CLI's ``--device``: ``auto`` is a CUDA GPU where one is present, else the CPU."""
    from otalign_cli.devices import resolve_device
    from otalign_cli.models import load_models as load

    return load(Path(model) if model else None, Path(ctc_model) if ctc_model else None, with_ctc,
                resolve_device(device), boundaries, frames)


def _models_and_device(models: Models | None, device: str | None) -> tuple[Models, str]:
    """The models to align with and the device they run on: where ``models`` were loaded, or
    ``device`` (default ``auto``, as the CLI's) when they are loaded here; so ``align`` gives the
    CLI's times with the defaults. A ``device`` other than the given models' is refused."""
    from otalign_cli.devices import resolve_device

    if models is None:
        models = load_models(device=device or "auto")
    there = str(next(models.ottc.parameters()).device)
    if device is not None and resolve_device(device) != there.split(":")[0]:
        raise ValueError(f"the models are on {there}, not {device}: load them with load_models(device={device!r})")
    return models, there


def align(audio: str | Path, transcript: str | Path, models: Models | None = None, *, readout: str = "refine",
          passes: int = 2, variants: bool = True, dictionary: str | Path | None = None,
          device: str | None = None, suspect_threshold: float | None = None,
          suspect_min_seconds: float | None = None) -> FileResult:
    """Align one recording with its transcript (plain text, or a TextGrid with a tier per speaker);
    raises ``OtalignError`` naming the file for bad input. ``dictionary`` is an MFA-format
    pronunciation dictionary looked up before CMUdict; ``suspect_threshold`` and
    ``suspect_min_seconds`` set the suspect detector as the CLI's options of those names do."""
    from otalign_cli.alignment.suspect import SuspectSettings
    from otalign_cli.pipeline import align_file
    from otalign_cli.text.dictionary import read_dictionary

    models, device = _models_and_device(models, device)
    lexicon = read_dictionary(Path(dictionary), models.ottc.cfg.language) if dictionary else None
    return align_file(Path(audio), Path(transcript), models.ottc, models.ctc, readout, device, passes, variants,
                      lexicon, suspects=SuspectSettings(suspect_threshold, suspect_min_seconds))


def align_many(pairs: Iterable[tuple[str | Path, str | Path]], models: Models | None = None, *,
               readout: str = "refine", passes: int = 2, variants: bool = True,
               dictionary: str | Path | None = None, adapt: bool = False,
               device: str | None = None, suspect_threshold: float | None = None,
               suspect_min_seconds: float | None = None) -> list[FileResult | OtalignError]:
    """Align several (audio, transcript) pairs with their encoder passes batched by length (worth it
    on a GPU); per pair, its result or the ``OtalignError`` it raised. ``adapt`` first tunes the
    OTTC model's heads on these files' transcripts (take them to be one speaker's)."""
    from otalign_cli.adapt import AdaptConfig
    from otalign_cli.alignment.suspect import SuspectSettings
    from otalign_cli.pipeline import align_files
    from otalign_cli.text.dictionary import read_dictionary

    models, device = _models_and_device(models, device)
    lexicon = read_dictionary(Path(dictionary), models.ottc.cfg.language) if dictionary else None
    return align_files([(Path(a), Path(t)) for a, t in pairs], models.ottc, models.ctc, readout, device, passes,
                       variants, AdaptConfig() if adapt else None, lexicon,
                       suspects=SuspectSettings(suspect_threshold, suspect_min_seconds))


def write(result: FileResult, base: str | Path, formats: Sequence[str], models: Models | None = None,
          options: OutputOptions | None = None, overwrite: bool = True) -> list[Path]:
    """Write ``result`` in each of ``formats`` (``formats.REGISTRY``) beside the output stem ``base``
    (``out/a`` gives ``out/a.TextGrid`` ...), all or none; the paths written. ``models`` name the
    models in the outputs' provenance."""
    from otalign_cli.formats.write import write_outputs
    summaries = models.summaries() if models is not None else {}
    return write_outputs(Path(base), list(formats), result, summaries, options, replace=overwrite)
