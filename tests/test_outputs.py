"""Every output format written for the shipped example and read back by an independent reader:
praatio for TextGrid, webvtt-py for SRT and WebVTT (plus a strict regex for VTT's inline word
timestamps), the csv module, pympi and ElementTree for ELAN."""

import csv
import json
import re
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

import pympi
import pytest
import webvtt
from praatio import textgrid as ptg

from conftest import EXAMPLE_TXT, copy_example, run_cli
from otalign_cli.formats import OutputOptions
from otalign_cli.formats.phone_sets import ARPABET_TO_IPA
from otalign_cli.formats.subtitles import make_cues, srt_text, vtt_text
from otalign_cli.results import Segment

ALL = ("textgrid", "ctm", "json", "csv", "srt", "vtt", "eaf")


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    d = tmp_path_factory.mktemp("outputs")
    wav, txt = copy_example(d)
    args = [a for f in ALL for a in ("-f", f)]
    proc = run_cli("align", wav, txt, *args, "-o", f"{d / 'out'}/", "--phone-set", "ipa", "--include-original-text",
                   "--max-line-chars", "30", "-q")
    assert proc.returncode == 0, proc.stderr
    out = d / "out"
    return out, json.loads((out / "dashwood.json").read_text())


def _ms(stamp: str) -> int:
    h, m, s = stamp.replace(",", ".").split(":")
    return round((int(h) * 3600 + int(m) * 60 + float(s)) * 1000)


def test_textgrid_has_original_text_and_provenance(outputs):
    out, js = outputs
    tg = ptg.openTextgrid(str(out / "dashwood.TextGrid"), includeEmptyIntervals=False)
    assert tg.tierNames == ("words", "phones", "ctc-words", "ctc-phones", "utterances", "otalign")
    (utt,) = tg.getTier("utterances").entries
    assert utt.label == " ".join(EXAMPLE_TXT.read_text().split())
    assert "phones in IPA" in tg.getTier("otalign").entries[0].label
    assert {e.label for e in tg.getTier("phones").entries} <= set(ARPABET_TO_IPA.values())
    assert [e.label for e in tg.getTier("words").entries] == [w["word"] for w in js["words"]]


def test_provenance_names_the_models_as_used(outputs, tmp_path):
    """The frame model's window lives outside its weights' SHA-256, so provenance names it; parts
    switched off (--no-frames, --no-boundaries) are not named as if they had placed the times."""
    from otalign_cli.models import load_models

    out, js = outputs
    ottc = load_models(with_ctc=False).ottc
    window_ms = round(1000 * ottc.frame_model.cfg.window)
    tier = ptg.openTextgrid(str(out / "dashwood.TextGrid"), includeEmptyIntervals=False).getTier("otalign")
    label = tier.entries[0].label
    assert f"frame {js['model']['frame_model_sha256'][:12]} window {window_ms} ms" in label
    assert f"boundary {js['model']['boundary_model_sha256'][:12]}" in label
    assert js["model"]["frame_model_window"] == ottc.frame_model.cfg.window
    assert len(js["model"]["frame_model_config_sha256"]) == len(js["model"]["boundary_model_config_sha256"]) == 64

    wav, txt = copy_example(tmp_path)
    proc = run_cli("align", wav, txt, "-f", "json", "-f", "ctm", "-o", str(tmp_path / "bare"), "--no-frames",
                   "--no-boundaries", "--no-ctc", "-q")
    assert proc.returncode == 0, proc.stderr
    bare = json.loads((tmp_path / "bare.json").read_text())
    assert bare["model"]["sha256"] == js["model"]["sha256"]
    assert not [k for k in bare["model"] if k.startswith(("frame_model", "boundary_model"))]
    head = (tmp_path / "bare.ctm").read_text().splitlines()[0]
    assert head.startswith(";; otalign") and "frame" not in head and "boundary" not in head
    # the plain readout runs neither the boundary nor the frame model, though both are loaded
    proc = run_cli("align", wav, txt, "-f", "json", "-o", str(tmp_path / "plain"), "--readout", "plain", "--no-ctc", "-q")
    assert proc.returncode == 0, proc.stderr
    plain = json.loads((tmp_path / "plain.json").read_text())
    assert plain["readout"] == "plain" and plain["model"] == bare["model"]


def test_csv_has_mfa_columns(outputs):
    out, js = outputs
    rows = list(csv.DictReader((out / "dashwood.csv").open(encoding="utf-8")))
    assert list(rows[0]) == ["Begin", "End", "Label", "Type", "Speaker"]
    words = [r for r in rows if r["Type"] == "words"]
    phones = [r for r in rows if r["Type"] == "phones"]
    assert [r["Label"] for r in words] == [w["word"] for w in js["words"]]
    assert len(phones) == sum(len(w["phones"]) for w in js["words"])
    assert {r["Label"] for r in phones} <= set(ARPABET_TO_IPA.values())
    assert {r["Speaker"] for r in rows} == {out.parent.name}  # the folder the audio is in, as MFA names speakers
    begins = [float(r["Begin"]) for r in rows]
    assert begins == sorted(begins)


