"""otalign: a forced aligner for speech built on one-dimensional optimal transport (OTTC)."""

__version__ = "0.1.0"
