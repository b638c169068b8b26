"""TextGrid writing/reading through Praat's own formats; atomic writes."""

import parselmouth
import pytest

from otalign_cli.formats.atomic import write_text_atomic
from otalign_cli.formats.textgrid import read_textgrid, write_textgrid

TIERS = {"words": [(0.1, 0.5, "caf\u00e9"), (0.7, 1.2, "na\u00efve")],
         "phones": [(0.1, 0.3, "K"), (0.3, 0.5, "EY"), (0.7, 1.2, "N")]}


def test_long_textgrid_round_trip_through_praat(tmp_path):
    path = tmp_path / "a.TextGrid"
    write_textgrid(path, TIERS, 1.5)
    tg = parselmouth.read(str(path))
    assert parselmouth.praat.call(tg, "Get number of intervals...", 1) == 5  # pauses are empty intervals
    assert parselmouth.praat.call(tg, "Get label of interval...", 1, 2) == "caf\u00e9"
    assert parselmouth.praat.call(tg, "Get end time") == pytest.approx(1.5)
    assert read_textgrid(path) == TIERS


def test_reads_praat_short_and_utf16_files(tmp_path):
    path = tmp_path / "a.TextGrid"
    write_textgrid(path, TIERS, 1.5)
    tg = parselmouth.read(str(path))
    short = tmp_path / "short.TextGrid"
    tg.save_as_short_text_file(str(short))
    assert not short.read_bytes().startswith(path.read_bytes()[:200])
    assert read_textgrid(short) == TIERS
    utf16 = tmp_path / "utf16.TextGrid"
    utf16.write_bytes(path.read_text(encoding="utf-8").encode("utf-16"))
    assert read_textgrid(utf16) == TIERS


def test_atomic_write_leaves_nothing_on_failure(tmp_path):
    target = tmp_path / "out.txt"

    class Boom(Exception):
        pass

    with pytest.raises(Boom):
        from otalign_cli.formats.atomic import atomic_path

        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise Boom
    assert list(tmp_path.iterdir()) == []
    write_text_atomic(target, "whole")
    assert target.read_text() == "whole" and list(tmp_path.iterdir()) == [target]


def test_typed_stats_write_the_json_objects_readers_expect():
    from otalign_cli.results import AlignStats, Choice, Stretch, Suspect

    s = AlignStats(1.5, 3, 2, suspect=[Suspect(1.0, 2.25, "a b")], pronunciations=[Choice("and", 0, "AH N")],
                   untranscribed=[Stretch(0.0, 12.5)], ctc_peaky_pct=80.0)
    assert list(s.to_dict().items()) == list({"dropped_pct": 1.5, "phones": 3, "words": 2, "oov": [],
                           "suspect": [{"start": 1.0, "end": 2.25, "words": "a b"}],
                           "pronunciations": [{"word": "and", "index": 0, "phones": "AH N"}],
                           "untranscribed": [{"start": 0.0, "end": 12.5}], "ctc_peaky_pct": 80.0}.items())  # in order; unmeasured: left out
