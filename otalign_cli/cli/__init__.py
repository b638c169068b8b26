"""The ``otalign`` command line (Typer + rich): one module per group of verbs, sharing
``common`` (the app, consoles, one-line errors, option types declared once)."""

from otalign_cli.cli import align, corpus, training  # noqa: F401  (the verbs register on the app)
from otalign_cli.cli.align import report_table  # noqa: F401
from otalign_cli.cli.common import app, main  # noqa: F401

__all__ = ["app", "main"]
