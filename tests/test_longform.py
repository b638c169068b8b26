"""Long recordings: chunked features and encoder, beam anchoring, and a long file end to end."""

import shutil

import numpy as np
import pytest
import soundfile as sf
import torch

from conftest import EXAMPLE_WAV, run_cli
from otalign_cli.alignment.spans import spans_of_path, viterbi_path, viterbi_spans
from otalign_cli.alignment.segments import plan_segments
from otalign_cli.audio import load_audio
from otalign_cli.evaluate import match_tokens
from otalign_cli.features import log_mel
from otalign_cli.formats.textgrid import read_textgrid
from otalign_cli.inference import run_model, run_model_many
from otalign_cli.models import load_models


def test_blockwise_features_equal_one_call():
    x = torch.from_numpy(load_audio(EXAMPLE_WAV))
    one = log_mel(x)
    blocks = log_mel(x, block_frames=97)
    assert blocks.shape == one.shape
    assert torch.allclose(blocks, one, atol=1e-4)


def test_digital_silence_is_floored_not_an_outlier():
    x = torch.from_numpy(load_audio(EXAMPLE_WAV))
    padded = torch.cat([torch.zeros(16000 * 20), x])  # 20 s of exact zeros before the speech
    f_alone, f_padded = log_mel(x), log_mel(padded)
    speech = f_padded[2000:]
    # without the floor the zeros sit 20 log units below everything and squash the speech frames
    assert float(torch.corrcoef(torch.stack([speech.flatten(), f_alone.flatten()]))[0, 1]) > 0.95


def test_chunked_encoder_matches_one_pass():
    ottc = load_models(with_ctc=False).ottc
    x = torch.from_numpy(load_audio(EXAMPLE_WAV))
    feats = log_mel(torch.cat([x, torch.zeros(4000), x, torch.zeros(4000), x]))  # about 22 s
    whole = run_model(ottc, feats, chunk=10**9)
    chunked = run_model(ottc, feats, chunk=300, context=250, batch_size=3)
    assert chunked.log_probs.shape == whole.log_probs.shape
    diff = (chunked.log_probs.exp() - whole.log_probs.exp()).abs()
    # the GRU's state at a chunk edge is rebuilt from 5 s of context, not carried: nearly the same
    assert float(diff.mean()) < 2e-4 and float(diff.max()) < 0.03
    assert float(((chunked.alpha - whole.alpha).abs() / whole.alpha).max()) < 0.05
    # what the readouts read: where the cumulative mass crosses each token's share (in frames)
    cum = [a.double().cumsum(0) / a.double().sum() for a in (chunked.alpha, whole.alpha)]
    assert float((cum[0] - cum[1]).abs().max()) * len(cum[0]) < 0.25


def test_padding_in_a_batch_does_not_change_the_outputs():
    """Chunks or recordings of unequal length batched together (padded) must read exactly as alone:
    on a GPU every long file's chunks and every batch of files go through the encoder this way."""
    ottc = load_models(with_ctc=False).ottc
    x = torch.from_numpy(load_audio(EXAMPLE_WAV))
    feats = log_mel(torch.cat([x, torch.zeros(4000), x, torch.zeros(4000), x]))
    alone = run_model(ottc, feats, chunk=300, context=250, batch_size=1)
    batched = run_model(ottc, feats, chunk=300, context=250, batch_size=32)  # the last chunk is shorter
    assert float((alone.log_probs - batched.log_probs).abs().max()) < 1e-4
    assert float(((alone.alpha - batched.alpha).abs() / alone.alpha).max()) < 1e-4
    recordings = [feats[:n] for n in (701, 530, 1999)]
    for one, many in zip((run_model(ottc, f) for f in recordings), run_model_many(ottc, recordings)):
        assert float((one.log_probs - many.log_probs).abs().max()) < 1e-4
        assert float(((one.alpha - many.alpha).abs() / one.alpha).max()) < 1e-4


def _long_posteriors(n_words=40, phones=3, frames=4, pause=6, v=5):
    """Words of ``phones`` tokens (ids cycling through v - 1), ``frames`` frames each, pauses between."""
    lp, targets, word_end, bounds = [], [], [], []
    t = 0
    for w in range(n_words):
        for p in range(phones):
            tok = (w * phones + p) % (v - 1)
            block = torch.full((frames, v), -8.0)
            block[:, tok] = 0.0
            lp.append(block)
            targets.append(tok)
            word_end.append(p == phones - 1)
            bounds.append((t, t + frames))
            t += frames
        block = torch.full((pause, v), -8.0)
        block[:, v - 1] = 0.0
        lp.append(block)
        t += pause
    return torch.cat(lp), torch.tensor(targets), torch.tensor(word_end), bounds


def test_beam_viterbi_follows_a_long_path_and_equals_full_search():
    lp, targets, word_end, bounds = _long_posteriors()
    full = viterbi_spans(lp, targets, word_end, sil_id=4)
    tok, _ = viterbi_path(lp, targets, word_end, sil_id=4, band=12)
    beam = spans_of_path(tok, targets.numel())
    assert beam.onset.tolist() == full.onset.tolist() == [float(a) for a, _ in bounds]
    assert beam.offset.tolist() == [float(b) for _, b in bounds]


