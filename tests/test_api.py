"""The library API in ``otalign_cli/__init__.py``: what a user's script calls instead of the CLI."""

import sys

import pytest
from praatio import textgrid as ptg

from conftest import EXAMPLE_TXT, EXAMPLE_WAV


def test_importing_the_package_does_not_import_torch():
    import subprocess

    code = "import sys, otalign_cli; print('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "False"


@pytest.fixture(scope="module")
def models():
    import otalign_cli as otalign

    return otalign.load_models()


def test_align_and_write_give_what_the_cli_gives(models, tmp_path):
    import otalign_cli as otalign
    from conftest import run_cli

    res = otalign.align(EXAMPLE_WAV, EXAMPLE_TXT, models)
    assert res.ot.words[0].label.lower() == EXAMPLE_TXT.read_text().split()[0].lower().strip(",.")
    written = otalign.write(res, tmp_path / "api" / "dashwood", ["textgrid", "json"], models)
    assert sorted(p.name for p in written) == ["dashwood.TextGrid", "dashwood.json"]
    proc = run_cli("align", EXAMPLE_WAV, EXAMPLE_TXT, "-o", f"{tmp_path / 'cli'}/", "-q")
    assert proc.returncode == 0, proc.stderr
    api = ptg.openTextgrid(str(tmp_path / "api" / "dashwood.TextGrid"), includeEmptyIntervals=False)
    cli = ptg.openTextgrid(str(tmp_path / "cli" / "dashwood.TextGrid"), includeEmptyIntervals=False)
    for tier in ("words", "phones", "ctc-words", "ctc-phones"):
        assert api.getTier(tier).entries == cli.getTier(tier).entries


def test_align_many_reports_a_bad_pair_and_aligns_the_rest(models, tmp_path):
    import otalign_cli as otalign
    from otalign_cli.errors import OtalignError

    empty = tmp_path / "empty.txt"
    empty.write_text("   \n")
    good, bad = otalign.align_many([(EXAMPLE_WAV, EXAMPLE_TXT), (EXAMPLE_WAV, empty)], models)
    assert good.ot.phones and isinstance(bad, OtalignError) and "empty.txt" in str(bad)


def test_align_runs_where_its_models_are_and_refuses_another_device(models):
    import otalign_cli as otalign

    on = str(next(models.ottc.parameters()).device)
    assert otalign.align(EXAMPLE_WAV, EXAMPLE_TXT, models, device=on.split(":")[0]).ot.words
    other = "cpu" if on.startswith("cuda") else "cuda"  # without a GPU, asking for one is refused as well
    with pytest.raises(ValueError, match="cuda|cpu"):
        otalign.align(EXAMPLE_WAV, EXAMPLE_TXT, models, device=other)
