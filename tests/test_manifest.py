"""The corpus manifest is written and read by one dataclass, and a line reads back as written."""

import pytest

from otalign_cli.errors import OtalignError
from otalign_cli.manifest import Recording, read_manifest, write_manifest

SYNTH = ('{"id": "awb-0-000002", "audio": "awb/awb-0-000002.wav", "text": "QOTD: a wide selection.", '
         '"textgrid": "awb/awb-0-000002.TextGrid", "duration": 5.47, "voice": "awb", "engine": "flite", '
         '"speed": 1.0, "stretch": 1.162, "f0_mean": 100.1, "split": "train"}')
REAL = '{"audio": "lj-LJ001-0001.wav", "speaker": "lj", "split": "dev", "source": "LJSpeech 1.1"}'


def test_manifest_lines_read_back_as_written(tmp_path):
    path = tmp_path / "manifest.jsonl"
    path.write_text(SYNTH + "\n\n" + REAL + "\n")
    synth, real = read_manifest(path)
    assert (synth.textgrid, synth.duration, synth.extra["voice"], synth.split) == ("awb/awb-0-000002.TextGrid", 5.47, "awb", "train")
    assert (real.speaker, real.split, real.text, real.extra) == ("lj", "dev", None, {})
    write_manifest(tmp_path / "again.jsonl", [synth, real])
    assert (tmp_path / "again.jsonl").read_text() == SYNTH + "\n" + REAL + "\n"  # the same bytes, fields in order
    assert Recording("a.wav").to_json() == '{"audio": "a.wav", "split": "train"}'


@pytest.mark.parametrize("line, message", [('{"audio": 3}', 'line 2: a record needs an "audio" path'),
                                           ('[1, 2]', 'line 2: a record needs an "audio" path'),
                                           ('{"audio": ', "line 2: not valid JSON"),
                                           ('{"audio": "a.wav", "textgrid": 5}', 'line 2: "textgrid" must be text'),
                                           ('{"audio": "a.wav", "duration": "long"}', 'line 2: "duration" must be a number')])
def test_a_broken_manifest_line_is_named(tmp_path, line, message):
    path = tmp_path / "manifest.jsonl"
    path.write_text(REAL + "\n" + line + "\n")
    with pytest.raises(OtalignError, match=message):
        read_manifest(path)
