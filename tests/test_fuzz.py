"""Fuzzing the parsers that meet user files: whatever the input, the result is a value or an
``OtalignError`` naming the file (which the command line prints as one line), never another
exception. The command-line level (exit codes, one line, no partial output) is covered file
family by file family in test_cli_errors.py and test_hardening.py."""

from pathlib import Path

import numpy as np
import soundfile as sf
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from otalign_cli.audio import load_audio
from otalign_cli.errors import OtalignError
from otalign_cli.formats.textgrid import read_textgrid
from otalign_cli.text.dictionary import parse_dictionary
from otalign_cli.text.pronounce import pronounce_transcript

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
# text as users type it, and worse: letters, digits, currency, punctuation, scripts, controls
TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=80) | st.from_regex(
    r"[A-Za-z0-9$£€%&@'.,:;!?\- \t\n]{0,60}", fullmatch=True)


@FAST
@given(TEXT)
def test_any_transcript_is_pronounced_or_refused_by_name(text):
    try:
        p = pronounce_transcript(text, "t.txt")
    except OtalignError as err:
        assert str(err).startswith("t.txt: ")
        return
    assert p.phones and len(p.phones) == len(p.word_of_phone)
    assert set(p.word_of_phone) == set(range(len(p.words)))  # every written word has phones


@FAST
@given(st.lists(st.text(max_size=40), max_size=8))
def test_any_dictionary_text_parses_or_names_the_file(lines):
    try:
        d = parse_dictionary("\n".join(lines), Path("d.dict"))
    except OtalignError as err:
        assert str(err).startswith("d.dict: ")
        return
    assert all(prons and all(prons) for prons in d.entries.values())


@FAST
@given(st.binary(max_size=3000), st.sampled_from([".wav", ".mp3", ".flac", ".ogg"]))
def test_any_bytes_as_audio_load_or_are_refused(tmp_path_factory, data, suffix):
    path = tmp_path_factory.mktemp("fuzz") / f"x{suffix}"
    path.write_bytes(data)
    try:
        samples = load_audio(path)
    except OtalignError as err:
        assert str(err).startswith(str(path))
        return
    assert samples.dtype == np.float32 and np.isfinite(samples).all()


@FAST
@given(st.integers(0, 200), st.integers(0, 60), st.sampled_from(["head", "tail", "flip"]))
def test_damaged_wav_files(tmp_path_factory, cut, flips, how):
    path = tmp_path_factory.mktemp("fuzz") / "x.wav"
    rng = np.random.default_rng(cut + 1000 * flips)
    sf.write(path, rng.normal(0, 0.1, 1600).astype("float32"), 16000)
    data = bytearray(path.read_bytes())
    if how == "head":
        data = data[cut:]
    elif how == "tail":
        data = data[: max(0, len(data) - 40 * cut)]
    else:
        for k in rng.integers(0, 44, flips):  # the header
            data[k] ^= 0xFF
    path.write_bytes(bytes(data))
    try:
        load_audio(path)
    except OtalignError as err:
        assert str(err).startswith(str(path))


@FAST
@given(st.text(max_size=300) | st.from_regex(r'File type = "ooTextFile"\nObject class = "TextGrid"\n[ -~\n]{0,200}',
                                             fullmatch=True))
def test_any_text_as_textgrid_reads_or_names_the_file(tmp_path_factory, text):
    path = tmp_path_factory.mktemp("fuzz") / "x.TextGrid"
    path.write_text(text, encoding="utf-8")
    try:
        tiers = read_textgrid(path)
    except OtalignError as err:
        assert str(err).startswith(str(path))
        return
    assert all(isinstance(v, list) for v in tiers.values())
