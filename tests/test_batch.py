"""``otalign batch`` on a corpus with broken files mixed in, and the kill-and-resume guarantee."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import soxr
import torch

from conftest import EXAMPLE_TXT, EXAMPLE_WAV, run_cli


def make_messy_corpus(root):
    audio, sr = sf.read(EXAMPLE_WAV, dtype="float32")
    text = EXAMPLE_TXT.read_text()
    (root / "spk1" / "session 1").mkdir(parents=True)
    (root / "spk2").mkdir()
    shutil.copy(EXAMPLE_WAV, root / "spk1" / "a.wav")
    (root / "spk1" / "a.txt").write_text(text)
    narrow = soxr.resample(audio, sr, 8000)
    sf.write(root / "spk1" / "session 1" / "b.flac", np.stack([narrow, narrow * 0.5], axis=1), 8000)
    (root / "spk1" / "session 1" / "b.lab").write_text(text.upper().replace("MR.", "Mr"))
    (root / "spk2" / "c.wav").write_bytes(b"RIFF not really a wave file" * 10)
    (root / "spk2" / "c.txt").write_text(text)
    sf.write(root / "spk2" / "d.wav", np.zeros(0, np.float32), 16000)
    (root / "spk2" / "d.txt").write_text(text)
    shutil.copy(EXAMPLE_WAV, root / "spk2" / "e.wav")  # no transcript
    shutil.copy(EXAMPLE_WAV, root / "spk2" / "f.wav")
    (root / "spk2" / "f.txt").write_text(" \n")
    sf.write(root / "spk2" / "g.wav", audio[: sr // 5], sr)
    (root / "spk2" / "g.txt").write_text(text)
    shutil.copy(EXAMPLE_WAV, root / "spk2" / "h.wav")
    (root / "spk2" / "h.txt").write_text(text.replace("John", "\u0414\u0436\u043e\u043d"))
    return {"spk2/c.wav": "cannot read audio", "spk2/d.wav": "empty", "spk2/e.wav": "no transcript",
            "spk2/f.wav": "transcript is empty", "spk2/g.wav": "too short", "spk2/h.wav": "cannot pronounce"}


def test_messy_corpus_aligns_the_good_and_reports_the_bad(tmp_path):
    corpus, out = tmp_path / "corpus", tmp_path / "out"
    expected = make_messy_corpus(corpus)
    proc = run_cli("batch", corpus, out, "-f", "textgrid", "-f", "json", "--jobs", "2")
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    rows = [line.split("\t") for line in (out / "errors.tsv").read_text().splitlines()[1:]]
    assert {r[0] for r in rows} == set(expected)
    for path, reason in rows:
        assert expected[path] in reason and "\n" not in reason
    phones = 0
    for name in ("spk1/a", "spk1/session 1/b"):
        data = json.loads((out / f"{name}.json").read_text())
        assert len(data["words"]) == 22 and (out / f"{name}.TextGrid").is_file()
        assert data["readout"] == "refine+boundaries"
        phones += sum(len(w["phones"]) for w in data["words"])  # 76, give or take the chosen weak forms
    summary = json.loads((out / "summary.json").read_text())
    assert (summary["files"], summary["aligned"], summary["failed"]) == (8, 2, 6)
    settings = summary["settings"]  # what produced the files: the defaults here
    assert (settings["readout"], settings["passes"], settings["suspect_threshold"], settings["suspect_min_seconds"]) \
        == ("refine", 2, -3.0, 0.6)
    assert settings["models"]["ottc"]["sha256"] and settings["models"]["ottc"]["frame_model_sha256"]
    assert summary["speakers"]["spk1"]["aligned"] == 2 and summary["speakers"]["spk2"]["failed"] == 6
    assert summary["label_delay_ms"]["phones"] == phones and 2 * 70 <= phones <= 2 * 76
    assert not [p for p in out.rglob("*") if p.name.startswith(".") and p.name != ".otalign"]  # no temporaries left


def make_good_corpus(root, n=6):
    audio, sr = sf.read(EXAMPLE_WAV, dtype="float32")
    for k in range(n):
        folder = root / f"spk{k % 2}"
        folder.mkdir(parents=True, exist_ok=True)
        sf.write(folder / f"u{k}.wav", audio * (0.5 + 0.1 * k), sr)
        (folder / f"u{k}.txt").write_text(EXAMPLE_TXT.read_text())


def tree(out):
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*"))
            if p.is_file() and p.name != "summary.json"}


def output_json(out):
    """The JSON outputs, not batch's per-file records in OUT/.otalign."""
    return [p for p in out.rglob("*.json") if ".otalign" not in p.parts]