def test_srt_cues_respect_the_limits(outputs):
    out, js = outputs
    cues = list(webvtt.from_srt(str(out / "dashwood.srt")))
    assert len(cues) >= 2  # 114 characters cannot fit one cue of two 30-character lines
    text = " ".join(c.text.replace("\n", " ") for c in cues).split()
    assert text == EXAMPLE_TXT.read_text().split()  # every word, punctuation as written
    for c in cues:
        assert all(len(line) <= 30 for line in c.text.splitlines())
        assert len(c.text.splitlines()) <= 2
        assert _ms(c.end) - _ms(c.start) <= 7000
    assert _ms(cues[0].start) == round(js["words"][0]["start"] * 1000)
    starts = [_ms(c.start) for c in cues]
    assert starts == sorted(starts)


def test_vtt_has_each_word_start_inline(outputs):
    out, js = outputs
    raw = (out / "dashwood.vtt").read_text(encoding="utf-8")
    assert raw.startswith("WEBVTT\n")
    cues = list(webvtt.read(str(out / "dashwood.vtt")))
    word_starts = [w["start"] * 1000 for w in js["words"]]  # JSON keeps 0.1 ms, VTT whole ms
    seen = []
    for cue in cues:
        stamps = [_ms(s) for s in re.findall(r"<(\d{2}:\d{2}:\d{2}\.\d{3})>", cue.raw_text)]
        assert stamps == sorted(stamps) and all(_ms(cue.start) < s < _ms(cue.end) for s in stamps)
        seen += [_ms(cue.start)] + stamps
    assert len(seen) == len(word_starts) and all(abs(a - b) <= 0.5 + 0.05 for a, b in zip(seen, word_starts))


def test_eaf_opens_in_pympi(outputs):
    out, js = outputs
    path = out / "dashwood.eaf"
    ET.parse(path)  # well-formed XML
    eaf = pympi.Elan.Eaf(str(path))
    assert {"words", "phones", "ctc-words", "ctc-phones", "utterances"} <= set(eaf.get_tier_names())
    words = sorted(eaf.get_annotation_data_for_tier("words"))
    assert [w[2] for w in words] == [w["word"] for w in js["words"]]
    for (start, end, _), w in zip(words, js["words"]):
        assert abs(start - w["start"] * 1000) <= 1 and abs(end - w["end"] * 1000) <= 1
    media = eaf.media_descriptors[0]
    assert media["MEDIA_URL"].endswith("/dashwood.wav") and media["RELATIVE_MEDIA_URL"] == "../dashwood.wav"


def test_ctm_phones_in_ipa(outputs):
    out, _ = outputs
    lines = (out / "dashwood.phones.ctm").read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith(";; otalign")
    assert {line.split()[4] for line in lines[1:]} <= set(ARPABET_TO_IPA.values())


def _word(text, start, end, speaker=""):
    return Segment(text.strip(".,?!"), start, end, None, text, speaker)


def test_cues_break_at_sentences_pauses_speakers_and_limits():
    words = [_word("Mr.", 0.0, 0.3), _word("Smith", 0.3, 0.6), _word("left.", 0.6, 0.9), _word("Then", 1.0, 1.2),
             _word("rain", 1.2, 1.5), _word("fell", 3.0, 3.3), _word("hard", 3.3, 3.6, "B")]
    cues = make_cues(words, OutputOptions())
    assert [[w.text for w in c.words] for c in cues] == [["Mr.", "Smith", "left."], ["Then", "rain"], ["fell"], ["hard"]]
    assert cues[-1].speaker == "B"
    long = [_word(f"word{i}", i * 0.3, i * 0.3 + 0.25) for i in range(40)]
    opts = OutputOptions(max_line_chars=20, max_cue_lines=2, max_cue_seconds=3.0)
    for c in make_cues(long, opts):
        lines = c.lines(opts)
        assert len(lines) <= 2 and all(len(" ".join(w.text for w in line)) <= 20 for line in lines)
        assert c.end - c.start <= 3.0
    srt = srt_text(make_cues(words, OutputOptions()), OutputOptions())
    assert "B: hard" in srt
    vtt = vtt_text(make_cues([_word("a<b", 0, 1, "Ann & Bo")], OutputOptions()), OutputOptions())
    assert "<v Ann &amp; Bo>a&lt;b" in vtt


def test_textgrid_times_near_zero_read_back(tmp_path):
    """A phone starting a few microseconds into the file (a real alignment did) used to be written
    as 2.6e-05, which praatio cannot parse: otalign's own evaluate failed on its own output."""
    from otalign_cli.formats.textgrid import read_textgrid, write_textgrid

    path = tmp_path / "near-zero.TextGrid"
    write_textgrid(path, {"words": [(2.6e-05, 0.5, "the"), (0.5, 0.90001, "page")],
                          "phones": [(2.6e-05, 0.2, "DH"), (0.2, 0.5, "AH"), (0.5, 0.90001, "P")]}, 1.0)
    assert "e-0" not in path.read_text()
    tiers = read_textgrid(path)
    assert [lab for *_, lab in tiers["phones"]] == ["DH", "AH", "P"]
    assert tiers["phones"][0][0] == 0.0 and tiers["words"][1][1] == pytest.approx(0.90001)
    ptg.openTextgrid(str(path), includeEmptyIntervals=True)  # the blank-filled form parses too


