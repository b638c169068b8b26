"""The MFA user's workflow: a pronunciation dictionary, ``otalign validate`` before a long run,
and TextGrid transcripts with one tier per speaker."""

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from praatio import textgrid as ptg

from conftest import EXAMPLE_TXT, EXAMPLE_WAV, run_cli
from otalign_cli.errors import OtalignError
from otalign_cli.text.dictionary import parse_dictionary, read_dictionary
from otalign_cli.text.pronounce import pronounce_transcript

DICT = """\
tomato\tT AH0 M EY1 T OW2
TOMATO 0.4 T AH M AA T OW
tomato 0.9 0.1 1.0 1.0 T AH M AA T OW
covid-19  K OW V IH D N AY N T IY N
dashwood D AE1 SH W UH2 D
"""


def test_dictionary_variants_probabilities_and_stress():
    d = parse_dictionary(DICT, Path("d.dict"))
    # the unannotated first line counts as probability 1.0, the second 0.4 (its repeat on line 3
    # is dropped): most probable first, stress digits and case gone
    assert d.get("tomato") == (("T", "AH", "M", "EY", "T", "OW"), ("T", "AH", "M", "AA", "T", "OW"))
    assert d.get("Dashwood") == (("D", "AE", "SH", "W", "UH", "D"),)


@pytest.mark.parametrize("text, message", [
    ("hello HH AH L OW\nworld W ER1 L DX\n", "line 2: word 'world': phone 'DX' is not in the model's phone set"),
    ("hello\n", "line 1: word 'hello' has no phones"),
    ("\n\n", "dictionary has no entries"),
])
def test_bad_dictionary_lines_name_the_line_word_and_phone(text, message):
    with pytest.raises(OtalignError) as err:
        parse_dictionary(text, Path("my.dict"))
    assert str(err.value).startswith("my.dict: ") and message in str(err.value)


def test_dictionary_comes_before_cmudict_and_whole_tokens():
    d = parse_dictionary(DICT, Path("d.dict"))
    p = pronounce_transcript("Tomato and COVID-19.", user=d)
    assert [w.written for w in p.words] == ["Tomato", "and", "COVID-19"]
    assert p.phones[:6] == ("T", "AH", "M", "EY", "T", "OW")
    assert p.alternatives[0] == d.get("tomato")  # the audio may choose among the user's variants
    assert p.phones[-10:] == tuple("K OW V IH D N AY N T IY N".split())[-10:]
    assert not p.oov
    without = pronounce_transcript("COVID-19")
    assert len(without.words) == 1 and "N AY N T IY N" in " ".join(without.phones)  # nineteen, spelt out


def test_align_with_dictionary_uses_its_pronunciation(example):
    wav, txt = example
    d = wav.parent / "my.dict"
    d.write_text("dashwood D AE SH W UH D\nleisure L EH ZH ER\n")
    proc = run_cli("align", wav, txt, "--dictionary", d, "-f", "json", "--no-ctc", "-q")
    assert proc.returncode == 0, proc.stderr
    words = {w["word"]: [p["phone"] for p in w["phones"]] for w in json.loads(wav.with_suffix(".json").read_text())["words"]}
    assert words["Dashwood"] == ["D", "AE", "SH", "W", "UH", "D"] and words["leisure"] == ["L", "EH", "ZH", "ER"]
    d.write_text("dashwood D AE SH W UH D\nleisure L EH ZH ER0 QQ\n")
    proc = run_cli("align", wav, txt, "--dictionary", d, "-f", "json", "--no-ctc", "--overwrite")
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines() == [f"error: {d}: line 2: word 'leisure': phone 'QQ' is not in the "
                                                "model's phone set (ARPAbet: AA AE AH AO AW AY B CH D DH EH ER EY F G "
                                                "HH IH IY JH K L M N NG OW OY P R S SH T TH UH UW V W Y Z ZH)"]


