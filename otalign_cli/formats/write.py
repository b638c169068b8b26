"""Write one aligned file in every requested format, all or none."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from otalign_cli.formats import REGISTRY, OutputContext, OutputOptions, Payload, output_paths
from otalign_cli.formats.atomic import _umask
from otalign_cli.formats.tiers import Interval
from otalign_cli.pipeline import FileResult


def textgrid_tiers(res: FileResult) -> dict[str, list[Interval]]:
    """words / phones (and ctc-words / ctc-phones) as the plot draws them."""
    from otalign_cli.formats.tiers import interval_tiers

    return interval_tiers(res, OutputContext())


def write_outputs(base: Path, formats: list[str], res: FileResult, models: dict[str, dict],
                  options: OutputOptions | None = None) -> list[Path]:
    """Render every format, write each file to a temporary beside its target, then move them all
    into place; if anything fails, no output of this file is created or changed."""
    ctx = OutputContext(models, options or OutputOptions(), base)
    files: list[tuple[Path, Payload]] = []
    for fmt in formats:
        files += zip(output_paths(base, fmt), REGISTRY[fmt].render(res, ctx))
    temps: list[tuple[Path, str]] = []
    try:
        for target, payload in files:
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
            os.close(fd)
            temps.append((target, tmp))
            if isinstance(payload, str):
                Path(tmp).write_text(payload, encoding="utf-8")
            else:
                payload(Path(tmp))
            os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; outputs get the usual permissions
        for target, tmp in temps:
            os.replace(tmp, target)
    finally:
        for _, tmp in temps:
            if os.path.exists(tmp):
                os.unlink(tmp)
    return [target for target, _ in files]
