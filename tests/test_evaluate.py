"""``otalign evaluate`` on TextGrids with known differences."""

import json

import pytest

from conftest import run_cli
from otalign_cli.evaluate import edit_alignment, evaluate_dirs, match_tokens
from otalign_cli.formats.textgrid import write_textgrid

REF = {"words": [(0.10, 0.50, "the"), (0.50, 1.00, "cat"), (1.20, 1.60, "sat")],
       "phones": [(0.10, 0.20, "DH"), (0.20, 0.50, "AH"), (0.50, 0.60, "K"), (0.60, 0.90, "AE"), (0.90, 1.00, "T"),
                  (1.20, 1.30, "S"), (1.30, 1.50, "AE"), (1.50, 1.60, "T")]}


def shifted(tier, by):
    return [(s + by, e + by, lab) for s, e, lab in tier]


@pytest.fixture
def dirs(tmp_path):
    ref, hyp = tmp_path / "ref" / "spk1", tmp_path / "hyp" / "spk1"
    write_textgrid(ref / "a.TextGrid", REF, 2.0)
    write_textgrid(ref / "b.TextGrid", REF, 2.0)
    words = [(0.11, 0.50, "The"), (0.53, 1.00, "cat"), (1.20, 1.60, "sat")]  # errors 10, 0, 30, 0, 0, 0 ms
    phones = [(0.10, 0.20, "DH"), (0.20, 0.50, "IY")] + REF["phones"][2:]  # a variant: only IY is unmatched
    write_textgrid(hyp / "a.TextGrid", {"words": words, "phones": phones,
                                        "ctc-words": shifted(REF["words"], 0.04),
                                        "ctc-phones": shifted(REF["phones"], 0.04)}, 2.0)
    return tmp_path / "ref", tmp_path / "hyp"


def levenshtein(a, b):
    row = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        prev, row = row, [i] + [0] * len(b)
        for j, y in enumerate(b, 1):
            row[j] = min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (x != y))
    return row[-1]


def test_edit_alignment_is_a_minimum_edit_path():
    import random

    rng = random.Random(0)
    for _ in range(300):
        a = [rng.choice("abcd") for _ in range(rng.randint(0, 14))]
        b = [rng.choice("abcd") for _ in range(rng.randint(0, 14))]
        pairs = edit_alignment(a, b)
        assert all(a[i] == b[j] for i, j in pairs)
        # cost of the path: between matches, a stretch of da and db tokens costs max(da, db)
        cost, last = 0, (-1, -1)
        for i, j in pairs + [(len(a), len(b))]:
            cost += max(i - last[0] - 1, j - last[1] - 1)
            last = (i, j)
        assert cost == levenshtein(a, b)


def test_matching_skips_only_the_variant():
    hyp = [(0, 1, "DH"), (1, 2, "IY"), (2, 3, "K")]
    assert match_tokens([(0, 1, "DH"), (1, 2, "AH0"), (2, 3, "K")], hyp, "phones") == [(0, 0), (2, 2)]


def test_scores_known_differences(dirs):
    res = evaluate_dirs(*dirs)
    assert res["missing"] and res["missing"][0].endswith("b.TextGrid")
    words = res["corpus"]["words->words"]
    assert words["matched_pct"] == 100.0
    assert words["mean_ms"] == pytest.approx(40 / 6)
    assert words["within_10ms"] == pytest.approx(100 * 5 / 6) and words["within_50ms"] == 100.0
    assert words["delay_mean_ms"] == pytest.approx(40 / 3)
    phones = res["corpus"]["phones->phones"]
    assert phones["matched_pct"] == pytest.approx(100 * 7 / 8) and phones["mean_ms"] == pytest.approx(0.0, abs=1e-6)
    ctc = res["corpus"]["phones->ctc-phones"]
    assert ctc["delay_mean_ms"] == pytest.approx(40.0) and ctc["within_50ms"] == 100.0 and ctc["within_20ms"] == 0.0


def test_cli_tables_json_and_exit_code(dirs):
    proc = run_cli("evaluate", *dirs)
    assert proc.returncode == 1  # b.TextGrid has no hypothesis
    assert "spk1/b.TextGrid: no hypothesis TextGrid" in proc.stderr and "Traceback" not in proc.stderr
    assert "CTC" in proc.stdout and "spk1/a.TextGrid" in proc.stdout
    (dirs[0] / "spk1" / "b.TextGrid").unlink()
    proc = run_cli("evaluate", *dirs, "--json")
    assert proc.returncode == 0
    data = json.loads(proc.stdout)
    assert data["corpus"]["words->ctc-words"]["delay_median_ms"] == pytest.approx(40.0)
    assert [f["file"] for f in data["files"]] == ["spk1/a.TextGrid"]