@pytest.mark.parametrize("device", ["cpu", pytest.param("cuda", marks=pytest.mark.skipif(
    not torch.cuda.is_available(), reason="needs a CUDA GPU"))])
def test_kill_and_resume_gives_the_outputs_of_a_straight_run(tmp_path, device):
    """Byte for byte, on a GPU too: there each file is aligned alone as on the CPU (batched, a
    file's times would depend in the last bits on the files sharing its batch)."""
    corpus = tmp_path / "corpus"
    make_good_corpus(corpus)
    straight, resumed = tmp_path / "straight", tmp_path / "resumed"
    args = ["-f", "textgrid", "-f", "ctm", "-f", "json", "--jobs", "1", "--device", device]
    assert run_cli("batch", corpus, straight, *args).returncode == 0

    proc = subprocess.Popen([sys.executable, "-m", "otalign_cli", "batch", str(corpus), str(resumed), *args],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 300
    while time.time() < deadline and len(output_json(resumed)) < 2:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)  # the whole group: the run and its worker
    proc.wait()
    done_before = len(output_json(resumed))
    assert 2 <= done_before < 6, "the kill should land mid-run"

    again = run_cli("batch", corpus, resumed, *args)
    assert again.returncode == 0, again.stderr
    summary = json.loads((resumed / "summary.json").read_text())
    assert summary["skipped"] == done_before and summary["aligned"] + summary["skipped"] == 6
    assert tree(resumed) == tree(straight)

    redo = run_cli("batch", corpus, resumed, *args, "--overwrite")
    assert redo.returncode == 0 and json.loads((resumed / "summary.json").read_text())["aligned"] == 6
    assert tree(resumed) == tree(straight)


@pytest.mark.parametrize("bad", ["missing", "empty"])
def test_corpus_errors_are_usage_errors(tmp_path, bad):
    corpus = tmp_path / "c"
    if bad == "empty":
        corpus.mkdir()
    proc = run_cli("batch", corpus, tmp_path / "out")
    assert proc.returncode == 2 and str(corpus) in proc.stderr and "Traceback" not in proc.stderr


def test_bad_passes_is_a_usage_error_before_anything_is_written(tmp_path):
    corpus = tmp_path / "c"
    corpus.mkdir()
    shutil.copy(EXAMPLE_WAV, corpus / "a.wav")
    (corpus / "a.txt").write_text(EXAMPLE_TXT.read_text())
    proc = run_cli("batch", corpus, tmp_path / "out", "--passes", "3")
    assert proc.returncode == 2 and "--passes must be 1 to 2" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "out").exists()


def test_ray_backend_gives_the_same_outputs_as_local(tmp_path):
    pytest.importorskip("ray")
    corpus = tmp_path / "corpus"
    make_messy_corpus(corpus)
    runs = {}
    for backend in ("local", "ray"):
        out = tmp_path / backend
        proc = run_cli("batch", corpus, out, "-f", "textgrid", "-f", "ctm", "-f", "json", "--jobs", "2",
                       "--backend", backend)
        assert proc.returncode == 1, proc.stderr  # the broken files fail on both
        assert "Traceback" not in proc.stderr
        runs[backend] = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
        summary = json.loads(runs[backend].pop(Path("summary.json")))
        assert (summary["aligned"], summary["failed"]) == (2, 6)
    assert runs["local"].keys() == runs["ray"].keys()
    # TextGrid, word and phone CTM, JSON, record per aligned file + errors/suspects.tsv, the run's settings
    assert len(runs["local"]) == 2 * 5 + 3
    for rel, data in runs["local"].items():
        assert runs["ray"][rel] == data, rel


