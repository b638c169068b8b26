"""Imperfect transcripts: suspect stretches, errors kept local, and <unk> for unknown speech."""

import json

import numpy as np
import pytest
import torch

from conftest import run_cli
from otalign_cli.alignment.spans import Spans
from otalign_cli.alignment.segments import split_at_unknown
from otalign_cli.alignment.suspect import merge_stretches, suspect_stretches, unexplained_speech
from otalign_cli.text.pronounce import pronounce_transcript

TEXT = ("And Mr. John Dashwood had then leisure to consider how much there might be prudently in his power "
        "to do for them.")


def _align(example, tmp_path, text, name, *extra, wav=None):
    wav = wav or example[0]
    txt = tmp_path / f"{name}.txt"
    txt.write_text(text)
    proc = run_cli("align", wav, txt, "-o", tmp_path / f"{name}.json", "-f", "json", "-f", "textgrid", "-q", *extra)
    assert proc.returncode == 0, proc.stderr
    return json.loads((tmp_path / f"{name}.json").read_text())


def _times(data):
    return {w["word"]: (w["start"], w["end"]) for w in data["words"]}


def test_unk_is_one_word_with_one_pseudo_phone():
    pron = pronounce_transcript("hello <UNK> world.")
    assert [w.written for w in pron.words] == ["hello", "<unk>", "world"]
    assert pron.phones[pron.word_of_phone.index(1)] == "spn" and pron.word_of_phone.count(1) == 1


def test_split_at_unknown_gives_unknown_tokens_their_path_frames():
    tok_path = np.array([0, 0, 1, 1, -1, 2, 2, 2, 2, 3, 3])
    unknown = np.array([False, False, True, False])
    parts = split_at_unknown((0, 11, 0, 4), tok_path, unknown)
    assert parts == [((0, 5, 0, 2), False), ((5, 9, 2, 3), True), ((9, 11, 3, 4), False)]


def test_suspect_stretch_where_assigned_phones_are_unlike_the_audio():
    n, v = 200, 5
    lp = torch.full((n, v), -6.0)
    lp[:, 0] = 0.0  # the audio is token 0 throughout
    spans = Spans(torch.tensor([0.0, 100.0, 140.0]), torch.tensor([100.0, 140.0, 200.0]))
    stretches = suspect_stretches(lp, torch.tensor([0, 3, 0]), spans)  # token 3 is not in the audio
    assert len(stretches) == 1
    a, b = stretches[0]
    assert abs(a - 100) <= 15 and abs(b - 140) <= 15
    assert suspect_stretches(lp, torch.tensor([0, 0, 0]), spans) == []


def test_unexplained_speech_is_where_the_path_holds_speech_between_words():
    tok_path = np.array([0] * 10 + [-1] * 20 + [1] * 10 + [-1] * 20 + [2] * 10)
    sil = torch.zeros(70)  # log P(silence): a true pause ...
    sil[10:30] = -6.0  # ... except frames 10-29, which the model calls speech
    assert unexplained_speech(tok_path, sil, filler_logp=-3.0) == [(10, 30)]
    assert unexplained_speech(tok_path, sil, filler_logp=-3.0, min_frames=25) == []
    assert unexplained_speech(tok_path, torch.zeros(70), filler_logp=-3.0) == []  # pauses are not suspect
    edges = torch.zeros(70)
    edges[:10] = edges[60:] = -6.0
    edge_path = np.array([-1] * 10 + [0] * 50 + [-1] * 10)  # speech before the first and after the last word
    assert unexplained_speech(edge_path, edges, filler_logp=-3.0, min_frames=5) == []


def test_merge_stretches_joins_overlapping_and_touching_ranges():
    assert merge_stretches([(50, 60), (0, 10)], [(8, 20), (20, 30), (70, 80)]) == [(0, 30), (50, 60), (70, 80)]
    assert merge_stretches([], []) == []


def test_missing_words_stay_local_and_are_reported(example, tmp_path):
    clean = _times(_align(example, tmp_path, TEXT, "clean", "--no-ctc"))
    data = _align(example, tmp_path, TEXT.replace("leisure to consider", "leisure"), "missing", "--no-ctc")
    assert data["stats"]["suspect"], "a stretch of untranscribed speech must be reported"
    # "to consider" was said at about 2.6-3.4 s: a stretch covers it and names the words around the gap
    hit = [s for s in data["stats"]["suspect"] if s["start"] < 3.0 and s["end"] > 3.0]
    assert hit and "leisure" in hit[0]["words"] and "how" in hit[0]["words"]
    got = _times(data)
    for word in ("John", "Dashwood", "how", "much", "prudently", "power", "them"):
        assert abs(got[word][0] - clean[word][0]) < 0.1, word  # the rest of the file is not derailed


