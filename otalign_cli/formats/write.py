"""Write one aligned file in every requested format, all or none."""

from __future__ import annotations

import os
from pathlib import Path

from otalign_cli.formats import REGISTRY, OutputContext, OutputOptions, Payload, output_paths
from otalign_cli.errors import OtalignError
from otalign_cli.formats.atomic import _umask, temp_beside
from otalign_cli.formats.tiers import Interval
from otalign_cli.results import FileResult


def textgrid_tiers(res: FileResult) -> dict[str, list[Interval]]:
    """words / phones (and ctc-words / ctc-phones) as the plot draws them."""
    from otalign_cli.formats.tiers import interval_tiers

    return interval_tiers(res, OutputContext())


def write_outputs(base: Path, formats: list[str], res: FileResult, models: dict[str, dict],
                  options: OutputOptions | None = None, *, replace: bool = True,
                  extra: list[tuple[Path, str]] | None = None) -> list[Path]:
    """Render every format, write each file to a temporary beside its target, then move them all
    into place; if anything fails, no output of this file is created or changed.

    ``replace`` False never replaces a file: one that appeared at an output path while the file
    was being aligned is an ``OtalignError``, and the outputs this call had already put in place
    are taken back. ``extra`` files (path, text) are committed with the outputs, always replacing
    (batch's per-file record): first when no output is replaced, last when outputs are, so a kill
    between the two never leaves outputs under a record that describes other ones (a record
    without outputs is aligned again; replaced outputs under the old record are refused on resume).
    """
    ctx = OutputContext(models, options or OutputOptions(), base)
    files: list[tuple[Path, Payload]] = []
    for fmt in formats:
        files += zip(output_paths(base, fmt), REGISTRY[fmt].render(res, ctx))
    outputs = [target for target, _ in files]
    files = files + list(extra or []) if replace else list(extra or []) + files
    temps: list[tuple[Path, Path]] = []
    created: list[Path] = []
    current = base
    try:
        for target, payload in files:
            current = target
            tmp = temp_beside(target)
            temps.append((target, tmp))
            if isinstance(payload, str):
                tmp.write_text(payload, encoding="utf-8")
            else:
                payload(tmp)
            os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; outputs get the usual permissions
        for target, tmp in temps:
            current = target
            if replace or target not in outputs:
                os.replace(tmp, target)
            else:
                _create(tmp, target)
                created.append(target)
    except BaseException as err:
        for target in created:
            target.unlink(missing_ok=True)
        if isinstance(err, OSError):  # read-only, full, a folder in the way, a name too long, ...
            raise OtalignError(current, f"cannot write output ({err.strerror or err})") from None
        raise
    finally:
        for _, tmp in temps:
            try:
                tmp.unlink(missing_ok=True)
            except OSError:
                pass
    return outputs


def _create(tmp: Path, target: Path) -> None:
    """Move ``tmp`` to ``target`` only if no file is there: a hard link fails rather than replace."""
    try:
        os.link(tmp, target)
    except FileExistsError:
        raise OtalignError(target, "output appeared while aligning; not replaced (use --overwrite)") from None
    except OSError:  # a file system without hard links: check, then move (a small window remains)
        if target.exists():
            raise OtalignError(target, "output appeared while aligning; not replaced (use --overwrite)") from None
        os.replace(tmp, target)
