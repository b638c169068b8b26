"""Adding a readout or an encoder is one module plus one registry line: nothing else in the package
needs to know about it. A readout and an encoder defined here are registered and used end to end."""

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
    assert "passes" not in res.stats  # the flags it did not set are honoured


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
