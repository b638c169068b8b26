"""Text front-end: normalization map, lexicon, offline G2P."""

import socket

import pytest

from otalign_cli.errors import OtalignError
from otalign_cli.text.g2p import g2p
from otalign_cli.text.lexicon import load_cmudict
from otalign_cli.text.normalize import normalize_transcript
from otalign_cli.text.phones import PHONES
from otalign_cli.text.pronounce import pronounce_transcript


def spoken(text):
    return [(w.written, " ".join(w.spoken)) for w in normalize_transcript(text)]


@pytest.mark.parametrize("text,expected", [
    ("It cost $3.50.", [("It", "it"), ("cost", "cost"), ("$3.50", "three dollars and fifty cents")]),
    ("$1", [("$1", "one dollar")]),
    ("\u00a32", [("\u00a32", "two pounds")]),
    ("15% off", [("15%", "fifteen percent"), ("off", "off")]),
    ("the 21st day", [("the", "the"), ("21st", "twenty first"), ("day", "day")]),
    ("in 1999", [("in", "in"), ("1999", "nineteen ninety nine")]),
    ("the 1980s", [("the", "the"), ("1980s", "nineteen eighties")]),
    ("2,500 people", [("2,500", "two thousand five hundred"), ("people", "people")]),
    ("at 10:30pm", [("at", "at"), ("10:30pm", "ten thirty p m")]),
    ("at 7:00", [("at", "at"), ("7:00", "seven o'clock")]),
    ("3.5 kg", [("3.5", "three point five"), ("kg", "kg")]),
    ("a well-known fact", [("a", "a"), ("well-known", "well known"), ("fact", "fact")]),
    ("don\u2019t stop", [("don't", "don't"), ("stop", "stop")]),
    ("the caf\u00e9 na\u00efve", [("the", "the"), ("caf\u00e9", "cafe"), ("na\u00efve", "naive")]),
    ("\u201cHello,\u201d she said \u2014 twice!", [("Hello", "hello"), ("she", "she"), ("said", "said"), ("twice", "twice")]),
    ("Tom & Jerry", [("Tom", "tom"), ("&", "and"), ("Jerry", "jerry")]),
    ("the U.S. army", [("the", "the"), ("U.S", "u s"), ("army", "army")]),
])
def test_normalization_keeps_written_to_spoken_map(text, expected):
    assert spoken(text) == expected


def test_punctuation_only_tokens_are_not_words():
    assert spoken("... -- !") == []


def test_lexicon_drops_stress_and_keeps_variants():
    lex = load_cmudict()
    assert len(lex) > 120000
    assert lex["hello"][0] == ("HH", "AH", "L", "OW")
    assert len(lex["read"]) >= 2
    assert all(p in PHONES for prons in list(lex.values())[:5000] for pron in prons for p in pron)


def test_g2p_runs_offline(monkeypatch):
    def no_network(*args, **kwargs):
        raise OSError("network disabled in this test")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    pron = g2p("blorft")
    assert pron[:3] == ("B", "L", "AO") and pron[-1] == "T"
    assert all(p in PHONES for p in g2p("otalignment"))


def test_transcript_phones_map_back_to_written_words():
    pron = pronounce_transcript("Mr. Zxqwerty paid $5.")
    assert [w.written for w in pron.words] == ["Mr", "Zxqwerty", "paid", "$5"]
    assert pron.phones[:5] == ("M", "IH", "S", "T", "ER")
    assert pron.oov == ("zxqwerty",)
    assert sorted(set(pron.word_of_phone)) == [0, 1, 2, 3]
    assert list(pron.word_of_phone) == sorted(pron.word_of_phone)


def test_empty_and_unpronounceable_transcripts_name_the_file():
    with pytest.raises(OtalignError, match="t.txt: transcript is empty"):
        pronounce_transcript(" ... \n", "t.txt")
    with pytest.raises(OtalignError, match="t.txt: word '\u4f60\u597d'"):
        pronounce_transcript("hello \u4f60\u597d", "t.txt")


@pytest.mark.parametrize("text,expected", [
    ("hello [laughter] world", [("hello", "hello"), ("[laughter]", "<event>"), ("world", "world")]),
    ("a {noise}, b <breath>.", [("a", "a"), ("{noise}", "<event>"), ("b", "b"), ("<breath>", "<event>")]),
    ("so [laughs  loudly] yes", [("so", "so"), ("[laughs loudly]", "<event>"), ("yes", "yes")]),
    ("word[noise] next", [("word", "word"), ("[noise]", "<event>"), ("next", "next")]),
    ("then <UNK>, now", [("then", "then"), ("<unk>", "<unk>"), ("now", "now")]),
    ("<s> hi <sil> there [pause] </s> []", [("hi", "hi"), ("there", "there")]),
    ("so [inaudible] and [door\nslams]", [("so", "so"), ("[inaudible]", "<unk>"), ("and", "and"), ("[door slams]", "<event>")]),
    ("(um) yes", [("um", "um"), ("yes", "yes")]),  # parentheses hold spoken words
    ("[sic a < b", [("sic", "sic"), ("a", "a"), ("b", "b")]),  # unclosed brackets are punctuation
])
def test_bracketed_markers_are_events_and_pause_markers_are_dropped(text, expected):
    assert spoken(text) == expected


def test_markers_have_one_pseudo_phone_and_are_not_words_to_align():
    pron = pronounce_transcript("hello [laughter] world <unk> there")
    assert [pron.phones[pron.word_of_phone.index(i)] for i in (1, 3)] == ["nsn", "spn"]
    assert pron.word_of_phone.count(1) == pron.word_of_phone.count(3) == 1 and pron.oov == ()
    with pytest.raises(OtalignError, match="t.txt: transcript is empty"):
        pronounce_transcript("[noise] <unk> <sil>", "t.txt")
