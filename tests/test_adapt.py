"""Speaker adaptation: the heads fit the speaker's own transcripts, the encoder stays, batch offers it."""

import json
import shutil

import torch

from conftest import EXAMPLE_TXT, EXAMPLE_WAV, run_cli
from otalign_cli.adapt import AdaptConfig, adapt_heads
from otalign_cli.alignment.ot import ottc_loss
from otalign_cli.batch import Item, adapt_groups
from otalign_cli.features import log_mel
from otalign_cli.audio import load_audio
from otalign_cli.models import load_models
from otalign_cli.text.pronounce import pronounce_transcript


def _loss(model, feats, targets):
    with torch.no_grad():
        out = model(feats[None], torch.tensor([feats.shape[0]]))
        return float(ottc_loss(out["log_probs"], out["alpha"], targets[None], out["lengths"],
                               torch.tensor([targets.numel()])))


def test_adaptation_lowers_the_files_own_cost_and_leaves_the_encoder():
    ottc = load_models(with_ctc=False).ottc
    feats = log_mel(torch.from_numpy(load_audio(EXAMPLE_WAV)))
    vocab = {t: i for i, t in enumerate(ottc.cfg.vocab)}
    targets = torch.tensor([vocab[p] for p in pronounce_transcript(EXAMPLE_TXT.read_text()).phones])
    before = {k: v.clone() for k, v in ottc.state_dict().items()}
    adapted = adapt_heads(ottc, [feats], [targets], AdaptConfig(steps=20))
    assert _loss(adapted, feats, targets) < _loss(ottc, feats, targets)
    for k, v in ottc.state_dict().items():  # the original is untouched
        assert torch.equal(v, before[k])
    for k, v in adapted.state_dict().items():
        assert torch.equal(v, before[k]) == k.startswith("encoder.")
    assert adapted.boundary_model is not None  # it travels with the copy
    assert adapt_heads(ottc, [feats], [targets], AdaptConfig(steps=0)) is ottc


def test_adapt_groups_pool_speaker_folders_only(tmp_path):
    items = [Item(tmp_path / n, None, tmp_path / n, spk) for n, spk in
             (("a/1.wav", "a"), ("a/2.wav", "a"), ("b/3.wav", "b"), ("4.wav", ""), ("5.wav", ""))]
    groups = adapt_groups(items, "speaker")
    assert [([i.speaker for i in g], adapt) for g, adapt in groups] == [
        (["a", "a"], True), (["b"], True), ([""], False), ([""], False)]
    assert all(len(g) == 1 and adapt for g, adapt in adapt_groups(items, "file"))


def test_batch_adapts_per_speaker_folder(tmp_path):
    corpus, out = tmp_path / "corpus", tmp_path / "out"
    for name in ("spk1/a", "spk1/b", "c"):
        (corpus / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(EXAMPLE_WAV, corpus / f"{name}.wav")
        shutil.copy(EXAMPLE_TXT, corpus / f"{name}.txt")
    proc = run_cli("batch", corpus, out, "-f", "json", "-f", "ctm", "--adapt", "speaker", "--no-ctc")
    assert proc.returncode == 0, proc.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["aligned"] == 3 and summary["adapt"] == "speaker"
    adapted = json.loads((out / "spk1" / "a.json").read_text())
    alone = json.loads((out / "c.json").read_text())  # no speaker folder: aligned unadapted
    times = lambda d: [(w["start"], w["end"]) for w in d["words"]]  # noqa: E731
    assert times(adapted) != times(alone)  # the same audio, aligned by the adapted copy and by the model
    assert adapted["adapted"] is True and alone["adapted"] is False
    assert adapted["model"] == alone["model"]  # the SHA-256 of the weights before adaptation
    heads = [(out / f"{n}.ctm").read_text().splitlines()[0] for n in ("spk1/b", "c")]
    assert "heads adapted to the transcripts" in heads[0] and "adapted" not in heads[1]
    bad = run_cli("batch", corpus, tmp_path / "out2", "--adapt", "everyone")
    assert bad.returncode == 2 and "--adapt must be" in bad.stderr and "Traceback" not in bad.stderr