def test_unreadable_hypothesis_is_reported(dirs):
    (dirs[1] / "spk1" / "b.TextGrid").write_text("not a textgrid")
    proc = run_cli("evaluate", *dirs)
    assert proc.returncode == 1 and "b.TextGrid: cannot read TextGrid" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_file_sums_give_the_corpus_figures_and_bootstrap_brackets_them():
    import numpy as np

    from otalign_cli.metrics import RATIOS, bootstrap_intervals, boundary_errors, file_sums, ratios, summarize

    rng = np.random.default_rng(0)
    errors = []
    for k in range(30):  # files of different lengths and error levels, as a corpus has
        ref = np.cumsum(rng.uniform(0.03, 0.15, size=(5 + k, 1)), axis=0)
        ref = np.hstack([ref, ref + 0.05])
        errors.append(boundary_errors(ref.tolist(), (ref + rng.normal(0, 0.003 * (1 + k % 5), ref.shape)).tolist()))
    total = sum(file_sums(e) for e in errors)
    whole = summarize(errors)
    for name, value in ratios(total).items():  # the same figures the table prints, from the sums
        assert value == pytest.approx(whole[name])
    sums = np.stack([file_sums(e) for e in errors])
    ci = bootstrap_intervals(sums)
    assert set(ci) == set(RATIOS)
    for name, (lo, hi) in ci.items():
        assert lo <= whole[name] <= hi
    assert ci["mean_ms"][1] - ci["mean_ms"][0] > 0.1  # files differ, so the figure is uncertain
    same = bootstrap_intervals(sums, sums)  # an aligner against itself: no difference at all
    assert all(lo == hi == 0.0 for lo, hi in same.values())
    few = bootstrap_intervals(sums[:6])  # fewer files, wider interval
    assert few["mean_ms"][1] - few["mean_ms"][0] > ci["mean_ms"][1] - ci["mean_ms"][0]


def test_cli_intervals_and_a_paired_comparison(tmp_path):
    ref, hyp, other = tmp_path / "ref", tmp_path / "hyp", tmp_path / "other"
    for k in range(6):  # six files, each a little late by its own amount
        write_textgrid(ref / f"f{k}.TextGrid", REF, 2.0)
        write_textgrid(hyp / f"f{k}.TextGrid", {t: shifted(REF[t], 0.004 * k) for t in REF}, 2.0)
        # another aligner: 20 ms later still, and its file f5 unreadable
        write_textgrid(other / f"f{k}.TextGrid", {t: shifted(REF[t], 0.004 * k + 0.02) for t in REF}, 2.0)
    (other / "f5.TextGrid").write_text("not a textgrid")
    proc = run_cli("evaluate", ref, hyp, "--ci", "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    lo, hi = data["ci95"]["words->words"]["mean_ms"]
    mean = data["corpus"]["words->words"]["mean_ms"]
    assert mean == pytest.approx(10.0) and lo < mean < hi
    assert 0.0 <= lo and hi <= 20.0  # the files' own means run from 0 to 20 ms
    proc = run_cli("evaluate", ref, hyp, "--against", other, "--json")
    assert proc.returncode == 0 and "f5.TextGrid: cannot read TextGrid" in proc.stderr
    versus = json.loads(proc.stdout)["against"]["tiers"]
    words = versus["words->words"]
    assert words["files"] == 5 and words["difference"]["mean_ms"] == pytest.approx(-20.0)
    assert words["ci95"]["mean_ms"] == pytest.approx((-20.0, -20.0))  # the same gap in every file
    assert words["difference"]["delay_mean_ms"] == pytest.approx(-20.0)
    proc = run_cli("evaluate", ref, hyp, "--ci", "--against", other)
    assert proc.returncode == 0 and "minus" in proc.stdout and "95 % interval" in proc.stdout
    proc = run_cli("evaluate", tmp_path / "ref", hyp, "--against", tmp_path / "nowhere")
    assert proc.returncode == 1 and "nowhere: not a folder" in proc.stderr and "Traceback" not in proc.stderr


def test_too_few_files_get_no_interval(dirs):
    (dirs[0] / "spk1" / "b.TextGrid").unlink()
    proc = run_cli("evaluate", *dirs, "--ci", "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["ci95"] == {}  # one file: resampling it says nothing
    assert data["corpus"]["words->words"]["mean_ms"] == pytest.approx(40 / 6)
