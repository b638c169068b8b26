"""The real-speech recipes turn a checkout laid out like each source into a corpus `otalign train` reads.

Each test builds a small checkout in the source's own layout from the shipped example (cut into
utterances, at the source's sample rate), runs the recipe as a user would, and loads the result
with the training loader.
"""

import csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import soxr

from conftest import EXAMPLE_WAV, ROOT
from otalign_cli.train import load_corpus

RECIPES = ROOT / "recipes" / "real_speech"


def _clip(path: Path, seconds: tuple[float, float], rate: int = 16000) -> None:
    audio, sr = sf.read(EXAMPLE_WAV, dtype="float32")
    part = audio[int(seconds[0] * sr):int(seconds[1] * sr)]
    if rate != sr:
        part = soxr.resample(part, sr, rate)
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, part, rate)


def _run(recipe: str, checkout: Path, out: Path) -> dict:
    proc = subprocess.run([sys.executable, str(RECIPES / recipe), str(checkout), str(out)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _check_corpus(out: Path, n: int) -> None:
    records = [json.loads(x) for x in (out / "manifest.jsonl").read_text().splitlines()]
    assert len(records) == n
    for r in records:
        info = sf.info(str(out / r["audio"]))
        assert info.samplerate == 16000 and info.channels == 1
        assert (out / r["audio"]).with_suffix(".txt").read_text().strip()
    examples = load_corpus(out)
    assert len(examples) == n and all(e.phones and e.intervals is None for e in examples)


def test_speechocean762_layout(tmp_path):
    src = tmp_path / "speechocean762"
    for part, utt, spk, text in (("train", "000010011", "0001", "AND MR JOHN DASHWOOD"),
                                 ("test", "000020012", "0002", "HAD THEN LEISURE")):
        _clip(src / "WAVE" / f"SPEAKER{spk}" / f"{utt}.WAV", (0.2, 2.0) if part == "train" else (1.6, 3.2))
        (src / part).mkdir(parents=True)
        (src / part / "text").write_text(f"{utt}\t{text}\n")
        (src / part / "utt2spk").write_text(f"{utt}\t{spk}\n")
        (src / part / "wav.scp").write_text(f"{utt}\tWAVE/SPEAKER{spk}/{utt}.WAV\n")
    totals = _run("speechocean762.py", src, tmp_path / "corpus")
    assert (totals["utterances"], totals["speakers"], totals["skipped"]) == (2, 2, 0)
    _check_corpus(tmp_path / "corpus", 2)
    assert (tmp_path / "corpus" / "so762-000010011.txt").read_text() == "AND MR JOHN DASHWOOD\n"


def test_ljspeech_layout_resamples_22k(tmp_path):
    src = tmp_path / "lj" / "LJSpeech-1.1"
    _clip(src / "wavs" / "LJ001-0001.wav", (0.2, 2.0), rate=22050)
    _clip(src / "wavs" / "LJ001-0002.wav", (1.6, 3.2), rate=22050)
    (src / "metadata.csv").write_text("LJ001-0001|And Mr. John Dashwood|And Mister John Dashwood\n"
                                      "LJ001-0002|had then leisure|had then leisure\n"
                                      "LJ001-0003|no audio for this one|no audio for this one\n")
    totals = _run("ljspeech.py", tmp_path / "lj", tmp_path / "corpus")
    assert (totals["utterances"], totals["speakers"]) == (2, 1)
    _check_corpus(tmp_path / "corpus", 2)
    assert (tmp_path / "corpus" / "lj-LJ001-0001.txt").read_text() == "And Mister John Dashwood\n"


def test_an_unreadable_source_table_is_one_line_and_writes_nothing(tmp_path):
    src = tmp_path / "lj" / "LJSpeech-1.1"
    _clip(src / "wavs" / "LJ001-0001.wav", (0.2, 2.0), rate=22050)
    (src / "metadata.csv").write_bytes("LJ001-0001|Caf\u00e9|Caf\u00e9\n".encode("latin-1"))
    cv = tmp_path / "cv"
    _clip(cv / "data" / "common_voice_en_1.wav", (0.2, 2.0))
    (cv / "validated.csv").write_text("client,file,text\na,common_voice_en_1.wav,And Mister\n")
    so = tmp_path / "so762"
    (so / "train").mkdir(parents=True)
    (so / "train" / "text").write_bytes("000010011\tCAF\u00c9\n".encode("latin-1"))
    for recipe, checkout, said in (("ljspeech.py", tmp_path / "lj", "metadata.csv: LJSpeech metadata is not UTF-8"),
                                   ("common_voice.py", cv, "validated.csv: no client_id, path, sentence columns"),
                                   ("speechocean762.py", so, "train/text: Kaldi table is not UTF-8")):
        out = tmp_path / f"corpus-{recipe}"
        proc = subprocess.run([sys.executable, str(RECIPES / recipe), str(checkout), str(out)],
                              capture_output=True, text=True, timeout=300)
        assert proc.returncode == 2 and said in proc.stderr, proc.stderr
        assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
        assert not (out / "manifest.jsonl").exists()


def test_common_voice_layout_and_a_bad_clip_is_reported(tmp_path):
    src = tmp_path / "cv"
    _clip(src / "data" / "common_voice_en_1.wav", (0.2, 2.0), rate=48000)
    (src / "data").mkdir(exist_ok=True)
    (src / "data" / "common_voice_en_2.wav").write_bytes(b"not audio")
    with (src / "validated.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["client_id", "path", "sentence", "up_votes"])
        w.writerow(["a" * 40, "common_voice_en_1.wav", "And Mr. John Dashwood", 2])
        w.writerow(["b" * 40, "common_voice_en_2.wav", "had then leisure", 2])
        w.writerow(["c" * 40])  # a row cut short
    proc = subprocess.run([sys.executable, str(RECIPES / "common_voice.py"), str(src), str(tmp_path / "corpus")],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0 and "skipped cv-common_voice_en_2" in proc.stderr and "Traceback" not in proc.stderr
    assert "skipped validated.csv line 4: fewer fields than the header" in proc.stderr
    assert json.loads(proc.stdout.strip().splitlines()[-1])["skipped"] == 1
    _check_corpus(tmp_path / "corpus", 1)
    assert np.isclose(sf.info(str(tmp_path / "corpus" / "cv-common_voice_en_1.wav")).duration, 1.8, atol=0.01)


def test_common_voice_own_tsv_table_with_mp3_clips(tmp_path):
    if "MP3" not in sf.available_formats():
        pytest.skip("this libsndfile cannot write MP3")
    src = tmp_path / "cv" / "en"
    audio, sr = sf.read(EXAMPLE_WAV, dtype="float32")
    (src / "clips").mkdir(parents=True)
    sf.write(src / "clips" / "common_voice_en_7.mp3", soxr.resample(audio[int(0.2 * sr):2 * sr], sr, 48000), 48000,
             format="MP3", subtype="MPEG_LAYER_III")
    (src / "validated.tsv").write_text("client_id\tpath\tsentence\tup_votes\tlocale\n"
                                       f"{'d' * 40}\tcommon_voice_en_7.mp3\t\"And \"\"Mr.\"\" John Dashwood\"\t2\ten\n")
    # another language's table in the same checkout is left out
    (tmp_path / "cv" / "fr" / "clips").mkdir(parents=True)
    sf.write(tmp_path / "cv" / "fr" / "clips" / "common_voice_fr_1.wav", audio[:sr], sr)
    (tmp_path / "cv" / "fr" / "validated.tsv").write_text("client_id\tpath\tsentence\tlocale\n"
                                                        f"{'e' * 40}\tcommon_voice_fr_1.wav\tBonjour\tfr\n")
    totals = _run("common_voice.py", tmp_path / "cv", tmp_path / "corpus")
    assert (totals["utterances"], totals["skipped"]) == (1, 0)
    _check_corpus(tmp_path / "corpus", 1)
    assert np.isclose(sf.info(str(tmp_path / "corpus" / "cv-common_voice_en_7.wav")).duration, 1.8, atol=0.06)
    assert (tmp_path / "corpus" / "cv-common_voice_en_7.txt").read_text().strip() == 'And "Mr." John Dashwood'


def test_vctk_layout_pairs_wav48_with_txt(tmp_path):
    root = tmp_path / "hw" / "data" / "VCTK-Corpus"
    _clip(root / "wav48" / "p239" / "p239_001.wav", (0.2, 2.0), rate=48000)
    _clip(root / "wav48" / "p239" / "p239_002.wav", (1.6, 3.2), rate=48000)
    (root / "txt" / "p239").mkdir(parents=True)
    (root / "txt" / "p239" / "p239_001.txt").write_text("And Mr. John Dashwood.\n")  # p239_002 has none
    proc = subprocess.run([sys.executable, str(RECIPES / "vctk.py"), str(tmp_path / "hw"), str(tmp_path / "corpus")],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0 and "skipped p239_002: no transcript" in proc.stderr, proc.stderr
    totals = json.loads(proc.stdout.strip().splitlines()[-1])
    assert (totals["utterances"], totals["speakers"]) == (1, 1)
    _check_corpus(tmp_path / "corpus", 1)
    assert (tmp_path / "corpus" / "vctk-p239_001.txt").read_text() == "And Mr. John Dashwood.\n"


def test_cathy_layout_keeps_the_later_take_and_downmixes_48k_stereo(tmp_path):
    src = tmp_path / "cathy" / "data"
    takes = {"arctic_a0001_1592748574": ((0.2, 2.0), "And Mister John Dashwood"),  # first take
             "arctic_a0001_1592748585": ((0.2, 1.5), "And Mister John"),  # the later take, kept
             "arctic_b0002_1592700000": ((1.6, 3.2), "had then leisure")}
    for stem, (span, text) in takes.items():
        _clip(src / f"{stem}.wav", span, rate=48000)
        audio, sr = sf.read(src / f"{stem}.wav", dtype="float32")
        sf.write(src / f"{stem}.wav", np.stack([audio, audio], axis=1), sr)  # the source is stereo
        (src / f"{stem}.txt").write_text(text + "\n")
    # a later take without its transcript is reported, and the earlier one is not used instead
    _clip(src / "arctic_a0003_1592700001.wav", (0.2, 1.0), rate=48000)
    (src / "arctic_a0003_1592700001.txt").write_text("And Mister\n")
    _clip(src / "arctic_a0003_1592700009.wav", (0.2, 1.0), rate=48000)
    proc = subprocess.run([sys.executable, str(RECIPES / "cathy.py"), str(tmp_path / "cathy"), str(tmp_path / "corpus")],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0 and "skipped cathy-arctic_a0003" in proc.stderr and "Traceback" not in proc.stderr
    totals = json.loads(proc.stdout.strip().splitlines()[-1])
    assert (totals["utterances"], totals["speakers"], totals["skipped"]) == (2, 1, 0)
    _check_corpus(tmp_path / "corpus", 2)
    assert (tmp_path / "corpus" / "cathy-arctic_a0001.txt").read_text() == "And Mister John\n"
    assert np.isclose(sf.info(str(tmp_path / "corpus" / "cathy-arctic_a0001.wav")).duration, 1.3, atol=0.01)


def test_speed_perturbation_scales_audio_and_gold_times(tmp_path):
    from otalign_cli.formats.textgrid import read_textgrid, write_textgrid

    src = tmp_path / "corpus"
    _clip(src / "a.wav", (0.2, 2.0))
    (src / "a.txt").write_text("And Mister John Dashwood\n")
    write_textgrid(src / "a.TextGrid", {"words": [(0.1, 0.5, "and")], "phones": [(0.1, 0.3, "AE"), (0.3, 0.5, "N")]}, 1.8)
    (src / "b.wav").write_bytes(b"not audio")
    (src / "b.txt").write_text("had then leisure\n")
    (src / "manifest.jsonl").write_text('{"audio": "a.wav", "speaker": "s1", "split": "train"}\n'
                                        '{"audio": "b.wav", "speaker": "s1", "split": "train"}\n')
    script = ROOT / "recipes" / "experiments" / "speed_perturb" / "perturb.py"
    proc = subprocess.run([sys.executable, str(script), str(src), str(tmp_path / "fast"), "1.1"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0 and "skipped b.wav" in proc.stderr and "Traceback" not in proc.stderr
    fast = tmp_path / "fast"
    assert np.isclose(sf.info(str(fast / "a-sp1.1.wav")).duration, 1.8 / 1.1, atol=0.002)
    phones = read_textgrid(fast / "a-sp1.1.TextGrid")["phones"]
    assert [p for *_, p in phones] == ["AE", "N"]
    assert np.allclose([t for a, b, _ in phones for t in (a, b)], np.array([0.1, 0.3, 0.3, 0.5]) / 1.1, atol=1e-5)
    assert (fast / "a-sp1.1.txt").read_text() == "And Mister John Dashwood\n"
    assert [(r["audio"], r["speaker"]) for r in map(json.loads, (fast / "manifest.jsonl").read_text().splitlines())] \
        == [("a-sp1.1.wav", "s1-sp1.1")]
    assert [e.id for e in load_corpus(fast)] == ["a-sp1.1"] and load_corpus(fast)[0].intervals
    proc = subprocess.run([sys.executable, str(script), str(src), str(src), "1.1"], capture_output=True, text=True)
    assert proc.returncode != 0 and "is the corpus itself" in proc.stderr


def test_pseudo_labels_give_aligned_times_except_where_batch_doubted(tmp_path):
    src = tmp_path / "lj" / "LJSpeech-1.1"
    _clip(src / "wavs" / "LJ001-0001.wav", (0.0, 1.75))  # whole words: nothing to doubt
    _clip(src / "wavs" / "LJ001-0002.wav", (1.6, 3.2))
    (src / "metadata.csv").write_text("LJ001-0001|And Mr. John Dashwood|And Mister John Dashwood\n"
                                      "LJ001-0002|had then leisure|had then leisure\n")
    _run("ljspeech.py", tmp_path / "lj", tmp_path / "corpus")
    aligned = tmp_path / "aligned"
    proc = subprocess.run([sys.executable, "-m", "otalign_cli", "batch", str(tmp_path / "corpus"), str(aligned),
                           "-f", "textgrid", "--no-ctc", "--jobs", "1"], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    # batch lists a file it doubts in suspects.tsv; such a file must stay transcript-only
    with (aligned / "suspects.tsv").open("a", encoding="utf-8") as fh:
        fh.write("lj-LJ001-0002.wav\t0.100\t0.900\thad then\n")
    proc = subprocess.run([sys.executable, str(ROOT / "recipes" / "experiments" / "pseudo_labels" / "pseudo_labels.py"), str(tmp_path / "corpus"), str(aligned),
                           str(tmp_path / "pl")], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "2 utterances, 1 with the aligner's times, 1 transcript-only" in proc.stdout
    examples = {e.id: e for e in load_corpus(tmp_path / "pl")}
    assert set(examples) == {"lj-LJ001-0001", "lj-LJ001-0002"}
    labelled, doubted = examples["lj-LJ001-0001"], examples["lj-LJ001-0002"]
    from otalign_cli.formats.textgrid import read_textgrid
    phones = read_textgrid(aligned / "lj-LJ001-0001.TextGrid")["phones"]
    assert labelled.phones == [p for _, _, p in phones]
    assert labelled.intervals == [(s, e) for s, e, _ in phones]
    assert doubted.intervals is None and doubted.phones  # the transcript's phones, no times
    assert len(labelled.audio) == int(1.75 * 16000)


def test_ensemble_labels_average_the_aligners_that_agree_and_skip_doubted_files(tmp_path):
    from otalign_cli.formats.textgrid import read_textgrid, write_textgrid

    corpus = tmp_path / "corpus"
    for stem in ("a", "b", "c"):
        _clip(corpus / f"{stem}.wav", (1.6, 2.2))
        (corpus / f"{stem}.txt").write_text("had\n")
    (corpus / "manifest.jsonl").write_text("".join(f'{{"audio": "{s}.wav", "speaker": "s1", "split": "train"}}\n'
                                                   for s in "abc"))
    # three aligners; per file (word end, phone boundaries, phones)
    said = {"a": [(0.50, (0.10, 0.20, 0.40), "HH AE D"), (0.52, (0.12, 0.22, 0.44), "HH AE D"),
                  (0.50, (0.30, 0.35, 0.40), "HH AH D")],  # the third chose another variant: left out of the mean
            "b": [(0.50, (0.10, 0.20, 0.40), "HH AE D")] * 3,
            "c": [(0.50, (0.10, 0.20, 0.40), "HH AE D"), (0.50, (0.12, 0.20, 0.40), "HH AE D"),
                  (0.50, (0.14, 0.20, 0.40), "HH AE D")]}
    aligned = [tmp_path / f"aligner{i}" for i in range(3)]
    for i, folder in enumerate(aligned):
        folder.mkdir()
        (folder / "suspects.tsv").write_text("file\tstart\tend\twords\n" + ("b.wav\t0.1\t0.4\thad\n" if i == 1 else ""))
        for stem, per in said.items():
            end, (t0, t1, t2), phones = per[i]
            p = phones.split()
            write_textgrid(folder / f"{stem}.TextGrid", {"words": [(t0, end, "had")],
                                                         "phones": [(t0, t1, p[0]), (t1, t2, p[1]), (t2, end, p[2])]}, 0.6)
    script = ROOT / "recipes" / "experiments" / "pseudo_labels" / "ensemble_labels.py"
    dest = tmp_path / "ens"
    proc = subprocess.run([sys.executable, str(script), str(corpus), str(dest), *map(str, aligned)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "3 utterances, 2 labelled (1 with the mean of all 3 alignments), 1 transcript-only" in proc.stdout
    a = read_textgrid(dest / "a.TextGrid")["phones"]
    assert [x[2] for x in a] == ["HH", "AE", "D"]
    assert np.allclose([t for s, e, _ in a for t in (s, e)], [0.11, 0.21, 0.21, 0.42, 0.42, 0.51])
    c = read_textgrid(dest / "c.TextGrid")["phones"]
    assert np.isclose(c[0][0], 0.12)
    assert not (dest / "b.TextGrid").exists()
    examples = {e.id: e for e in load_corpus(dest)}
    assert examples["b"].intervals is None and examples["a"].intervals and examples["c"].intervals
