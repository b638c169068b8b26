"""The corpus recipe on a tiny corpus, and a few training steps on it."""

import json
import shutil
from dataclasses import replace

import pytest
import soundfile as sf
import torch
from conftest import run_cli

from otalign_cli.checkpoint import load_checkpoint
from otalign_cli.models import DEFAULT_OTTC, models_dir
from otalign_cli.formats.textgrid import read_textgrid
from otalign_cli.synth import espeak, flite
from otalign_cli.synth.corpus import build_corpus, espeak_pools, plan_jobs, split_of
from otalign_cli.train import TrainConfig, compute_loss, load_corpus, train

pytestmark = pytest.mark.skipif(shutil.which("festival") is None, reason="festival is not installed")

SENTENCES = ["The cat sat on the mat.", "A quick brown fox jumps over the lazy dog.",
             "She sells sea shells by the sea shore.", "Numbers like 42 are read aloud."]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    out = tmp_path_factory.mktemp("corpus")
    utts = build_corpus(out, hours=18 * 3.5 / 3600, seed=7, jobs=2, sentences=SENTENCES)
    return out, utts


def test_corpus_times_inside_audio_and_phones_tile_words(corpus):
    out, utts = corpus
    assert {u.engine for u in utts} == {"festival", "flite", "espeak"}
    assert {"kal", "ked", "awb", "kal16"} <= {u.voice for u in utts}
    assert not {"rms", "slt", "cmu_us_slt_arctic_hts"} & {u.voice for u in utts}
    lines = (out / "manifest.jsonl").read_text().splitlines()
    assert [json.loads(x)["id"] for x in lines] == [u.id for u in utts]
    for u in utts:
        info = sf.info(out / u.audio)
        assert info.samplerate == 16000 and info.duration == pytest.approx(u.duration, abs=1e-3)
        tiers = read_textgrid(out / u.textgrid)
        phones, words = tiers["phones"], tiers["words"]
        assert all(0 <= s < e <= info.duration + 1e-6 for s, e, _ in phones + words)
        for s, e, _ in words:  # the phones inside each word tile it exactly
            inside = [p for p in phones if p[0] >= s - 1e-6 and p[1] <= e + 1e-6]
            assert inside and inside[0][0] == pytest.approx(s) and inside[-1][1] == pytest.approx(e)
            assert all(a[1] == pytest.approx(b[0]) for a, b in zip(inside, inside[1:]))
        assert (out / u.audio).with_suffix(".txt").read_text().strip() in SENTENCES


def test_corpus_is_deterministic(corpus, tmp_path):
    out, utts = corpus
    again = build_corpus(tmp_path, hours=18 * 3.5 / 3600, seed=7, jobs=1, sentences=SENTENCES)
    assert [(u.id, u.text, u.speed, u.duration) for u in again] == [(u.id, u.text, u.speed, u.duration) for u in utts]
    first = utts[0]
    assert (tmp_path / first.textgrid).read_text() == (out / first.textgrid).read_text()


@pytest.mark.parametrize("voice", ["rms", "slt", "cmu_us_slt_arctic_hts"])
def test_reserved_voices_refused(voice):
    with pytest.raises(ValueError, match="reserved"):
        plan_jobs(SENTENCES, 4, 0, (voice,))
    with pytest.raises(ValueError, match="reserved"):
        flite.synthesize("hello", voice)


def test_espeak_dev_variants_are_never_in_train():
    train_pool, dev_pool = espeak_pools()
    assert dev_pool and train_pool and not set(dev_pool) & set(train_pool)
    jobs = plan_jobs(SENTENCES * 50, 200, 0, ("espeak",), dev_fraction=0.5)
    for job, _ in jobs:
        variant = job.variant.split("+")[1]
        assert variant in (dev_pool if split_of(job.text, 0.5) == "dev" else train_pool)


