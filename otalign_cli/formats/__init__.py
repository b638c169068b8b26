"""Output formats: Praat TextGrid, NIST CTM, JSON; all written atomically."""