def test_address_without_ray_backend_is_a_usage_error(tmp_path):
    corpus = tmp_path / "corpus"
    make_messy_corpus(corpus)
    proc = run_cli("batch", corpus, tmp_path / "out", "--address", "auto")
    assert proc.returncode == 2 and "--address needs --backend ray" in proc.stderr


def test_length_batched_groups_give_the_same_outputs(tmp_path):
    """``run_batch(group_size=4)``: files batched by length through the encoder (the library's
    batched path, as ``align_many`` takes it) give the times of files aligned alone."""
    from otalign_cli.batch import discover, run_batch
    from otalign_cli.pipeline import DEFAULT_PASSES

    corpus = tmp_path / "corpus"
    make_messy_corpus(corpus)
    shutil.copy(EXAMPLE_WAV, corpus / "spk1" / "short.wav")
    (corpus / "spk1" / "short.txt").write_text("And Mr. John Dashwood had then leisure")
    items = discover(corpus)
    runs = {}
    for size in (1, 4):
        out = tmp_path / f"g{size}"
        outcomes = list(run_batch(items, out, ["json", "textgrid"], "refine", 1, False, group_size=size,
                                  passes=DEFAULT_PASSES))
        assert sorted(o.status for o in outcomes).count("aligned") == 3
        runs[size] = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert runs[1].keys() == runs[4].keys() and len(runs[1]) == 9  # JSON, TextGrid, record per aligned file
    for rel in runs[1]:
        if rel.suffix != ".json" or rel.parts[0] == ".otalign":
            continue
        one, grouped = (json.loads(runs[k][rel]) for k in (1, 4))
        times = [[(w["start"], w["end"]) for w in d["words"] + d["ctc"]["words"]] for d in (one, grouped)]
        # batched matrix products round differently in the last bits; the times must not move
        assert np.abs(np.array(times[0]) - np.array(times[1])).max() < 0.002, rel


def test_files_whose_transcript_seems_wrong_are_listed(tmp_path):
    corpus, out = tmp_path / "corpus", tmp_path / "out"
    (corpus / "spk").mkdir(parents=True)
    text = EXAMPLE_TXT.read_text()
    for name, transcript in (("good", text), ("missing", text.replace("leisure to consider", "leisure"))):
        shutil.copy(EXAMPLE_WAV, corpus / "spk" / f"{name}.wav")
        (corpus / "spk" / f"{name}.txt").write_text(transcript)
    proc = run_cli("batch", corpus, out, "--no-ctc")
    assert proc.returncode == 0, proc.stderr
    rows = [line.split("\t") for line in (out / "suspects.tsv").read_text().splitlines()]
    assert rows[0] == ["path", "start", "end", "words"]
    assert {r[0] for r in rows[1:]} == {"spk/missing.wav"}
    assert any(float(r[1]) < 3.4 and float(r[2]) > 2.7 for r in rows[1:])  # where "to consider" was said
    assert json.loads((out / "summary.json").read_text())["files_with_suspects"] == 1
    listed = (out / "suspects.tsv").read_text()
    for f in (out / "spk").glob("good.*"):  # a resumed run redoes "good" and skips "missing"
        f.unlink()
    proc = run_cli("batch", corpus, out, "--no-ctc")
    assert proc.returncode == 0, proc.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert (summary["aligned"], summary["skipped"], summary["files_with_suspects"]) == (1, 1, 1)
    assert (out / "suspects.tsv").read_text() == listed


def test_suspects_of_a_killed_run_are_read_back(tmp_path):
    from otalign_cli.batch import read_suspects
    from otalign_cli.results import Suspect

    tsv = tmp_path / "suspects.tsv"
    tsv.write_text("path\tstart\tend\twords\nspk/a.wav\t1.000\t2.500\tto consider\n"
                   "spk/a.wav\t7.000\t8.000\tthe end\nspk/b.wav\t3.0")  # cut mid-line by the kill
    assert read_suspects(tsv) == {"spk/a.wav": [Suspect(1.0, 2.5, "to consider"), Suspect(7.0, 8.0, "the end")]}
    assert read_suspects(tmp_path / "none.tsv") == {}