def test_espeak_phones_tile_and_match_cmudict():
    import random

    r = espeak.synthesize("The cat sat on the mat.", "en-us+f1", 170, 50, 50, random.Random(0), pause_prob=0)
    assert r is not None and [w for _, _, w in r.words] == ["the", "cat", "sat", "on", "the", "mat"]
    phones = [p for _, _, p in r.phones if p != "sil"]
    assert phones == ["DH", "AH", "K", "AE", "T", "S", "AE", "T", "AA", "N", "DH", "AH", "M", "AE", "T"]
    assert all(a[1] == pytest.approx(b[0]) for a, b in zip(r.phones, r.phones[1:]))
    assert r.phones[-1][1] == pytest.approx(len(r.audio) / r.sample_rate)


@pytest.mark.parametrize(("kind", "alpha", "ctc_weight"),
                         [("ottc", "softplus", 0.0), ("ctc", "softplus", 0.0), ("ottc", "exp", 0.0), ("ottc", "softplus", 0.3)])
def test_few_steps_reduce_loss_and_write_loadable_checkpoint(corpus, tmp_path, kind, alpha, ctc_weight):
    out, _ = corpus
    examples = load_corpus(out)
    for e in examples:
        e.split = "train"
    cfg = TrainConfig(kind=kind, steps=30, batch_seconds=30, lr=3e-3, warmup=3, supervised_steps=30, noise_prob=0,
                      alpha=alpha, ctc_weight=ctc_weight)
    losses = []

    def record(step, parts):
        losses.append(parts["loss"])
        assert ("ctc_aux" in parts) == (ctc_weight > 0)

    ckpt = tmp_path / f"{kind}-{alpha}-{ctc_weight}.pt"
    model = train(examples, ckpt, cfg, "tiny", on_step=record, resume=False)
    assert sum(losses[-5:]) / 5 < sum(losses[:5]) / 5
    loaded, meta = load_checkpoint(ckpt, expect_kind=kind)
    assert meta["training"]["steps"] == 30 and meta["model"]["kind"] == kind
    assert loaded.cfg.alpha == alpha and loaded.cfg.ctc_aux == (ctc_weight > 0)
    model.eval()
    with torch.no_grad():
        a, _ = compute_loss(model, examples[:2], cfg, 10**6, None)
        b, _ = compute_loss(loaded, examples[:2], cfg, 10**6, None)
    assert float(a) == pytest.approx(float(b), rel=1e-5)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_training_on_the_gpu_writes_a_checkpoint_that_loads_on_the_cpu(corpus, tmp_path):
    out, _ = corpus
    examples = load_corpus(out)
    for e in examples:
        e.split = "train"
    cfg = TrainConfig(kind="ottc", steps=10, batch_seconds=30, warmup=2, supervised_steps=10, device="cuda")
    model = train(examples, tmp_path / "gpu.pt", cfg, "tiny", resume=False)
    assert next(model.parameters()).is_cuda
    loaded, meta = load_checkpoint(tmp_path / "gpu.pt", expect_kind="ottc")
    assert meta["training"]["steps"] == 10 and not next(loaded.parameters()).is_cuda


def test_train_boundaries_writes_a_model_that_align_applies(corpus, example, tmp_path):
    out, _ = corpus
    ckpt = tmp_path / "with-boundaries.pt"
    proc = run_cli("train-boundaries", out, "-o", ckpt, "--utterances", 20, "--dev-utterances", 5, "--steps", 30,
                   "--augment", "full")
    assert proc.returncode == 0, proc.stderr
    model, meta = load_checkpoint(ckpt, expect_kind="ottc")
    bundled, bundled_meta = load_checkpoint(models_dir() / DEFAULT_OTTC)
    assert model.boundary_model is not None and meta["weights_sha256"] == bundled_meta["weights_sha256"]
    tr = meta["boundary_model"]["training"]
    assert tr["steps"] == 30 and tr["utterances"] > 0 and tr["boundaries"] > tr["utterances"]
    assert tr["augment"] == "full"
    wav, txt = example
    times = {}
    for flag, name in (("--boundaries", "refine+boundaries"), ("--no-boundaries", "refine")):
        dest = tmp_path / f"{flag}.json"
        proc = run_cli("align", wav, txt, "--model", ckpt, "--no-ctc", "-f", "json", "-o", dest, flag)
        assert proc.returncode == 0, proc.stderr
        data = json.loads(dest.read_text())
        assert data["readout"] == name
        times[flag] = [p["start"] for w in data["words"] for p in w["phones"]]
    assert times["--boundaries"] != times["--no-boundaries"]
    assert max(abs(a - b) for a, b in zip(*times.values())) <= 0.04 + 0.01 + 1e-6  # reach + MIN_PHONE