@pytest.fixture
def messy_corpus(tmp_path):
    c = tmp_path / "corpus"
    for spk in ("s1", "s2"):
        (c / spk).mkdir(parents=True)
    shutil.copy(EXAMPLE_WAV, c / "s1" / "good.wav")
    shutil.copy(EXAMPLE_TXT, c / "s1" / "good.txt")
    shutil.copy(EXAMPLE_WAV, c / "s1" / "twin.wav")
    shutil.copy(EXAMPLE_WAV, c / "s1" / "twin.flac")  # one stem, two recordings
    (c / "s1" / "twin.txt").write_text("hello")
    shutil.copy(EXAMPLE_WAV, c / "s2" / "oov.wav")
    (c / "s2" / "oov.txt").write_text("the zorblatt [noise] quuxed")
    shutil.copy(EXAMPLE_WAV, c / "s2" / "empty.wav")
    (c / "s2" / "empty.txt").write_text(" ... \n")
    sf.write(c / "s2" / "short.wav", np.random.default_rng(0).normal(0, 0.1, 1600).astype("float32"), 16000)
    (c / "s2" / "short.txt").write_text("this sentence is far too long for a tenth of a second")
    sf.write(c / "s2" / "silent.wav", np.zeros(16000, "float32"), 16000)
    (c / "s2" / "silent.txt").write_text("hello")
    (c / "s2" / "broken.wav").write_bytes(b"RIFF not really a wave file")
    (c / "s2" / "broken.txt").write_text("hello")
    shutil.copy(EXAMPLE_WAV, c / "s2" / "latin1.wav")
    (c / "s2" / "latin1.txt").write_bytes("caf\xe9".encode("latin-1"))
    shutil.copy(EXAMPLE_WAV, c / "s2" / "alone.wav")
    shutil.copy(EXAMPLE_WAV, c / "s2" / "symbols.wav")
    (c / "s2" / "symbols.txt").write_text("日本語")
    return c


def test_validate_finds_every_problem(messy_corpus, tmp_path):
    tsv, g2p = tmp_path / "problems.tsv", tmp_path / "g2p.dict"
    proc = run_cli("validate", messy_corpus, "--tsv", tsv, "--g2p-dictionary", g2p)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
    rows = [line.split("\t") for line in tsv.read_text().splitlines()[1:]]
    kinds = {(path, kind) for path, kind, _ in rows}
    assert kinds == {("s1/twin.flac", "duplicate stem"), ("s1/twin.wav", "duplicate stem"),
                     ("s2/empty.wav", "transcript"), ("s2/short.wav", "too short"), ("s2/silent.wav", "audio"),
                     ("s2/broken.wav", "audio"), ("s2/latin1.wav", "transcript"), ("s2/alone.wav", "no transcript"),
                     ("s2/symbols.wav", "unpronounceable")}
    assert "would align" in proc.stdout and "zorblatt" in proc.stdout and "[noise] 1" in proc.stdout
    guesses = read_dictionary(g2p)  # the G2P words come back as a dictionary --dictionary reads
    assert set(guesses.entries) == {"zorblatt", "quuxed"}
    (messy_corpus / "s2" / "oov.txt").write_text("the zorblatt quuxed")
    for p in messy_corpus.rglob("*"):
        if p.is_file() and p.stem not in ("good", "oov"):
            p.unlink()
    proc = run_cli("validate", messy_corpus, "--dictionary", g2p)
    assert proc.returncode == 0, proc.stdout
    assert re.search(r"would align\s*│\s*2\s*│", proc.stdout) and re.search(r"G2P \(distinct\)\s*│\s*0\s*│", proc.stdout)


def _two_speaker_textgrid(path: Path, duration: float) -> None:
    tg = ptg.Textgrid(0, duration)
    tg.addTier(ptg.IntervalTier("Alice", [(0.1, 3.0, "And Mr. John Dashwood had then leisure to")], 0, duration))
    tg.addTier(ptg.IntervalTier("Bob", [(3.3, 6.9, "how much there might be prudently in his power to do for them.")],
                                0, duration))
    tg.save(str(path), format="long_textgrid", includeBlankSpaces=True)


