"""``otalign plot``: a PNG whose pixels follow the alignment."""

import numpy as np
from matplotlib.image import imread

from conftest import run_cli
from otalign_cli.formats.textgrid import read_textgrid, write_textgrid


def test_plot_draws_the_alignment(example, tmp_path):
    wav, txt = example
    first, again = tmp_path / "a.png", tmp_path / "b.png"
    assert run_cli("plot", wav, txt, "-o", first).returncode == 0
    assert run_cli("plot", wav, txt, "-o", again).returncode == 0
    a, b = imread(first), imread(again)
    assert a.ndim == 3 and a.shape[0] > 400 and a.shape[1] > 1000
    assert np.array_equal(a, b)  # deterministic: same alignment, same pixels

    tg = tmp_path / "moved.TextGrid"
    assert run_cli("align", wav, txt, "-o", tg).returncode == 0
    tiers = read_textgrid(tg)
    tiers["words"] = [(s + 0.3, e + 0.3, w) for s, e, w in tiers["words"][:-1]]  # move the OT words
    write_textgrid(tg, tiers, 7.1)
    moved = tmp_path / "c.png"
    assert run_cli("plot", wav, txt, "-o", moved, "--textgrid", tg).returncode == 0
    c = imread(moved)
    assert c.shape == a.shape
    changed_rows = np.flatnonzero(np.abs(c - a).sum(axis=(1, 2)) > 0)
    assert changed_rows.size > 0
    assert changed_rows.min() < a.shape[0] * 0.2  # the change is in the top (OT words) tier


def test_plot_refuses_to_overwrite_and_reports_bad_input(example, tmp_path):
    wav, txt = example
    out = tmp_path / "x.png"
    out.write_bytes(b"keep")
    proc = run_cli("plot", wav, txt, "-o", out)
    assert proc.returncode == 1 and out.read_bytes() == b"keep" and "--overwrite" in proc.stderr
    proc = run_cli("plot", wav, txt, "-o", tmp_path / "y.png", "--textgrid", tmp_path / "none.TextGrid")
    assert proc.returncode == 1 and "none.TextGrid: TextGrid not found" in proc.stderr
    assert not (tmp_path / "y.png").exists()


def test_plot_window_is_checked(example, tmp_path):
    wav, txt = example
    proc = run_cli("plot", wav, txt, "-o", tmp_path / "a.png", "--start", "0", "--end", "90")
    assert proc.returncode == 2 and "at most 60 s" in proc.stderr and not (tmp_path / "a.png").exists()
    proc = run_cli("plot", wav, txt, "-o", tmp_path / "b.png", "--start", "10")
    assert proc.returncode == 2 and "past the end" in proc.stderr and not (tmp_path / "b.png").exists()