def test_a_batch_mixing_gold_and_transcript_only_items_supervises_the_gold_ones(corpus):
    out, _ = corpus
    examples = load_corpus(out)[:4]
    cfg = TrainConfig(kind="ottc", supervised_steps=10, noise_prob=0)
    model = train(examples, out / "unused.pt", replace(cfg, steps=0), "tiny", resume=False)
    model.eval()  # no dropout: the same items must cost the same
    _, gold = compute_loss(model, examples, cfg, 0, None)
    real = [replace(e, intervals=None) for e in examples]  # as read from a real-speech corpus: no times
    _, none = compute_loss(model, real, cfg, 0, None)
    _, mixed = compute_loss(model, real[:2] + examples[2:], cfg, 0, None)
    assert "ce" in gold and "ce" not in none and "ce" in mixed
    assert mixed["ottc"] == pytest.approx(gold["ottc"], rel=1e-5)  # the OTTC term covers every item alike
    _, only_gold = compute_loss(model, examples[2:], cfg, 0, None)
    assert mixed["ce"] == pytest.approx(only_gold["ce"], rel=1e-4)  # over the gold items' own frames


def test_items_with_aligned_times_teach_alpha_only(corpus, tmp_path):
    """Pseudo-labels (an aligner's times) add to the alpha target but not to the frame
    cross-entropy, which stays the mean over the gold items' frames; --aligned-times marks a corpus."""
    out, _ = corpus
    examples = load_corpus(out)[:4]
    cfg = TrainConfig(kind="ottc", supervised_steps=10, noise_prob=0)
    model = train(examples, out / "unused.pt", replace(cfg, steps=0), "tiny", resume=False)
    model.eval()
    aligned = [replace(e, aligned=True) for e in examples]
    _, gold = compute_loss(model, examples, cfg, 0, None)
    _, mixed = compute_loss(model, aligned[:2] + examples[2:], cfg, 0, None)
    _, only_gold = compute_loss(model, examples[2:], cfg, 0, None)
    assert mixed["ce"] == pytest.approx(only_gold["ce"], rel=1e-4)
    assert mixed["alpha_mse"] == pytest.approx(gold["alpha_mse"], rel=1e-5)  # every item with times
    total, pseudo = compute_loss(model, aligned, replace(cfg, losses=("supervised",)), 0, None)
    assert "ce" not in pseudo and pseudo["alpha_mse"] == pytest.approx(gold["alpha_mse"], rel=1e-5)
    assert float(total.detach()) == pytest.approx(pseudo["alpha_mse"], rel=1e-5)  # no cross-entropy in what is minimized
    assert all(e.aligned for e in load_corpus(out, aligned=True)[:4]) and not any(e.aligned for e in examples)
    for extra in (["--aligned-times", tmp_path], ["--aligned-times", out, "--kind", "ctc"]):
        proc = run_cli("train", out, tmp_path / "m.pt", "--steps", "1", *extra)
        assert proc.returncode == 2 and "--aligned-times" in proc.stderr and "Traceback" not in proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1


def test_a_stopped_run_resumes_only_with_the_settings_it_started_with(corpus, tmp_path):
    """--stop-after ends a run early; the same command resumes it from OUT.state. A resumed run with
    another loss or other pseudo-labels would silently train on something else: refused, one line."""
    out, _ = corpus
    model, log = tmp_path / "m.pt", tmp_path / "run.jsonl"
    args = ["train", out, model, "--steps", "4", "--batch-seconds", "20", "--warmup", "1", "--log", log]
    assert run_cli(*args, "--stop-after", "2").returncode == 0
    saved = load_checkpoint(model)[1]["training"]
    assert saved["steps"] == 2 and list(saved["config"]["corpora"]) == [str(out.resolve())]
    assert not saved["config"]["aligned_corpora"]
    for changed, named in ((["--aligned-times", out], "aligned_corpora"), (["--lr", "1e-3"], "lr")):
        proc = run_cli(*args, *changed)
        assert proc.returncode == 1 and named in proc.stderr and "m.pt.state" in proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr
    state = tmp_path / "m.pt.state"
    saved_state = state.read_bytes()
    state.write_bytes(saved_state[:100])  # truncated
    proc = run_cli(*args)
    assert proc.returncode == 1 and "m.pt.state: cannot read" in proc.stderr and "Traceback" not in proc.stderr
    state.write_bytes(saved_state)
    proc = run_cli(*args, "--threads", "2")  # where and how fast it runs may change
    assert proc.returncode == 0, proc.stderr
    assert [json.loads(x)["step"] for x in log.read_text().splitlines()] == [1, 2, 3, 4]
    assert load_checkpoint(model)[1]["training"]["steps"] == 4