LATE_SRT = """1
00:00:03,000 --> 00:00:05,000
And Mr. John Dashwood
had then leisure

2
00:00:05,000 --> 00:00:05,500
\u266a \u266a

3
00:00:05,500 --> 00:00:09,500
- to consider how much there might be
<i>prudently</i> in his power to do for them.
"""


def test_subtitles_are_read_as_transcripts_text_only():
    from otalign_cli.text.cues import cues_text, read_cues

    tmp = Path(tempfile.mkdtemp())
    vtt = tmp / "a.vtt"
    vtt.write_text("WEBVTT\n\nNOTE made by hand\n\n00:00:01.000 --> 00:00:02.500\n<v Anna>Tom &amp; <i>Jerry</i>\n\n"
                   "00:00:00.500 --> 00:00:01.000\nfirst\n\n00:00:03.000 --> 00:00:04.000\n \n")
    cues = read_cues(vtt)  # in time order, the empty cue left out, tags, voice and NOTE dropped
    assert [(c.start, c.end, c.lines) for c in cues] == [(0.5, 1.0, ("first",)), (1.0, 2.5, ("Tom & Jerry",))]
    assert cues_text(cues) == "first\nTom & Jerry"
    srt = tmp / "a.srt"
    srt.write_text(LATE_SRT)
    assert [c.lines for c in read_cues(srt)][2] == ("- to consider how much there might be",
                                                     "prudently in his power to do for them.")


def test_subtitles_in_come_out_retimed_with_their_cues_as_written(tmp_path):
    wav, _ = copy_example(tmp_path)
    (tmp_path / "late.srt").write_text(LATE_SRT)
    proc = run_cli("align", wav, tmp_path / "late.srt", "-o", tmp_path / "retimed", "-f", "srt,vtt,json", "-q")
    assert proc.returncode == 0, proc.stderr
    words = json.loads((tmp_path / "retimed.json").read_text())["words"]
    assert [w["word"] for w in words[:3]] == ["And", "Mr", "John"] and len(words) == 22
    cues = list(webvtt.from_srt(str(tmp_path / "retimed.srt")))
    assert [c.text for c in cues] == ["And Mr. John Dashwood\nhad then leisure", "\u266a \u266a",
                                      "- to consider how much there might be\nprudently in his power to do for them."]
    ms = [(c.start_time.in_milliseconds(), c.end_time.in_milliseconds()) for c in cues]
    assert ms[0] == (round(words[0]["start"] * 1000), round(words[6]["end"] * 1000))  # 2 s earlier than written
    assert ms[2] == (round(words[7]["start"] * 1000), round(words[-1]["end"] * 1000))
    # the wordless cue moved as the cue before it was (written 3.0 s -> 0.247 s), its length kept
    assert ms[1][0] == 5000 + ms[0][0] - 3000 and ms[1][1] - ms[1][0] == 500
    vtt = list(webvtt.read(str(tmp_path / "retimed.vtt")))
    assert [(c.start_time.in_milliseconds(), c.end_time.in_milliseconds()) for c in vtt] == ms


def test_unreadable_subtitles_are_one_line(tmp_path):
    wav, _ = copy_example(tmp_path)
    (tmp_path / "bad.vtt").write_text("not subtitles at all")
    (tmp_path / "empty.srt").write_text("1\n00:00:01,000 --> 00:00:02,000\n\n")
    for name, says in (("bad.vtt", "cannot read VTT subtitles"), ("empty.srt", "subtitles have no cue with text")):
        proc = run_cli("align", wav, tmp_path / name, "-o", tmp_path / "x", "-q")
        assert proc.returncode == 1 and f"{name}: {says}" in proc.stderr and "Traceback" not in proc.stderr
        assert not list(tmp_path.glob("x.*"))


def test_batch_and_validate_take_same_stem_subtitles(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    copy_example(corpus)
    (corpus / "dashwood.txt").unlink()
    (corpus / "dashwood.srt").write_text(LATE_SRT)
    proc = run_cli("validate", corpus)
    assert proc.returncode == 0 and "would align" in proc.stdout, proc.stdout + proc.stderr
    proc = run_cli("batch", corpus, tmp_path / "out", "-f", "srt", "--no-ctc")
    assert proc.returncode == 0, proc.stderr
    cues = list(webvtt.from_srt(str(tmp_path / "out" / "dashwood.srt")))
    assert len(cues) == 3 and cues[0].start_time.in_milliseconds() < 1000  # written at 3 s, retimed