def test_no_boundaries_reaches_the_workers(tmp_path):
    corpus, out = tmp_path / "corpus", tmp_path / "out"
    make_good_corpus(corpus, n=2)
    proc = run_cli("batch", corpus, out, "-f", "json", "--jobs", "1", "--no-ctc", "--no-boundaries")
    assert proc.returncode == 0, proc.stderr
    for name in ("spk0/u0", "spk1/u1"):
        assert json.loads((out / f"{name}.json").read_text())["readout"] == "refine"


def test_resuming_with_other_settings_is_refused(tmp_path):
    """A resumed run would keep the files done and align the rest otherwise: a corpus made two ways."""
    corpus, out = tmp_path / "corpus", tmp_path / "out"
    make_good_corpus(corpus, n=2)
    base = ["-f", "json", "--no-ctc", "--no-boundaries"]
    assert run_cli("batch", corpus, out, *base).returncode == 0
    before = tree(out)
    for other in (["-f", "json", "--no-ctc"], [*base, "--phone-set", "ipa"], [*base, "--suspect-threshold", "-2.5"],
                  ["-f", "textgrid", "--no-ctc"]):  # other settings in another format: the JSON files stay beside it
        proc = run_cli("batch", corpus, out, *other)
        assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
        assert f"{out}: holds files aligned with other settings (spk0/u0.wav: " in proc.stderr, proc.stderr
        assert "--overwrite" in proc.stderr
        assert tree(out) == before  # refused before anything was written
    assert "(spk0/u0.wav: boundaries False before, True now)" in run_cli("batch", corpus, out, "-f", "json",
                                                                     "--no-ctc").stderr
    same = run_cli("batch", corpus, out, *base, "--max-line-chars", "30")  # cue layout only: no time moves
    assert same.returncode == 0, same.stderr
    assert json.loads((out / "summary.json").read_text())["skipped"] == 2
    assert run_cli("batch", corpus, out, *base, "-f", "ctm").returncode == 0  # the same settings, one more format
    assert (out / "spk1" / "u1.ctm").is_file() and tree(out)["spk1/u1.json"] == before["spk1/u1.json"]

    # an --overwrite run stopped half-way (here: given half the corpus) leaves files made both ways
    half = tmp_path / "half"
    shutil.copytree(corpus / "spk0", half / "spk0")
    assert run_cli("batch", half, out, "-f", "json", "--no-ctc", "--overwrite").returncode == 0
    proc = run_cli("batch", corpus, out, "-f", "json", "--no-ctc")
    assert proc.returncode == 2 and "(spk1/u1.wav: boundaries False before, True now)" in proc.stderr, proc.stderr
    redo = run_cli("batch", corpus, out, "-f", "json", "--no-ctc", "--overwrite")
    assert redo.returncode == 0, redo.stderr
    assert json.loads((out / "spk1" / "u1.json").read_text())["readout"] == "refine+boundaries"
    assert run_cli("batch", corpus, out, "-f", "json", "--no-ctc").returncode == 0  # one way again

    (out / ".otalign" / "spk0" / "u0.wav.json").write_text("{torn")  # an unreadable record is not trusted
    proc = run_cli("batch", corpus, out, "-f", "json", "--no-ctc")
    assert proc.returncode == 2 and "(spk0/u0.wav: its settings are not recorded)" in proc.stderr, proc.stderr


def test_settings_the_readout_does_not_use_do_not_stop_a_resume(tmp_path):
    corpus, out = tmp_path / "corpus", tmp_path / "out"
    make_good_corpus(corpus, n=1)
    assert run_cli("batch", corpus, out, "-f", "json", "--no-ctc", "--readout", "plain").returncode == 0
    # the plain readout runs neither the shifted passes nor the boundary and frame models
    proc = run_cli("batch", corpus, out, "-f", "json", "--no-ctc", "--readout", "plain", "--passes", "1",
                   "--no-frames", "--no-boundaries")
    assert proc.returncode == 0, proc.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["skipped"] == 1 and summary["settings"]["frames"] is None
    assert not [k for k in summary["settings"]["models"]["ottc"] if k.startswith(("frame_model", "boundary_model"))]