def test_two_speaker_textgrid_transcript(tmp_path):
    c = tmp_path / "corpus"
    c.mkdir()
    wav = c / "talk.wav"
    shutil.copy(EXAMPLE_WAV, wav)
    _two_speaker_textgrid(c / "talk.TextGrid", sf.info(str(wav)).duration)
    out = tmp_path / "out"
    proc = run_cli("batch", c, out, "-f", "textgrid", "-f", "csv", "-f", "vtt")
    assert proc.returncode == 0, proc.stderr + proc.stdout
    tg = ptg.openTextgrid(str(out / "talk.TextGrid"), includeEmptyIntervals=False)
    assert tg.tierNames[:4] == ("Alice - words", "Alice - phones", "Alice - ctc-words", "Alice - ctc-phones")
    assert "Bob - words" in tg.tierNames and "Bob - phones" in tg.tierNames
    alice = tg.getTier("Alice - words").entries
    bob = tg.getTier("Bob - words").entries
    assert [e.label for e in alice][:2] == ["And", "Mr"] and [e.label for e in bob][-1] == "them"
    assert all(0.1 - 1e-6 <= e.start and e.end <= 3.0 + 1e-6 for e in alice)  # inside their utterances
    assert all(3.3 - 1e-6 <= e.start and e.end <= 6.9 + 1e-6 for e in bob)
    csv_rows = (out / "talk.csv").read_text().splitlines()
    assert any(r.endswith(",words,Bob") for r in csv_rows) and any(r.endswith(",phones,Alice") for r in csv_rows)
    vtt = (out / "talk.vtt").read_text()
    assert "<v Alice>And" in vtt and "<v Bob>how" in vtt


def test_textgrid_transcript_past_the_end_is_one_line_error(example):
    wav, _ = example
    tg = ptg.Textgrid(0, 20)
    tg.addTier(ptg.IntervalTier("A", [(15.0, 16.0, "hello")], 0, 20))
    path = wav.with_suffix(".TextGrid")
    tg.save(str(path), format="long_textgrid", includeBlankSpaces=True)
    proc = run_cli("align", wav, path, "-o", wav.parent / "o")
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert "utterance A 15.00-16.00 s starts after the audio ends" in proc.stderr
    assert not list(wav.parent.glob("o.*"))


def test_outputs_never_overwrite_a_textgrid_transcript(tmp_path):
    c = tmp_path / "corpus"
    c.mkdir()
    wav = c / "talk.wav"
    shutil.copy(EXAMPLE_WAV, wav)
    tg = c / "talk.TextGrid"
    _two_speaker_textgrid(tg, sf.info(str(wav)).duration)
    before = tg.read_bytes()
    proc = run_cli("align", wav, tg, "--overwrite")  # default output: talk.TextGrid beside the audio
    assert proc.returncode == 1 and "would overwrite this input transcript" in proc.stderr
    proc = run_cli("batch", c, c, "--overwrite")
    assert proc.returncode == 2 and "would overwrite an input of the corpus" in proc.stderr
    assert tg.read_bytes() == before and "Traceback" not in proc.stderr


def test_two_speaker_elan_transcript(tmp_path):
    import pympi

    c = tmp_path / "corpus"
    c.mkdir()
    wav = c / "talk.wav"
    shutil.copy(EXAMPLE_WAV, wav)
    eaf = pympi.Elan.Eaf()
    eaf.add_linked_file(str(wav))
    eaf.add_tier("Alice")
    eaf.add_tier("Bob")
    eaf.add_annotation("Alice", 100, 3000, "And Mr. John Dashwood had then leisure to")
    eaf.add_annotation("Bob", 3300, 6900, "how much there might be prudently in his power to do for them.")
    eaf.add_linguistic_type("translation", "Symbolic_Association", False)
    eaf.add_tier("Bob-en", "translation", "Bob")  # a dependent tier: its text is not more speech
    eaf.add_ref_annotation("Bob-en", "Bob", 4000, "wie viel er tun konnte")
    eaf.to_file(str(c / "talk.eaf"))
    assert run_cli("validate", c).returncode == 0
    proc = run_cli("batch", c, tmp_path / "out", "-f", "textgrid", "--no-ctc")
    assert proc.returncode == 0, proc.stderr + proc.stdout
    tg = ptg.openTextgrid(str(tmp_path / "out" / "talk.TextGrid"), includeEmptyIntervals=False)
    alice, bob = (tg.getTier(f"{s} - words").entries for s in ("Alice", "Bob"))
    assert [e.label for e in alice][:2] == ["And", "Mr"] and [e.label for e in bob][-1] == "them"
    assert all(3.3 - 1e-6 <= e.start and e.end <= 6.9 + 1e-6 for e in bob) and not any("Bob-en" in t for t in tg.tierNames)
    (c / "talk.eaf").write_text("<not an ELAN file")
    proc = run_cli("align", wav, c / "talk.eaf", "-o", tmp_path / "x")
    assert proc.returncode == 1 and "talk.eaf: cannot read ELAN file" in proc.stderr and "Traceback" not in proc.stderr