def test_train_log_has_one_json_line_per_step(corpus, tmp_path):
    out, _ = corpus
    log = tmp_path / "run.jsonl"
    proc = run_cli("train", out, tmp_path / "m.pt", "--steps", "3", "--batch-seconds", "20", "--warmup", "1",
                   "--log", log)
    assert proc.returncode == 0, proc.stderr
    rows = [json.loads(x) for x in log.read_text().splitlines()]
    assert [r["step"] for r in rows] == [1, 2, 3]
    assert all({"loss", "lr", "ottc", "seconds"} <= r.keys() for r in rows)


def test_train_frames_writes_a_model_that_align_applies(corpus, example, tmp_path):
    """Gold corpus + a transcripts-only folder (aligned first); the checkpoint keeps the OTTC
    weights and the boundary model, adds the frame model, and align's times change with it."""
    out, _ = corpus
    wav, txt = example
    real = wav.parent
    ckpt = tmp_path / "with-frames.pt"
    proc = run_cli("train-frames", out, real, "-o", ckpt, "--steps", 20, "--threads", 1)
    assert proc.returncode == 0, proc.stderr
    model, meta = load_checkpoint(ckpt, expect_kind="ottc")
    bundled, bundled_meta = load_checkpoint(models_dir() / DEFAULT_OTTC)
    assert meta["weights_sha256"] == bundled_meta["weights_sha256"]
    assert meta["boundary_model"]["weights_sha256"] == bundled_meta["boundary_model"]["weights_sha256"]
    tr = meta["frame_model"]["training"]
    assert model.frame_model is not None and tr["steps"] == 20
    assert tr["utterances"] == tr["gold_utterances"] + 1  # the example, labelled by aligning it
    starts = {}
    for name, flag in (("with", "--frames"), ("without", "--no-frames")):
        dest = tmp_path / f"{name}.json"
        proc = run_cli("align", wav, txt, "--model", ckpt, "--no-ctc", "-f", "json", "-o", dest, flag)
        assert proc.returncode == 0, proc.stderr
        starts[name] = [p["start"] for w in json.loads(dest.read_text())["words"] for p in w["phones"]]
    assert starts["with"] != starts["without"]
    # pull x (window + half a frame), plus a landmark pull (7.5 ms) and a minimum phone (10 ms) either way
    reach = 0.5 * (model.frame_model.cfg.window + 0.005) + 0.0075 + 0.01 + 1e-6
    assert max(abs(a - b) for a, b in zip(starts["with"], starts["without"])) <= reach


def test_train_frames_on_nothing_usable_is_one_line(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    proc = run_cli("train-frames", empty, "-o", tmp_path / "x.pt", "--steps", 2)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert str(empty) in proc.stderr and "no labelled utterances" in proc.stderr


def test_transcripts_with_markers_are_left_out_of_training_and_named(tmp_path):
    from conftest import EXAMPLE_WAV

    for stem, text in (("plain", "hello there"), ("noisy", "hello [laughter] there"), ("unknown", "hello <unk>"),
                       ("only", "[noise]")):
        shutil.copy(EXAMPLE_WAV, tmp_path / f"{stem}.wav")
        (tmp_path / f"{stem}.txt").write_text(text)
    skipped = []
    examples = load_corpus(tmp_path, skipped=skipped)
    assert [e.id for e in examples] == ["plain"] and examples[0].phones[:2] == ["HH", "AH"]
    assert sorted(p.name for p in skipped) == ["noisy.txt", "only.txt", "unknown.txt"]
