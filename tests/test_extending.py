"""Adding a readout, an encoder or a language is one module plus one registry line: nothing else in
the package needs to know about it. Each defined here is registered and used end to end."""

import sys
import types

import pytest
import torch
from torch import nn

from conftest import EXAMPLE_TXT, EXAMPLE_WAV


def _module(name: str, **attrs) -> str:
    mod = types.ModuleType(name)
    mod.__dict__.update(attrs)
    sys.modules[name] = mod
    return name


def read_evenly(out, targets, word_of_phone, pieces, vocab, device):
    """Every token gets an equal share of its piece: a readout that needs no model at all."""
    from otalign_cli.alignment.spans import Spans

    spans = []
    for f0, f1, j0, j1 in pieces:
        edges = torch.linspace(0, f1 - f0, j1 - j0 + 1, dtype=torch.float64)
        spans.append(Spans(edges[:-1], edges[1:]))
    return spans


@pytest.fixture
def even_readout():
    from otalign_cli.alignment import readouts

    mod = _module("otalign_test_even_readout", read=read_evenly)
    readouts.register(readouts.Readout("even", f"{mod}:read", "equal shares (test)"))
    yield "even"
    del readouts.REGISTRY["even"]


def test_a_registered_readout_aligns_a_file(even_readout):
    from otalign_cli.models import load_models
    from otalign_cli.pipeline import align_file

    ottc = load_models(with_ctc=False).ottc
    res = align_file(EXAMPLE_WAV, EXAMPLE_TXT, ottc, None, readout=even_readout)
    starts = [p.start for p in res.ot.phones]
    gaps = [b - a for a, b in zip(starts, starts[1:])]
    assert res.readout == "even" and max(gaps) - min(gaps) < 1e-6  # its own spans, uncorrected
    assert res.stats.passes is None  # the flags it did not set are honoured


class TinyEncoder(nn.Module):
    """One strided convolution: the smallest thing that satisfies the encoder contract."""

    def __init__(self, cfg):
        super().__init__()
        self.conv = nn.Conv1d(cfg.n_mels, 16, kernel_size=cfg.subsample, stride=cfg.subsample)
        self.subsample, self.out_dim = cfg.subsample, 16

    def output_lengths(self, lengths):
        return (lengths + self.subsample - 1) // self.subsample

    def forward(self, feats, lengths):
        pad = (-feats.shape[1]) % self.subsample
        x = nn.functional.pad(feats, (0, 0, 0, pad))
        return self.conv(x.transpose(1, 2)).transpose(1, 2), self.output_lengths(lengths)


def test_a_registered_encoder_trains_saves_and_loads(tmp_path):
    from otalign_cli import encoders
    from otalign_cli.checkpoint import load_checkpoint, save_checkpoint
    from otalign_cli.model import AlignmentModel, ModelConfig
    from otalign_cli.train import vocab_for

    mod = _module("otalign_test_tiny_encoder", TinyEncoder=TinyEncoder)
    encoders.register("tiny", f"{mod}:TinyEncoder")
    try:
        model = AlignmentModel(ModelConfig("ottc", vocab_for("ottc"), encoder="tiny"))
        with torch.no_grad():
            out = model(torch.randn(2, 50, 80), torch.tensor([50, 41]))
        assert out["log_probs"].shape == (2, 25, len(vocab_for("ottc"))) and float(out["alpha"][1, 21:].abs().sum()) == 0
        save_checkpoint(tmp_path / "tiny.pt", model, "tiny", {})
        loaded, _ = load_checkpoint(tmp_path / "tiny.pt")
        assert loaded.cfg.encoder == "tiny" and isinstance(loaded.encoder, TinyEncoder)
    finally:
        del encoders.REGISTRY["tiny"]


def test_an_unknown_encoder_is_named():
    from otalign_cli.model import AlignmentModel, ModelConfig

    with pytest.raises(ValueError, match="unknown encoder 'nope'; choose from bigru"):
        AlignmentModel(ModelConfig("ottc", ("AA", "sil"), encoder="nope"))


# A language of its own: ARPAbet without OY (so the bundled model can align it, and its phone set
# is its own), a normalizer that keeps only letters, a lexicon that puts each CMUdict word's last
# variant first, a letter-by-letter guess for the rest, and one weak form.
def _toy_language():
    from otalign_cli.text.lexicon import load_cmudict
    from otalign_cli.text.normalize import WrittenWord
    from otalign_cli.text.phones import PHONES

    phones = tuple(p for p in PHONES if p != "OY")
    letter = {c: phones[i % len(phones)] for i, c in enumerate("abcdefghijklmnopqrstuvwxyz")}

    def normalize(text):
        words = ["".join(c for c in t.lower() if c.isalpha()) for t in text.split()]
        return [WrittenWord(w, (w,), w) for w in words if w]

    def lexicon():
        return {w: list(reversed(v)) for w, v in load_cmudict().items()}

    def guess(word):
        if not word:
            raise ValueError("no letters")
        return tuple(letter[c] for c in word), True

    return dict(PHONES=phones, normalize=normalize, lexicon=lexicon, guess=guess, WEAK_FORMS={"there": (("DH", "ER"),)})


@pytest.fixture
def toy_language():
    from otalign_cli.text import languages

    mod = _module("otalign_test_toy_language", **_toy_language())
    languages.register(languages.Language("xx", "a test language", mod))
    yield "xx"
    languages.REGISTRY.pop("xx", None)


