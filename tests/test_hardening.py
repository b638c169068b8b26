"""Batch under signals and hostile file layouts: workers die with the run, Ctrl-C and SIGTERM
stop it cleanly and resumably, existing outputs and other people's files are left alone."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import EXAMPLE_TXT, EXAMPLE_WAV, run_cli
from otalign_cli.errors import OtalignError


def corpus_of(root: Path, n: int) -> Path:
    root.mkdir(parents=True)
    for k in range(n):
        shutil.copy(EXAMPLE_WAV, root / f"f{k:02d}.wav")
        shutil.copy(EXAMPLE_TXT, root / f"f{k:02d}.txt")
    return root


def descendants(pid: int) -> set[int]:
    """Processes whose parent chain leads to ``pid`` (or to init after ``pid`` died: then by session)."""
    out = set()
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                fields = (d / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[3]) == pid:  # session id: the run was started in a new session led by pid
                out.add(int(d.name))
    return out - {pid}


def start_batch(corpus: Path, out: Path, *args: str) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-m", "otalign_cli", "batch", str(corpus), str(out), *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.time() + 300
    while time.time() < deadline and not list(out.glob("*.TextGrid")):
        time.sleep(0.05)
    assert list(out.glob("*.TextGrid")), "the run should have aligned a file"
    return proc


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("backend", ["local", "ray"])
def test_workers_die_with_a_killed_run(tmp_path, backend):
    """Local workers by PR_SET_PDEATHSIG; a local Ray's GCS, raylet, agents and actors by the reaper."""
    proc = start_batch(corpus_of(tmp_path / "c", 30), tmp_path / "out", "--jobs", "2", "--backend", backend)
    assert descendants(proc.pid), "the run has workers"
    os.kill(proc.pid, signal.SIGKILL)  # the parent only, as the OOM killer would
    proc.wait()
    deadline = time.time() + 20
    while time.time() < deadline and descendants(proc.pid):
        time.sleep(0.2)
    assert not descendants(proc.pid), "no process of the run may outlive it"


@pytest.mark.parametrize("sig, code, name", [(signal.SIGINT, 130, "SIGINT"), (signal.SIGTERM, 143, "SIGTERM")])
def test_signals_stop_the_run_cleanly_and_it_resumes(tmp_path, sig, code, name):
    corpus = corpus_of(tmp_path / "c", 20)
    out = tmp_path / "out"
    proc = start_batch(corpus, out, "--jobs", "1")
    t0 = time.time()
    os.kill(proc.pid, sig)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == code and time.time() - t0 < 30
    assert "Traceback" not in err and f"stopped by {name}" in err and "run the same command again" in err
    summary = json.loads((out / "summary.json").read_text())
    assert summary["stopped_by"] == name and 0 < summary["not_done"] < 20
    assert (out / "errors.tsv").is_file() and not list(out.rglob("*.otalign-tmp"))
    again = run_cli("batch", corpus, out, "--jobs", "1")
    assert again.returncode == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["aligned"] + summary["skipped"] == 20 and summary["skipped"] == 20 - summary["aligned"] > 0


def test_adding_a_format_leaves_existing_outputs_alone(tmp_path):
    corpus = corpus_of(tmp_path / "c", 1)
    out = tmp_path / "out"
    assert run_cli("batch", corpus, out).returncode == 0
    edited = out / "f00.TextGrid"
    edited.write_text(edited.read_text().replace('"And"', '"AND (checked)"'))  # a phonetician's correction
    before = edited.read_bytes()
    assert run_cli("batch", corpus, out, "-f", "textgrid", "-f", "json").returncode == 0
    assert edited.read_bytes() == before and (out / "f00.json").is_file()
    assert run_cli("batch", corpus, out, "-f", "textgrid", "--overwrite").returncode == 0
    assert edited.read_bytes() != before


