"""``otalign align`` end to end on the shipped example with the bundled models."""

import json

import parselmouth
import pytest
from praatio import textgrid as ptg

from conftest import EXAMPLE_TXT, run_cli
from otalign_cli.text.normalize import normalize_transcript
from otalign_cli.text.pronounce import pronounce_transcript


@pytest.fixture(scope="module")
def aligned(tmp_path_factory):
    from conftest import copy_example

    d = tmp_path_factory.mktemp("align")
    wav, txt = copy_example(d)
    proc = run_cli("align", wav, txt, "--format", "textgrid", "--format", "ctm", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    return d, proc


def test_report_table_printed(aligned):
    _, proc = aligned
    for row in ("words aligned", "label delay CTC - OT, mean (ms)", "CTC peaky", "OT dropped", "x real time"):
        assert row in proc.stdout


def test_min_confidence_lists_low_words(example):
    wav, txt = example
    proc = run_cli("align", wav, txt, "--no-ctc", "-f", "json", "--min-confidence", "1.01")
    assert proc.returncode == 0, proc.stderr
    assert "words with confidence < 1.01" in proc.stdout and "Dashwood (" in proc.stdout
    proc = run_cli("align", wav, txt, "--no-ctc", "-f", "json", "--overwrite", "--min-confidence", "0")
    assert "words with confidence < 0" in proc.stdout and "none" in proc.stdout


def test_textgrid_opens_in_praat_and_praatio(aligned):
    d, _ = aligned
    path = d / "dashwood.TextGrid"
    tg = parselmouth.read(str(path))  # Praat itself parses the file
    assert parselmouth.praat.call(tg, "Get number of tiers") == 5
    assert parselmouth.praat.call(tg, "Get tier name...", 3) == "ctc-words"
    pt = ptg.openTextgrid(str(path), includeEmptyIntervals=False)
    assert pt.tierNames == ("words", "phones", "ctc-words", "ctc-phones", "otalign")
    info = pt.getTier("otalign").entries  # what produced the times, visible in Praat
    assert len(info) == 1 and "readout refine" in info[0].label and "model en-ottc" in info[0].label
    expected = [w.written for w in normalize_transcript(EXAMPLE_TXT.read_text())]
    for tier in ("words", "ctc-words"):
        entries = pt.getTier(tier).entries
        assert [e.label for e in entries] == expected  # every written word, in order
        times = [t for e in entries for t in (e.start, e.end)]
        assert times == sorted(times) and times[0] >= 0 and times[-1] <= pt.maxTimestamp + 1e-9
    phones = pt.getTier("phones").entries
    words = pt.getTier("words").entries
    assert phones[0].start == pytest.approx(words[0].start) and phones[-1].end == pytest.approx(words[-1].end)


def test_ctm_word_and_phone_lines(aligned):
    d, _ = aligned
    heads, words, phones = [], [], []
    for name, rows in (("dashwood.ctm", words), ("dashwood.phones.ctm", phones)):
        first, *rest = (d / name).read_text().splitlines()
        heads.append(first)
        rows.extend(line.split() for line in rest)
    assert all(h.startswith(";; otalign ") and "readout refine" in h and "model en-ottc" in h for h in heads)
    assert not any(r[0].startswith(";;") for r in words + phones)
    assert [w[4] for w in words] == [w.written for w in normalize_transcript(EXAMPLE_TXT.read_text())]
    for rows in (words, phones):
        assert all(r[0] == "dashwood" and r[1] == "1" and len(r) == 6 and 0 <= float(r[5]) <= 1 for r in rows)
        starts = [float(r[2]) for r in rows]
        assert starts == sorted(starts) and all(float(r[3]) >= 0 for r in rows)
    pron = pronounce_transcript(EXAMPLE_TXT.read_text())
    chosen = {c["index"]: c["phones"].split()
              for c in json.loads((d / "dashwood.json").read_text())["stats"]["pronunciations"]}
    expected = [p for i in range(len(pron.words))
                for p in chosen.get(i, [x for x, w in zip(pron.phones, pron.word_of_phone) if w == i])]
    assert [p[4] for p in phones] == expected  # the pronunciations the audio chose, as the JSON reports them


def test_json_fields(aligned):
    d, _ = aligned
    data = json.loads((d / "dashwood.json").read_text())
    assert data["readout"] == "refine+boundaries" and data["model"]["kind"] == "ottc" and len(data["model"]["sha256"]) == 64
    assert data["words"][1]["word"] == "Mr" and [p["phone"] for p in data["words"][1]["phones"]] == ["M", "IH", "S", "T", "ER"]
    for w in data["words"]:
        assert w["start"] <= w["end"] and w["phones"][0]["start"] == w["start"] and w["phones"][-1]["end"] == w["end"]
        assert 0 <= w["confidence"] <= 1 and all(0 <= p["confidence"] <= 1 for p in w["phones"])
        mean = sum(p["confidence"] for p in w["phones"]) / len(w["phones"])
        assert abs(w["confidence"] - mean) < 1e-3
    assert set(data["label_delay"]) == {"mean_ms", "median_ms", "p90_ms"}
    assert len(data["ctc"]["words"]) == len(data["words"])
    assert 0 <= data["stats"]["ctc_peaky_pct"] <= 100 and data["duration"] == pytest.approx(7.1)


@pytest.mark.parametrize("readout", ["plain", "banded", "viterbi"])
def test_other_readouts(example, readout):
    wav, txt = example
    proc = run_cli("align", wav, txt, "--readout", readout, "--no-ctc", "-f", "json", "-o", wav.parent / "r.json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads((wav.parent / "r.json").read_text())
    assert data["readout"] == readout and "ctc" not in data
    assert len(data["words"]) == 22


@pytest.mark.parametrize("formats,written", [
    (["-f", "textgrid", "-f", "json"], ["dashwood.TextGrid", "dashwood.json"]),
    (["-f", "ctm,json", "-f", "json"], ["dashwood.ctm", "dashwood.json", "dashwood.phones.ctm"]),  # commas too
])
def test_output_into_a_folder(example, tmp_path, formats, written):
    wav, txt = example
    out = tmp_path / "aligned"
    out.mkdir()
    proc = run_cli("align", wav, txt, "--no-ctc", "-o", out, *formats)
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in out.iterdir()) == written


def test_an_unknown_format_is_refused_before_any_file_is_read(example, tmp_path):
    _, txt = example
    proc = run_cli("align", tmp_path / "missing.wav", txt, "--no-ctc", "-o", tmp_path / "x", "-f", "textgrid,praat")
    assert proc.returncode == 2 and "'praat' is not one of" in proc.stderr and "missing.wav" not in proc.stderr
    assert "Traceback" not in proc.stderr and not (tmp_path / "x.TextGrid").exists()


@pytest.mark.parametrize("fmt,subtype,rate", [("FLAC", None, 44100), ("MP3", None, 22050), ("OGG", "VORBIS", 48000)])
def test_compressed_resampled_stereo_input(example, tmp_path, fmt, subtype, rate):
    import numpy as np
    import soundfile as sf
    import soxr

    wav, txt = example
    audio, sr = sf.read(wav)
    stereo = np.stack([soxr.resample(audio, sr, rate)] * 2, axis=1)
    path = tmp_path / f"stereo.{fmt.lower()}"
    sf.write(path, stereo, rate, format=fmt, subtype=subtype)
    proc = run_cli("align", path, txt, "-f", "json", "--no-ctc")
    assert proc.returncode == 0, proc.stderr
    data = json.loads((tmp_path / "stereo.json").read_text())
    assert data["duration"] == pytest.approx(7.1, abs=0.06) and len(data["words"]) == 22
    assert run_cli("align", wav, txt, "-f", "json", "--no-ctc", "-o", tmp_path / "ref.json").returncode == 0
    reference = json.loads((tmp_path / "ref.json").read_text())
    onsets = np.array([w["start"] for w in data["words"]])
    assert np.abs(onsets - [w["start"] for w in reference["words"]]).mean() < 0.05  # same words, same places


def test_passes(example):
    wav, txt = example
    times = {}
    for passes in (1, 2):
        out = wav.parent / f"p{passes}.json"
        proc = run_cli("align", wav, txt, "--passes", str(passes), "--no-ctc", "-f", "json", "-o", out)
        assert proc.returncode == 0, proc.stderr
        data = json.loads(out.read_text())
        assert data["stats"]["passes"] == passes
        times[passes] = [(w["start"], w["end"]) for w in data["words"]]
    moved = [abs(a - b) for w1, w2 in zip(times[1], times[2]) for a, b in zip(w1, w2)]
    assert max(moved) < 0.04 and sum(moved) > 0  # the second pass refines, it does not relocate
    proc = run_cli("align", wav, txt, "--passes", "3", "--no-ctc", "-o", wav.parent / "p3.json")
    assert proc.returncode == 2 and "--passes must be 1 to 2" in proc.stderr
    assert not list(wav.parent.glob("p3.*"))