def test_unk_takes_the_unknown_stretch_and_neighbours_keep_their_times(example, tmp_path):
    clean = _times(_align(example, tmp_path, TEXT, "clean", "--no-ctc"))
    data = _align(example, tmp_path, TEXT.replace("leisure to consider", "<unk>"), "unk")
    got = _times(data)
    assert got["<unk>"][0] == pytest.approx(clean["leisure"][0], abs=0.15)
    assert got["<unk>"][1] == pytest.approx(clean["consider"][1], abs=0.15)
    for word in ("then", "how", "much"):  # within 3 output frames: the piece after <unk> is read on its own
        assert abs(got[word][0] - clean[word][0]) < 0.06, word
    unk = next(w for w in data["words"] if w["word"] == "<unk>")
    assert [p["phone"] for p in unk["phones"]] == ["spn"] and "confidence" not in unk
    assert "unknown speech" in data["stats"]["ctc_skipped"]


def test_the_anchoring_path_is_found_once_per_file(example, tmp_path, monkeypatch):
    from otalign_cli import pipeline
    from otalign_cli.models import load_models

    calls = []
    real = pipeline.find_anchors
    monkeypatch.setattr(pipeline, "find_anchors", lambda *a, **k: calls.append(1) or real(*a, **k))
    txt = tmp_path / "missing.txt"
    txt.write_text(TEXT.replace("leisure to consider", "leisure"))
    ottc = load_models(with_ctc=False).ottc
    res = pipeline.align_file(example[0], txt, ottc, None, variants=False)
    assert res.stats.suspect and len(calls) == 1  # the second, distrusting pass reuses it
    calls.clear()
    res = pipeline.align_file(example[0], txt, ottc, None)
    # once more only when the audio chose other pronunciations (the phones, so the path, changed)
    assert res.stats.suspect and len(calls) == 1 + bool(res.stats.pronunciations)


INSERTED = TEXT.replace("then leisure", "then meanwhile the committee adjourned leisure")


def test_the_suspect_detectors_operating_point_is_the_users_to_set(example, tmp_path):
    import otalign_cli as otalign

    wav, _ = example
    models = otalign.load_models(with_ctc=False)
    inserted = tmp_path / "inserted.txt"
    inserted.write_text(INSERTED)
    shipped = otalign.align(wav, inserted, models).stats.suspect
    assert len(shipped) == 1 and "committee" in shipped[0].words  # about 2.3 s of audio the phrase is not in
    assert otalign.align(wav, inserted, models, suspect_threshold=-20.0).stats.suspect == []
    assert otalign.align(wav, inserted, models, suspect_min_seconds=shipped[0].end - shipped[0].start + 0.5
                         ).stats.suspect == []
    # a loose threshold flags stretches of the correct transcript that the shipped one leaves alone,
    # and the minimum length decides which of them are reported
    assert not _align(example, tmp_path, TEXT, "clean", "--no-ctc")["stats"]["suspect"]
    loose = _align(example, tmp_path, TEXT, "loose", "--no-ctc", "--suspect-threshold", "-1",
                   "--suspect-min-seconds", "0.3")["stats"]["suspect"]
    assert any(s["end"] - s["start"] < 0.4 for s in loose)
    clean = tmp_path / "clean.txt"
    longer = otalign.align(wav, clean, models, suspect_threshold=-1.0, suspect_min_seconds=0.4).stats.suspect
    assert 0 < len(longer) < len(loose) and all(s.end - s.start >= 0.4 - 0.02 for s in longer)  # within a frame


def test_batch_passes_the_suspect_settings_to_its_workers(example, tmp_path):
    wav, _ = example
    corpus = tmp_path / "corpus" / "spk"
    corpus.mkdir(parents=True)
    (corpus / "a.wav").write_bytes(wav.read_bytes())
    (corpus / "a.txt").write_text(INSERTED)
    for name, extra, expected in (("shipped", [], 1), ("strict", ["--suspect-threshold", "-20"], 0)):
        out = tmp_path / name  # two jobs: worker processes, which get the settings from the command
        proc = run_cli("batch", tmp_path / "corpus", out, "--no-ctc", "--jobs", "2", *extra)
        assert proc.returncode == 0, proc.stderr
        assert len((out / "suspects.tsv").read_text().splitlines()[1:]) == expected, name
        threshold = json.loads((out / "summary.json").read_text())["settings"]["suspect_threshold"]
        assert threshold == (-3.0 if name == "shipped" else -20.0)


@pytest.mark.parametrize("option", [["--suspect-threshold", "0.5"], ["--suspect-threshold", "nan"],
                                    ["--suspect-min-seconds", "0"]])
def test_a_suspect_setting_out_of_range_is_a_usage_error(example, option):
    wav, txt = example
    proc = run_cli("align", wav, txt, *option)
    assert proc.returncode == 2 and option[0] in proc.stderr


@pytest.mark.parametrize("settings", [{"threshold": 0.5}, {"threshold": float("nan")}, {"min_seconds": 0.0},
                                      {"min_seconds": float("inf")}])