def test_outputs_that_would_collide_are_reported(tmp_path):
    corpus = tmp_path / "c"
    corpus.mkdir()
    for name in ("a.wav", "a.flac", "c.wav", "c.phones.wav", "ok.wav"):
        shutil.copy(EXAMPLE_WAV, corpus / name)
    for stem in ("a", "c", "c.phones", "ok"):
        shutil.copy(EXAMPLE_TXT, corpus / f"{stem}.txt")
    out = tmp_path / "out"
    proc = run_cli("batch", corpus, out, "-f", "ctm", "--no-ctc")
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    errors = dict(line.split("\t") for line in (out / "errors.tsv").read_text().splitlines()[1:])
    assert set(errors) == {"a.wav", "a.flac", "c.wav", "c.phones.wav"}
    assert all("would collide" in reason for reason in errors.values())
    assert (out / "ok.ctm").is_file() and not (out / "a.ctm").exists()


def test_batch_cleans_only_its_own_temporaries(tmp_path):
    corpus = corpus_of(tmp_path / "c", 1)
    out = tmp_path / "out"
    out.mkdir()
    theirs = out / ".editor-swap.tmp"
    theirs.write_text("someone else's")
    ours = out / ".f00.TextGrid.abcd1234.otalign-tmp"  # what a killed otalign run leaves
    ours.write_text("partial")
    assert run_cli("batch", corpus, out).returncode == 0
    assert theirs.read_text() == "someone else's" and not ours.exists()


def test_an_output_that_appears_meanwhile_is_not_replaced(tmp_path):
    from otalign_cli.formats.write import write_outputs
    from otalign_cli.results import AlignStats, Alignment, FileResult, Segment, Utterance

    res = FileResult(tmp_path / "x.wav", tmp_path / "x.txt", 1.0, "refine",
                     Alignment([Segment("hi", 0.1, 0.5, 0.9, "hi")], [Segment("HH", 0.1, 0.3), Segment("AY", 0.3, 0.5)],
                               [0, 0]), None, AlignStats(0.0, 2, 1), {}, [Utterance("", 0.0, 1.0, "hi")])
    base = tmp_path / "x"
    (tmp_path / "x.json").write_text("made by someone else meanwhile")
    with pytest.raises(OtalignError, match="not replaced"):
        write_outputs(base, ["textgrid", "json"], res, {}, replace=False)
    assert (tmp_path / "x.json").read_text() == "made by someone else meanwhile"
    assert not (tmp_path / "x.TextGrid").exists() and not list(tmp_path.glob(".*otalign-tmp"))  # all or nothing
    assert write_outputs(base, ["textgrid", "json"], res, {}, replace=True) == [base.with_suffix(".TextGrid"),
                                                                               base.with_suffix(".json")]


def test_plot_never_writes_over_its_input(example):
    wav, txt = example
    before = wav.read_bytes()
    proc = run_cli("plot", wav, txt, "-o", wav, "--overwrite")
    assert proc.returncode == 1 and "would overwrite an input" in proc.stderr and wav.read_bytes() == before


def test_a_model_of_other_features_is_refused(tmp_path):
    from otalign_cli.checkpoint import load_checkpoint, save_checkpoint
    from otalign_cli.errors import OtalignError
    from otalign_cli.features import FeatureConfig
    from otalign_cli.model import AlignmentModel, ModelConfig
    from otalign_cli.train import vocab_for

    model = AlignmentModel(ModelConfig("ottc", vocab_for("ottc")))
    save_checkpoint(tmp_path / "same.pt", model, "same", {})
    save_checkpoint(tmp_path / "other.pt", model, "other", {}, features=FeatureConfig(frame_shift_ms=12.5))
    assert load_checkpoint(tmp_path / "same.pt")[0].cfg.kind == "ottc"
    with pytest.raises(OtalignError, match=r"a model of other features \(.*'frame_shift_ms': 12.5"):
        load_checkpoint(tmp_path / "other.pt")