def test_segments_cut_in_pauses_and_tile_frames_and_tokens():
    lp, targets, word_end, bounds = _long_posteriors(n_words=60)
    tok, _ = viterbi_path(lp, targets, word_end, sil_id=4, band=12)
    segs = plan_segments(tok, word_end.numpy(), target=60, min_pause=4)
    assert len(segs) > 5
    assert segs[0][0] == 0 and segs[0][2] == 0 and segs[-1][1] == lp.shape[0] and segs[-1][3] == targets.numel()
    for (f0, f1, j0, j1), (g0, _, k0, _) in zip(segs, segs[1:]):
        assert f1 == g0 and j1 == k0 and 30 < f1 - f0 < 120
        assert tok[f1 - 1] < 0 and tok[f1] < 0  # the cut lies inside a pause
        assert bounds[j1 - 1][1] <= f1 <= bounds[j1][0]  # and between the tokens it separates


@pytest.mark.skipif(shutil.which("festival") is None, reason="festival is not installed")
def test_three_minute_recording_aligns_in_one_pass_without_drift(tmp_path):
    from otalign_cli.synth.corpus import build_corpus
    from otalign_cli.synth.longform import build_long_recording, corpus_utterances

    sentences = ["The cat sat on the mat.", "A quick brown fox jumps over the lazy dog.",
                 "She sells sea shells by the sea shore.", "We will meet at the old mill tomorrow.",
                 "Bring the red box and two green cups.", "Nobody knew where the road would lead."]
    build_corpus(tmp_path / "corpus", hours=24 * 3 / 3600, seed=3, jobs=2, sentences=sentences, voices=("kal", "ked"))
    stem = tmp_path / "long"
    build_long_recording(corpus_utterances(tmp_path / "corpus", None), stem, minutes=3, seed=0)
    duration = sf.info(str(stem.with_suffix(".wav"))).duration
    assert duration >= 180
    proc = run_cli("align", stem.with_suffix(".wav"), stem.with_suffix(".txt"), "-o", tmp_path / "out.TextGrid", "-q")
    assert proc.returncode == 0, proc.stderr
    ref = read_textgrid(stem.with_suffix(".TextGrid"))["words"]
    hyp = read_textgrid(tmp_path / "out.TextGrid")
    for tier, limit in (("words", 0.04), ("ctc-words", 0.08)):
        pairs = match_tokens(ref, hyp[tier], "words")
        assert len(pairs) > 0.9 * len(ref)
        err = np.array([abs(hyp[tier][j][0] - ref[i][0]) for i, j in pairs])
        pos = np.array([ref[i][0] for i, _ in pairs])
        assert err.mean() < limit, (tier, err.mean())
        first, last = err[pos < duration / 3].mean(), err[pos > 2 * duration / 3].mean()
        assert last < first + 0.02, (tier, first, last)  # no drift along the file


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA GPU on this machine")
def test_batched_gpu_encoder_matches_cpu():
    ottc = load_models(with_ctc=False).ottc
    x = torch.from_numpy(load_audio(EXAMPLE_WAV))
    feats = log_mel(torch.cat([x, torch.zeros(4000), x, torch.zeros(4000), x]))
    cpu = run_model(ottc, feats, "cpu", chunk=300, context=250)
    gpu = run_model(ottc.to("cuda"), feats, "cuda", chunk=300, context=250)
    assert float((cpu.log_probs.exp() - gpu.log_probs.exp()).abs().max()) < 1e-3


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA GPU on this machine")
def test_align_on_cuda_gives_the_cpu_times(tmp_path):
    times = {}
    for device in ("cpu", "cuda"):
        proc = run_cli("align", EXAMPLE_WAV, EXAMPLE_WAV.with_suffix(".txt"), "-o", tmp_path / f"{device}.json",
                       "-f", "json", "-q", "--device", device)
        assert proc.returncode == 0, proc.stderr
        import json
        times[device] = [(w["start"], w["end"]) for w in json.loads((tmp_path / f"{device}.json").read_text())["words"]]
    assert np.abs(np.array(times["cpu"]) - np.array(times["cuda"])).max() < 0.02


def test_streamed_resampling_equals_one_shot(tmp_path):
    import soxr

    from otalign_cli.audio import BLOCK

    rng = np.random.default_rng(0)
    n = BLOCK * 2 + 12345  # three blocks of 44.1 kHz stereo
    stereo = (rng.standard_normal((n, 2)) * 0.1).astype(np.float32)
    path = tmp_path / "long44k.flac"
    sf.write(str(path), stereo, 44100)
    ref = soxr.resample(sf.read(str(path), dtype="float32")[0].mean(axis=1), 44100, 16000, quality="VHQ")
    got = load_audio(path)
    assert got.shape == ref.shape
    assert float(np.abs(got - ref).max()) < 1e-3


def test_models_on_cuda_compute_in_full_float32():
    """TF32 moved word times by up to 24 ms against the CPU on an H100 (bench/cuda_parity.py --tf32):
    every place a model runs turns it off for a CUDA device, and leaves the CPU's settings alone."""
    from otalign_cli import devices
    from otalign_cli.devices import full_float32

    saved = torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32
    try:
        torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = True
        full_float32("cpu")
        assert torch.backends.cudnn.allow_tf32 and torch.backends.cuda.matmul.allow_tf32
        full_float32(torch.device("cuda", 0))
        assert not torch.backends.cudnn.allow_tf32 and not torch.backends.cuda.matmul.allow_tf32
        devices.MEASURE_TF32 = True  # what bench/cuda_parity.py --tf32 sets: torch's settings left alone
        torch.backends.cudnn.allow_tf32 = True
        full_float32("cuda")
        assert torch.backends.cudnn.allow_tf32
    finally:
        devices.MEASURE_TF32 = False
        torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32 = saved