def test_suspect_settings_out_of_range_are_refused_in_the_library_too(settings):
    from otalign_cli.alignment.suspect import SuspectSettings

    with pytest.raises(ValueError, match="suspect"):
        SuspectSettings(**settings)


def test_a_bracketed_event_covers_a_noise_and_takes_nothing_where_none_is(example, tmp_path):
    import soundfile as sf

    clean = _times(_align(example, tmp_path, TEXT, "clean", "--no-ctc"))
    marked = TEXT.replace("Dashwood had", "Dashwood [noise] had")
    quiet = _align(example, tmp_path, marked, "quiet")  # an annotator's marker over nothing audible
    got = _times(quiet)
    assert got["[noise]"][1] - got["[noise]"][0] <= 0.04
    # read as if the marker were not there: the words keep their times, its neighbours give it a frame
    assert all(abs(got[w][k] - clean[w][k]) < 1e-3 for w in clean if w not in ("Dashwood", "had") for k in (0, 1))
    assert abs(got["had"][0] - clean["had"][0]) < 0.06 and got["[noise]"][1] <= got["had"][0]
    event = next(w for w in quiet["words"] if w["word"] == "[noise]")
    assert [p["phone"] for p in event["phones"]] == ["nsn"] and "unknown speech" in quiet["stats"]["ctc_skipped"]

    samples, sr = sf.read(example[0], dtype="float32")
    at = (clean["Dashwood"][1] + clean["had"][0]) / 2  # 0.4 s of white noise spliced in there
    noise = np.random.default_rng(0).standard_normal(int(0.4 * sr)).astype(np.float32) * 0.3 * np.sqrt(np.mean(samples ** 2))
    wav = tmp_path / "noisy.wav"
    sf.write(wav, np.concatenate([samples[:round(at * sr)], noise, samples[round(at * sr):]]), sr)
    txt = tmp_path / "noisy.txt"
    txt.write_text(marked)
    proc = run_cli("align", wav, txt, "-o", tmp_path / "noisy.json", "-f", "json", "-q")
    assert proc.returncode == 0, proc.stderr
    got = _times(json.loads((tmp_path / "noisy.json").read_text()))
    assert abs(got["[noise]"][0] - at) < 0.06 and abs(got["[noise]"][1] - (at + 0.4)) < 0.06
    for word in ("John", "had", "consider", "them"):
        assert abs(got[word][0] - clean[word][0] - (0.4 if clean[word][0] >= at else 0)) < 0.06, word


def test_an_inaudible_event_is_put_back_between_its_neighbours():
    from otalign_cli.alignment.readouts.read import _inaudible_events, _with_events

    v = 40
    targets = torch.tensor([3, 5, v + 1, 7, v + 1, v + 1, 9])
    tok_path = np.array([0, 0, 1, 1, 1, 2, 3, 3, 4, 4, 4, -1, 5, 6, 6])  # the second event has 3 frames
    assert _inaudible_events(targets, tok_path, v).tolist() == [False, False, True, False, False, True, False]
    inaudible = _inaudible_events(targets, tok_path, v)
    inaudible[4] = True  # (as if) all three are inaudible
    read = Spans(torch.tensor([0.0, 2.0, 5.0, 10.0], dtype=torch.float64),
                 torch.tensor([2.0, 5.0, 8.0, 15.0], dtype=torch.float64))  # tokens 0, 1, 3, 6
    sp = _with_events(read, inaudible, tok_path)
    # token 2 (1 frame) across the edge tokens 1 and 3 share, half a frame from each; tokens 4 and
    # 5 (3 + 1 frames) centred on the 2-frame pause between tokens 3 and 6, a frame from each
    assert sp.onset.tolist() == [0.0, 2.0, 4.5, 5.5, 7.0, 10.0, 11.0]
    assert sp.offset.tolist() == [2.0, 4.5, 5.5, 7.0, 10.0, 11.0, 15.0]


def test_inaudible_events_in_a_long_file_leave_the_words_where_they_were(example, tmp_path):
    import soundfile as sf

    samples, sr = sf.read(example[0], dtype="float32")
    wav = tmp_path / "long.wav"  # 22 s: read piece by piece between anchors
    sf.write(wav, np.concatenate([samples, np.zeros(sr // 2, "float32")] * 3), sr)
    marked = (TEXT.replace("might", "might [noise]") + " " + TEXT.replace("be prudently", "be [noise] prudently")
              + " " + TEXT.replace("Mr.", "Mr. [noise]"))
    plain = _align(example, tmp_path, " ".join([TEXT] * 3), "plain", "--no-ctc", wav=wav)["words"]
    got = [w for w in _align(example, tmp_path, marked, "marked", wav=wav)["words"] if w["word"] != "[noise]"]
    moved = [abs(a[k] - b[k]) for a, b in zip(got, plain) for k in ("start", "end")]
    # (read around the events, piece by piece, they moved 3.4 ms on average and up to 37 ms)
    assert len(got) == len(plain) and max(moved) < 0.04 and np.mean(moved) < 0.002