def test_a_registered_language_pronounces_and_aligns(toy_language):
    from dataclasses import replace

    from otalign_cli.models import load_models
    from otalign_cli.pipeline import align_file
    from otalign_cli.text.lexicon import load_cmudict
    from otalign_cli.text.pronounce import pronounce_transcript

    pron = pronounce_transcript("Read, read zqx!", language=toy_language)
    assert [w.written for w in pron.words] == ["read", "read", "zqx"]  # its normalizer, not English's
    assert pron.phones[:3] == load_cmudict()["read"][-1]  # its lexicon's order
    assert pron.oov == ("zqx",) and len(pron.phones) == 2 * 3 + 3  # its guess, letter by letter
    assert ("DH", "ER") in pronounce_transcript("there", language=toy_language).alternatives[0]  # its weak form

    ottc = load_models(with_ctc=False).ottc
    ottc.cfg = replace(ottc.cfg, language=toy_language)  # a model of that language aligns in it
    res = align_file(EXAMPLE_WAV, EXAMPLE_TXT, ottc, None, variants=False)
    expected = pronounce_transcript(EXAMPLE_TXT.read_text(), language=toy_language)
    assert [w.label for w in res.ot.words] == [w.written for w in expected.words]
    assert "mr" in [w.written for w in expected.words]  # "Mr." as its normalizer writes it
    assert [p.label for p in res.ot.phones if p.label != "sil"] == list(expected.phones)


def test_a_language_checks_dictionaries_and_twins_against_its_own_phones(tmp_path, toy_language):
    from dataclasses import replace

    from otalign_cli.errors import OtalignError
    from otalign_cli.models import load_models
    from otalign_cli.text.dictionary import read_dictionary

    path = tmp_path / "d.dict"
    path.write_text("boy B OY\n")
    assert read_dictionary(path).get("boy") == (("B", "OY"),)  # ARPAbet has OY
    with pytest.raises(OtalignError, match="phone 'OY' is not in the model's phone set \\(xx phones:"):
        read_dictionary(path, toy_language)

    from otalign_cli.checkpoint import save_checkpoint

    ottc = load_models(with_ctc=False).ottc
    ottc.cfg = replace(ottc.cfg, language=toy_language)
    save_checkpoint(tmp_path / "xx.pt", ottc, "xx", {})
    with pytest.raises(OtalignError, match="a CTC twin for language 'en', but the OTTC model aligns 'xx'"):
        load_models(tmp_path / "xx.pt")  # the bundled twin is English
    assert load_models(tmp_path / "xx.pt", with_ctc=False).ottc.cfg.language == "xx"


def test_a_model_records_its_language_and_an_unknown_one_is_named(tmp_path, toy_language):
    from otalign_cli.checkpoint import load_checkpoint, save_checkpoint
    from otalign_cli.errors import OtalignError
    from otalign_cli.model import AlignmentModel, ModelConfig
    from otalign_cli.text import languages
    from otalign_cli.train import vocab_for

    model = AlignmentModel(ModelConfig("ottc", vocab_for("ottc", toy_language), language=toy_language))
    assert "OY" not in model.cfg.vocab  # its own phones
    save_checkpoint(tmp_path / "xx.pt", model, "xx", {})
    assert load_checkpoint(tmp_path / "xx.pt")[0].cfg.language == "xx"
    xx = languages.REGISTRY.pop("xx")  # an otalign without that language
    try:
        with pytest.raises(OtalignError, match="a model for language 'xx', which this otalign does not have"):
            load_checkpoint(tmp_path / "xx.pt")
    finally:
        languages.register(xx)


def alpha_spread(out, batch, model, cfg, step):
    """A loss of its own: how unevenly the frames' weights are spread (weighted 0.5)."""
    a = out["alpha"][0, : int(out["lengths"][0])]
    value = (a / a.sum()).pow(2).sum() * len(a)
    return 0.5 * value, {"alpha_spread": float(value.detach())}


def test_a_registered_loss_trains(tmp_path):
    from otalign_cli import losses
    from otalign_cli.audio import load_audio
    from otalign_cli.model import AlignmentModel, ModelConfig
    from otalign_cli.text.pronounce import pronounce_transcript
    from otalign_cli.train import Example, TrainConfig, compute_loss, train, vocab_for

    mod = _module("otalign_test_alpha_spread", alpha_spread=alpha_spread)
    losses.register(losses.Loss("alpha_spread", f"{mod}:alpha_spread", ("ottc",), "test"))
    try:
        ex = Example("dashwood", load_audio(EXAMPLE_WAV), list(pronounce_transcript(EXAMPLE_TXT.read_text()).phones),
                     None, "train", None)
        torch.manual_seed(0)
        model = AlignmentModel(ModelConfig("ottc", vocab_for("ottc"))).eval()  # no dropout: the same output twice
        with torch.no_grad():
            alone, _ = compute_loss(model, [ex], TrainConfig(losses=("ottc",)), 0, None)
            both, parts = compute_loss(model, [ex], TrainConfig(losses=("ottc", "alpha_spread")), 0, None)
        assert set(parts) == {"ottc", "alpha_spread"}
        assert float(both) == pytest.approx(float(alone) + 0.5 * parts["alpha_spread"], rel=1e-5)
        logged = []
        train([ex], tmp_path / "m.pt", TrainConfig(steps=2, warmup=1, batch_seconds=10, losses=("ottc", "alpha_spread")),
              "test", on_step=lambda s, p: logged.append(p))
        assert len(logged) == 2 and all("alpha_spread" in p for p in logged)
        with pytest.raises(ValueError, match="does not train a ctc model"):
            losses.losses_for("ctc", ("alpha_spread",))
        with torch.no_grad():  # a set with nothing for this batch (no gold times) is no update, not an error
            none, parts = compute_loss(model, [ex], TrainConfig(losses=("supervised",)), 0, None)
        assert float(none) == 0.0 and parts == {}
    finally:
        del losses.REGISTRY["alpha_spread"]

