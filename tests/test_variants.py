"""Choosing a word's pronunciation by the audio: the scoring against brute force, the choice, the
transcript's candidates, and the aligner reporting and using what it chose."""

import itertools

import pytest
import torch

from otalign_cli.alignment.variants import choose, segment_score
from otalign_cli.models import load_models
from otalign_cli.pipeline import align_file
from otalign_cli.text.pronounce import pronounce_transcript


def brute_force_score(lp: torch.Tensor, targets: list[int]) -> float:
    """Every way of cutting the frames into len(targets) non-empty runs, in order."""
    f, k = lp.shape[0], len(targets)
    best = float("-inf")
    for cuts in itertools.combinations(range(1, f), k - 1):
        edges = (0, *cuts, f)
        best = max(best, sum(float(lp[edges[j]:edges[j + 1], t].sum()) for j, t in enumerate(targets)))
    return best


@pytest.mark.parametrize("seed", range(6))
def test_segment_score_matches_brute_force(seed):
    g = torch.Generator().manual_seed(seed)
    f, v = 7, 5
    lp = torch.log_softmax(torch.randn(f, v, generator=g), dim=-1)
    for k in (1, 2, 3, 5):
        targets = torch.randint(0, v, (k,), generator=g)
        assert segment_score(lp, targets) == pytest.approx(brute_force_score(lp, targets.tolist()))


def test_segment_score_needs_a_frame_per_phone():
    assert segment_score(torch.zeros(2, 3), torch.tensor([0, 1, 2])) == float("-inf")


def _frames(tokens: list[int], v: int = 4) -> torch.Tensor:
    lp = torch.full((len(tokens), v), -8.0)
    lp[torch.arange(len(tokens)), torch.tensor(tokens)] = -0.01
    return lp


def test_choose_picks_the_candidate_the_frames_say():
    lp = _frames([0, 0, 2, 2, 3, 3])  # the audio says 0 2 3
    candidates = [torch.tensor([0, 1, 3]), torch.tensor([0, 2, 3])]
    assert choose(lp, (0, 6), candidates) == 1


def test_choose_keeps_the_first_unless_clearly_better():
    lp = torch.log_softmax(torch.zeros(6, 4), dim=-1)  # the audio says nothing
    candidates = [torch.tensor([0, 1, 3]), torch.tensor([0, 2, 3])]
    assert choose(lp, (0, 6), candidates) == 0
    lp = _frames([0, 0, 2, 2, 3, 3])
    assert choose(lp, (0, 6), candidates, margin=1e6) == 0


def test_choose_takes_a_shorter_form_when_the_first_cannot_fit():
    lp = _frames([0, 3])
    assert choose(lp, (0, 2), [torch.tensor([0, 1, 3]), torch.tensor([0, 3])]) == 1


def test_transcript_candidates_and_choice():
    p = pronounce_transcript("And the cat had sixty-two bones.")
    words = [w.written for w in p.words]
    assert words[:4] == ["And", "the", "cat", "had"]
    assert p.alternatives[0][0] == ("AH", "N", "D") and ("AH", "N") in p.alternatives[0]  # a weak form
    assert p.alternatives[1] == (("DH", "AH"), ("DH", "IY"))
    assert p.alternatives[2] == ()  # one pronunciation: nothing to choose
    assert p.alternatives[words.index("sixty-two")] == ()  # several spoken words
    chosen = p.with_choice([2, 1, 0, 0, 0, 0])
    assert chosen.phones[:5] == ("AH", "N", "DH", "IY", "K")
    assert len(chosen.phones) == len(chosen.word_of_phone) == len(p.phones) - 1
    assert chosen.word_of_phone[:4] == (0, 0, 1, 1)


def test_syllabic_consonants_are_candidates():
    from otalign_cli.text.languages.english import syllabic_form

    assert syllabic_form(("B", "AH1", "T", "AH0", "N")) == ("B", "AH", "T", "N")  # button
    assert syllabic_form(("L", "IH1", "T", "AH0", "L")) == ("L", "IH", "T", "L")  # little
    assert syllabic_form(("B", "AE1", "L", "AH0", "N", "S")) == ("B", "AE", "L", "N", "S")  # balance
    assert syllabic_form(("HH", "AH1", "L",)) is None  # a stressed vowel stays
    assert syllabic_form(("R", "IY1", "AH0", "L")) is None  # after a vowel: no consonant to carry
    assert syllabic_form(("L", "EH1", "M", "AH0", "N", "EY2", "D")) is None  # before a vowel it is onset
    assert syllabic_form(("K", "AE1", "T")) is None
    assert syllabic_form(("AH0", "N", "L", "EH1", "S")) is None  # unless: nothing before the schwa
    p = pronounce_transcript("The little button will do.")
    little, button, will, do = p.alternatives[1:]
    assert little == (("L", "IH", "T", "AH", "L"), ("L", "IH", "T", "L"))
    assert button[0] == ("B", "AH", "T", "AH", "N") and ("B", "AH", "T", "N") in button
    assert ("W", "L") in will
    assert do == ()  # one pronunciation, nothing to reduce
    assert p.phones[p.word_of_phone.index(1):][:5] == ("L", "IH", "T", "AH", "L")  # CMUdict's first stays first


def test_aligner_reports_and_uses_its_choices(example):
    wav, txt = example
    ottc = load_models(with_ctc=False).ottc
    on = align_file(wav, txt, ottc, None)
    off = align_file(wav, txt, ottc, None, variants=False)
    assert off.stats.pronunciations == []
    assert on.stats.pronunciations  # the example's reader says some words unlike CMUdict's first
    assert on.stats.phones == len(on.ot.phones) == len(on.ot.phone_word)
    pron = pronounce_transcript(txt.read_text())
    assert [p.label for p in off.ot.phones] == list(pron.phones)
    for choice in on.stats.pronunciations:  # every reported choice is what the phone tier holds
        w = choice.index
        assert on.ot.words[w].label == choice.word
        phones = [p.label for p, owner in zip(on.ot.phones, on.ot.phone_word) if owner == w]
        assert " ".join(phones) == choice.phones
        assert tuple(phones) in pron.alternatives[w][1:]


def test_batch_passes_no_variants_to_its_workers(example, tmp_path):
    from conftest import run_cli
    import json

    wav, txt = example
    runs = {}
    for flag in ("--variants", "--no-variants"):
        out = tmp_path / flag.strip("-")
        proc = run_cli("batch", wav.parent, out, "-f", "json", "--no-ctc", flag)
        assert proc.returncode == 0, proc.stderr
        runs[flag] = json.loads((out / "dashwood.json").read_text())
    assert runs["--variants"]["stats"]["pronunciations"]
    assert runs["--no-variants"]["stats"]["pronunciations"] == []
    phones = [p["phone"] for w in runs["--no-variants"]["words"] for p in w["phones"]]
    assert phones == list(pronounce_transcript(txt.read_text()).phones)