def test_librispeech_listings_are_transcripts(tmp_path):
    c = tmp_path / "dev-clean"
    chapter = c / "19" / "198"
    chapter.mkdir(parents=True)
    audio, sr = sf.read(EXAMPLE_WAV, dtype="float32")
    for utt in ("0001", "0002", "0003"):  # flac, as LibriSpeech ships it
        sf.write(chapter / f"19-198-{utt}.flac", audio, sr)
    text = EXAMPLE_TXT.read_text().strip()
    (chapter / "19-198.trans.txt").write_text(f"19-198-0001 {text.upper()}\n19-198-0002 {text.upper()}\n")
    proc = run_cli("validate", c)
    assert proc.returncode == 1 and re.search(r"would align\s*│\s*2\s*│", proc.stdout), proc.stdout
    assert "19/198/19-198-0003.flac" in proc.stdout and "no transcript" in proc.stdout
    proc = run_cli("batch", c, tmp_path / "out", "-f", "json", "--no-ctc")
    assert proc.returncode == 1 and "19-198-0003.flac: no transcript" in (tmp_path / "out" / "errors.tsv").read_text()
    words = json.loads((tmp_path / "out" / "19" / "198" / "19-198-0002.json").read_text())["words"]
    assert [w["word"] for w in words[:3]] == ["AND", "MR", "JOHN"]
    proc = run_cli("align", chapter / "19-198-0003.flac", chapter / "19-198.trans.txt", "-o", tmp_path / "x")
    assert proc.returncode == 1 and "19-198.trans.txt: has no line for 19-198-0003" in proc.stderr
    from otalign_cli.train import load_corpus

    assert [e.id for e in load_corpus(c)] == ["19-198-0001", "19-198-0002"]  # otalign train reads it too


def test_an_utterance_that_is_only_a_marker_is_the_event_itself(tmp_path):
    wav = tmp_path / "talk.wav"
    shutil.copy(EXAMPLE_WAV, wav)
    duration = sf.info(str(wav)).duration
    tg = ptg.Textgrid(0, duration)
    tg.addTier(ptg.IntervalTier("A", [(0.1, 6.8, EXAMPLE_TXT.read_text().strip())], 0, duration))
    tg.addTier(ptg.IntervalTier("B", [(6.8, 7.05, "[laughter]"), (1.0, 1.5, "<sil>")], 0, duration))
    tg.save(str(tmp_path / "talk.TextGrid"), format="long_textgrid", includeBlankSpaces=True)
    assert run_cli("validate", tmp_path).returncode == 0
    proc = run_cli("align", wav, tmp_path / "talk.TextGrid", "-o", tmp_path / "out", "-f", "json", "-q")
    assert proc.returncode == 0, proc.stderr
    words = json.loads((tmp_path / "out.json").read_text())["words"]
    laugh = next(w for w in words if w["word"] == "[laughter]")
    assert (laugh["start"], laugh["end"]) == (6.8, 7.05) and [p["phone"] for p in laugh["phones"]] == ["nsn"]
    assert sum(w["word"] == "them" for w in words) == 1  # and A's words aligned as usual
