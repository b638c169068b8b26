"""The reserved-voice evaluation set: real gold timings, and training can never read it."""

import json
import shutil
from pathlib import Path

import pytest
import soundfile as sf

from conftest import run_cli
from otalign_cli.errors import OtalignError
from otalign_cli.formats.textgrid import read_textgrid
from otalign_cli.synth import festival, flite
from otalign_cli.synth.corpus import split_of
from otalign_cli.synth.evaluation_set import EVALUATION_VOICES, RESERVED_MARKER, build_evaluation_set
from otalign_cli.train import load_corpus

HTS = Path("/usr/share/festival/voices/us/cmu_us_slt_arctic_hts")
pytestmark = pytest.mark.skipif(shutil.which("festival") is None or not HTS.is_dir(),
                                reason="festival with festvox-us-slt-hts is not installed")


@pytest.fixture(scope="module")
def evalset(tmp_path_factory):
    out = tmp_path_factory.mktemp("reserved")
    return out, build_evaluation_set(out, per_voice=2, seed=3)


def test_each_reserved_voice_speaks_held_out_sentences_with_gold_times(evalset):
    out, utts = evalset
    assert sorted({u.voice for u in utts}) == sorted(EVALUATION_VOICES) and len(utts) == 2 * len(EVALUATION_VOICES)
    assert all(split_of(u.text, 0.05) == "dev" and u.split == "eval" for u in utts)
    assert [json.loads(x)["id"] for x in (out / "manifest.jsonl").read_text().splitlines()] == [u.id for u in utts]
    for u in utts:
        duration = sf.info(out / u.audio).duration
        tiers = read_textgrid(out / u.textgrid)
        phones, words = tiers["phones"], tiers["words"]
        assert len(words) >= 3 and all(0 <= s < e <= duration + 1e-6 for s, e, _ in phones + words)
        for s, e, _ in words:  # the phones inside each word tile it
            inside = [p for p in phones if p[0] >= s - 1e-6 and p[1] <= e + 1e-6]
            assert inside and inside[0][0] == pytest.approx(s) and inside[-1][1] == pytest.approx(e)
        assert phones[-1][1] > 0.5 * duration  # timings follow the audio, not a default


def test_training_refuses_the_evaluation_set_and_anything_around_it(evalset, tmp_path):
    out, _ = evalset
    for root in (out, out / EVALUATION_VOICES[0], out.parent):
        with pytest.raises(OtalignError, match="reserved-voice evaluation set"):
            load_corpus(root)
    assert len(load_corpus(out, split="eval", evaluation=True)) == 2 * len(EVALUATION_VOICES)
    proc = run_cli("train", out / "rms", tmp_path / "m.pt", "--steps", "1")
    assert proc.returncode == 1 and "reserved-voice evaluation set" in proc.stderr
    assert "Traceback" not in proc.stderr and not (tmp_path / "m.pt").exists()
    assert (out / RESERVED_MARKER).is_file()


def test_the_evaluation_path_refuses_training_voices():
    with pytest.raises(ValueError, match="evaluation voice"):
        flite.synthesize("hello", "awb", evaluation=True)
    with pytest.raises(ValueError, match="evaluation voice"):
        festival.synthesize([festival.SynthJob("x", "hello", "kal", 1.0, 100.0, 10.0)], Path("/tmp"), evaluation=True)
    with pytest.raises(ValueError, match="reserved"):
        festival.synthesize([festival.SynthJob("x", "hello", "cmu_us_slt_arctic_hts", 1.0, 100.0, 10.0)], Path("/tmp"))