def test_files_made_otherwise_are_found_by_their_outputs_and_records(tmp_path):
    from otalign_cli.batch import Item, made_otherwise, record_settings, settings_digest
    from otalign_cli.batch.reports import record_path

    out = tmp_path / "out"
    items = [Item(tmp_path / f"c/s/{n}.wav", None, Path(f"s/{n}.wav"), "s") for n in ("a", "b", "c")]
    now = {"readout": "refine"}
    record_settings(out, {"readout": "plain"})

    def record(item, digest):
        record_path(out, item).parent.mkdir(parents=True, exist_ok=True)
        record_path(out, item).write_text(json.dumps({"suspects": [], "settings_digest": digest}))

    record(items[0], settings_digest({"readout": "plain"}))  # a record whose outputs are gone: nothing to mix
    assert made_otherwise(out, items, settings_digest(now)) is None
    (out / "s").mkdir(parents=True)
    (out / "s" / "b.TextGrid").write_text("x")  # an output without a record: made by whom is not known
    assert made_otherwise(out, items, settings_digest(now)) == (items[1], None)
    record(items[1], settings_digest(now))
    assert made_otherwise(out, items, settings_digest(now)) is None
    (out / "s" / "a.srt").write_text("x")  # any format counts, not only the ones asked for now
    assert made_otherwise(out, items, settings_digest(now)) == (items[0], {"readout": "plain"})


def test_settings_changes_name_what_moves_the_outputs():
    from otalign_cli.batch import settings_changes, settings_digest

    before = {"readout": "refine", "device": "cpu", "dictionary": "a.dict", "dictionary_sha256": "1" * 64,
              "boundaries": True, "max_line_chars": 42,
              "models": {"ottc": {"sha256": "2" * 64, "boundary_model_sha256": "5" * 64}}}
    same = {**before, "device": "cuda", "dictionary": "elsewhere/a.dict", "max_line_chars": 30}  # no time moves
    assert settings_changes(before, same) == [] and settings_digest(before) == settings_digest(same)
    other = {**same, "readout": "plain", "dictionary_sha256": "3" * 64,
             "models": {"ottc": {"sha256": "4" * 64, "boundary_model_sha256": "5" * 64}}}
    assert settings_changes(before, other) == ["other dictionary", "readout refine before, plain now",
                                               "other OTTC model"]
    assert settings_digest(before) != settings_digest(other)
    detached = {**before, "boundaries": False, "models": {"ottc": {"sha256": "2" * 64}}}
    assert settings_changes(before, detached) == ["boundaries True before, False now"]  # the models follow from it
    detached_other = {**detached, "models": {"ottc": {"sha256": "6" * 64}, "ctc": {"sha256": "7" * 64}}}
    assert settings_changes(before, detached_other) == ["boundaries True before, False now", "other OTTC model",
                                                        "CTC twin off before, on now"]


def test_report_files_escape_tabs_and_newlines_in_names(tmp_path):
    from otalign_cli.batch import Item, Outcome, read_suspects, suspect_rows, tsv_field, tsv_value
    from otalign_cli.results import Suspect

    name = "odd\tname\nwith \\ marks.wav"
    item = Item(tmp_path / name, None, Path(name), "")
    row = suspect_rows(Outcome(item, "aligned", suspects=[Suspect(1.0, 2.0, "a\tb")]))
    assert row.count("\t") == 3 and row.count("\n") == 1
    (tmp_path / "suspects.tsv").write_text("path\tstart\tend\twords\n" + row)
    assert read_suspects(tmp_path / "suspects.tsv") == {name: [Suspect(1.0, 2.0, "a\tb")]}
    assert tsv_value(tsv_field(name)) == name


def test_ctm_fields_stay_six_for_names_with_spaces():
    from otalign_cli.formats.ctm import ctm_lines
    from otalign_cli.results import Segment

    lines = ctm_lines("my recording\nnew", [Segment("New York", 0.5, 0.9, 0.8)]).splitlines()
    assert lines == ["my_recording_new 1 0.500 0.400 New_York 0.800"]
