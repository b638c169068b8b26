"""Align one recording: audio + transcript -> word and phone times (OT), and the CTC comparison.

The stages: ``prepare`` (read and check the inputs: pronunciation, features, energy) ->
``forward`` (the encoders) -> ``read_spans`` (anchors, pronunciation choice, the readout of
``alignment.readouts``, suspects, corrections) -> ``finish`` (confidence, the CTC twin, stats).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import torch

from otalign_cli.adapt import AdaptConfig, adapt_heads
from otalign_cli.alignment.anchors import Anchors, find_anchors, target_ids
from otalign_cli.alignment.confidence import span_confidence
from otalign_cli.alignment.correct import corrected
from otalign_cli.alignment.ctc import MAX_CELLS, ctc_spans, cuts_from_guide, min_frames
from otalign_cli.alignment.endpoints import frame_energy_db
from otalign_cli.alignment.landmarks import spectral_change
from otalign_cli.alignment.readouts import BOUNDARY_SUFFIX, DEFAULT_PASSES, DEFAULT_READOUT, get as get_readout
from otalign_cli.alignment.readouts.read import ot_readout
from otalign_cli.alignment.spans import Spans, dropped_frames
from otalign_cli.alignment.suspect import (SuspectSettings, merge_stretches, suspect_report, suspect_stretches,
                                           untranscribed_edges)
from otalign_cli.alignment.variants import choose_pronunciations
from otalign_cli.audio import SAMPLE_RATE, load_audio
from otalign_cli.errors import OtalignError
from otalign_cli.features import log_mel, min_samples
from otalign_cli.inference import ModelOutput, shift_hops, forward, run_model_many, with_shifted
from otalign_cli.metrics import delay_summary
from otalign_cli.model import AlignmentModel
from otalign_cli.results import AlignStats, Alignment, Choice, FileResult, Segment, Utterance
from otalign_cli.text.dictionary import Dictionary
from otalign_cli.text.cues import SourceCue, with_word_counts
from otalign_cli.text.normalize import is_marker
from otalign_cli.text.phones import EVENT_PHONE, PSEUDO_PHONES, SILENCE, UNKNOWN_PHONE, UNKNOWN_WORD
from otalign_cli.text.languages import DEFAULT_LANGUAGE, get_language
from otalign_cli.text.pronounce import Pronunciation, pronounce_transcript
from otalign_cli.text.transcripts import read_transcript

def _to_alignment(spans: Spans, pron: Pronunciation, frame_shift: float, duration: float,
                  confidence: torch.Tensor | None = None) -> Alignment:
    on = (spans.onset * frame_shift).clamp(0, duration).tolist()
    off = (spans.offset * frame_shift).clamp(0, duration).tolist()
    conf = ([None if math.isnan(c) else c for c in confidence.tolist()] if confidence is not None
            else [None] * len(on))
    phones = [Segment(p, a, b, c) for p, a, b, c in zip(pron.phones, on, off, conf)]
    words: list[Segment] = []
    for w_idx, word in enumerate(pron.words):
        ks = [k for k, w in enumerate(pron.word_of_phone) if w == w_idx]
        known = [conf[k] for k in ks if conf[k] is not None]
        word_conf = sum(known) / len(known) if known else None
        words.append(Segment(word.written, on[ks[0]], off[ks[-1]], word_conf, word.raw or word.written))
    return Alignment(words, phones, list(pron.word_of_phone))


@dataclass
class Prepared:
    """A file's inputs, read and checked, ready for the models."""

    audio: Path
    transcript: Path
    pron: Pronunciation
    feats: torch.Tensor
    duration: float
    t0: float
    text: str = ""  # the transcript as written, whitespace collapsed
    energy: np.ndarray | None = None  # short-time energy in dB (``alignment.endpoints``), for the pause edges
    change: np.ndarray | None = None  # spectral change (``alignment.landmarks``), for the phone edges
    cues: list[SourceCue] = field(default_factory=list)  # a subtitle transcript's cues, with their word counts


def prepare(audio_path: Path, transcript_path: Path, lexicon: Dictionary | None = None,
            language: str = DEFAULT_LANGUAGE) -> Prepared:
    """Read and check one file's transcript and audio, the transcript pronounced in ``language``
    (the aligning model's, ``ModelConfig.language``); raises ``OtalignError`` naming the file."""
    text, cues = read_transcript(transcript_path, audio_path)
    pron = pronounce_transcript(text, str(transcript_path), lexicon, language)
    cues = (with_word_counts(cues, get_language(language).normalize, len(pron.words)) or []) if cues else []
    t0 = time.perf_counter()  # speed counts the audio path, not the one-time lexicon load
    samples = load_audio(audio_path)
    if samples.size < min_samples():
        raise OtalignError(audio_path, f"audio too short: {samples.size} samples ({samples.size / SAMPLE_RATE * 1000:.1f} ms), "
                                       "less than one 25 ms analysis frame")
    return replace(_prepared(audio_path, transcript_path, pron, text, samples, t0), cues=cues)


def _prepared(audio_path: Path, transcript_path: Path, pron: Pronunciation, text: str, samples: np.ndarray,
              t0: float) -> Prepared:
    """What the models and readouts need of checked samples: features and short-time energy."""
    return Prepared(audio_path, transcript_path, pron, log_mel(torch.from_numpy(samples)), len(samples) / SAMPLE_RATE,
                    t0, " ".join(text.split()), frame_energy_db(samples, SAMPLE_RATE), spectral_change(samples))


def _passes_for(readout: str, passes: int) -> int:
    """Only a readout that reads the shifted passes gets them run."""
    return passes if get_readout(readout).shifted_passes else 1


def ctc_applies(pron: Pronunciation) -> bool:
    """The CTC twin has no token for unknown speech or events, so a transcript with ``<unk>`` or a
    bracketed marker gets no CTC comparison."""
    return not any(p in PSEUDO_PHONES for p in pron.phones)


def align_file(audio_path: Path, transcript_path: Path, model: AlignmentModel, ctc_model: AlignmentModel | None,
               readout: str = DEFAULT_READOUT, device: str = "cpu", passes: int = DEFAULT_PASSES,
               variants: bool = True, lexicon: Dictionary | None = None, *,
               suspects: SuspectSettings | None = None) -> FileResult:
    """Align one file; raises ``OtalignError`` naming the file for any bad input.

    ``passes`` shifted encoder passes feed the refine readout (see ``forward``); ``variants``
    lets the audio choose among a word's pronunciations (see ``finish``); ``lexicon`` is the
    user's pronunciation dictionary, looked up before the language's lexicon (the model's language);
    ``suspects`` the suspect detector's operating point (default: ``alignment.suspect``'s)."""
    from otalign_cli.text.utterances import names_speakers

    if names_speakers(transcript_path):
        return align_utterances(audio_path, transcript_path, model, ctc_model, readout, device, passes, variants,
                                lexicon, suspects=suspects)
    p = prepare(audio_path, transcript_path, lexicon, model.cfg.language)
    out = forward(model, p.feats, device, _passes_for(readout, passes))
    cout = forward(ctc_model, p.feats, device) if ctc_model is not None and ctc_applies(p.pron) else None
    return finish(p, out, cout, model, ctc_model, readout, device, variants, suspects=suspects)


def align_files(pairs: list[tuple[Path, Path]], model: AlignmentModel, ctc_model: AlignmentModel | None,
                readout: str = DEFAULT_READOUT, device: str = "cpu",
                passes: int = DEFAULT_PASSES, variants: bool = True,
                adapt: AdaptConfig | None = None, lexicon: Dictionary | None = None, *,
                suspects: SuspectSettings | None = None) -> list[FileResult | OtalignError]:
    """Align several files with their encoder passes batched by length (for a GPU); per file, the
    result or the ``OtalignError`` that file raised.

    With ``adapt``, the files are taken to be one speaker's: the OTTC model's heads are first
    tuned on their transcripts (``adapt.adapt_heads``), and that copy aligns them. Files whose
    transcript names speakers (a TextGrid) are aligned one by one, unadapted (``align_utterances``)."""
    from otalign_cli.text.utterances import names_speakers

    if any(names_speakers(t) for _, t in pairs):
        plain = iter(align_files([(a, t) for a, t in pairs if not names_speakers(t)], model, ctc_model, readout,
                                 device, passes, variants, adapt, lexicon, suspects=suspects))
        mixed: list[FileResult | OtalignError] = []
        for a, t in pairs:
            if not names_speakers(t):
                mixed.append(next(plain))
                continue
            try:
                mixed.append(align_file(a, t, model, ctc_model, readout, device, passes, variants, lexicon,
                                        suspects=suspects))
            except OtalignError as err:
                mixed.append(err)
        return mixed
    prepared: list[Prepared | OtalignError] = []
    for audio, transcript in pairs:
        try:
            prepared.append(prepare(audio, transcript, lexicon, model.cfg.language))
        except OtalignError as err:
            prepared.append(err)
    good = [p for p in prepared if isinstance(p, Prepared)]
    shipped = model
    if adapt is not None:
        vocab = {t: i for i, t in enumerate(model.cfg.vocab)}
        known = [p for p in good if ctc_applies(p.pron)]  # <unk> and events have no posterior to fit
        model = adapt_heads(model, [p.feats for p in known], [target_ids(p.pron.phones, vocab) for p in known], adapt)
    outs = run_model_many(model, [p.feats for p in good], device)
    extra = [run_model_many(model, [p.feats[k:] for p in good], device)
             for k in shift_hops(model, _passes_for(readout, passes))]
    outs = [with_shifted(o, [e[i] for e in extra], model) for i, o in enumerate(outs)]
    couts = run_model_many(ctc_model, [p.feats for p in good], device) if ctc_model is not None else [None] * len(good)
    done = {id(p): (o, c) for p, o, c in zip(good, outs, couts)}
    results: list[FileResult | OtalignError] = []
    for p in prepared:
        if isinstance(p, OtalignError):
            results.append(p)
            continue
        o, c = done[id(p)]
        try:
            res = finish(p, o, c, model, ctc_model, readout, device, variants, suspects=suspects)
            res.adapted = model is not shipped
            results.append(res)
        except OtalignError as err:
            results.append(err)
    return results


@dataclass
class Reading:
    """A readout's result for one file: token spans (output frames), the stretches whose reading
    was distrusted (suspects), and the readout's name as written in the outputs."""

    spans: Spans
    distrust: list[tuple[int, int]]
    name: str


def read_spans(model: AlignmentModel, out: ModelOutput, targets: torch.Tensor, word_of_phone: list[int] | tuple[int, ...],
               readout: str, feats: torch.Tensor, energy: np.ndarray | None, duration: float, device: str = "cpu",
               anchors: Anchors | None = None, correct: bool = True, change: np.ndarray | None = None,
               suspects: SuspectSettings | None = None) -> Reading:
    """The readout as ``otalign align`` runs it, shared by the dev-set evaluation and the boundary
    model's training: read; find suspect stretches (frames that do not sound like their tokens,
    and speech the anchoring path left between words); re-read those off the anchoring path if
    the readout asks; then, with ``correct`` and where the readout asks, the boundary model and
    the pause edges (``alignment.correct``). ``anchors`` are found here unless given; ``suspects``
    is the detector's operating point (default: ``alignment.suspect``'s)."""
    r = get_readout(readout)
    vocab, fs = model.cfg.vocab, model.frame_shift
    if anchors is None and SILENCE in vocab:  # the anchoring path also finds untranscribed speech
        anchors = find_anchors(out.log_probs, targets, word_of_phone, vocab, fs)
    spans = ot_readout(out, targets, word_of_phone, readout, vocab, device=device, frame_shift=fs, anchors=anchors)
    suspects = suspects or SuspectSettings()
    found = suspect_stretches(out.log_probs, targets, spans, suspects.frame_threshold(),
                              min_frames=suspects.min_frames(fs))
    distrust = merge_stretches(found, anchors.unexplained if anchors else [])
    if distrust and r.rereads_suspects:  # where the transcript seems wrong, read off the anchoring path
        spans = ot_readout(out, targets, word_of_phone, readout, vocab, distrust=distrust, device=device,
                           frame_shift=fs, anchors=anchors)
    name = readout
    if correct and r.corrected:
        spans = corrected(model, feats, energy, spans, targets, duration, word_of_phone, change)
        if model.boundary_model is not None:
            name = readout + BOUNDARY_SUFFIX
    return Reading(spans, distrust, name)


def finish(p: Prepared, out: ModelOutput, cout: ModelOutput | None, model: AlignmentModel, ctc_model: AlignmentModel | None,
           readout: str, device: str = "cpu", variants: bool = True, *,
           suspects: SuspectSettings | None = None) -> FileResult:
    """Readouts, confidence, suspects and the CTC comparison from the models' outputs.

    With ``variants``, each word with several dictionary pronunciations is read with the one its
    audio supports (``choose_pronunciations``); the choices are listed in ``stats``."""
    pron, duration, audio_path = p.pron, p.duration, p.audio

    n, m = out.frames, len(pron.phones)
    if n < m:
        raise OtalignError(audio_path, f"audio too short: {duration:.2f} s ({n} frames) cannot hold the "
                                       f"transcript's {m} phones")
    vocab = {t: i for i, t in enumerate(model.cfg.vocab)}
    targets = target_ids(pron.phones, vocab)
    lp, vocab_t, fs = out.log_probs, model.cfg.vocab, model.frame_shift
    # the anchoring path also finds untranscribed speech, so every file gets one (O(frames x beam))
    anchors = find_anchors(lp, targets, pron.word_of_phone, vocab_t, fs) if SILENCE in vocab_t else None
    chosen: list[Choice] = []
    if variants and anchors is not None and any(pron.alternatives):
        choice = choose_pronunciations(lp, anchors.tok_path, pron, vocab)
        if any(choice):
            pron = pron.with_choice(choice)
            m = len(pron.phones)
            targets = target_ids(pron.phones, vocab)
            anchors = find_anchors(lp, targets, pron.word_of_phone, vocab_t, fs)
            chosen = [Choice(pron.words[i].written, i, " ".join(pron.alternatives[i][c]))
                      for i, c in enumerate(choice) if c]
    reading = read_spans(model, out, targets, pron.word_of_phone, readout, p.feats, p.energy, duration, device, anchors,
                         change=p.change, suspects=suspects)
    spans = reading.spans
    ot = _to_alignment(spans, pron, model.frame_shift, duration, span_confidence(lp, targets, spans))
    stats = AlignStats(float(dropped_frames(out.alpha).double().mean() * 100), m, len(pron.words),
                       oov=list(pron.oov), suspect=suspect_report(reading.distrust, ot, model.frame_shift),
                       pronunciations=chosen, untranscribed=untranscribed_edges(ot, duration))
    if get_readout(readout).shifted_passes:
        stats.passes = 1 + len(out.shifted)
    ctc = None
    if ctc_model is not None and not ctc_applies(pron):
        stats.ctc_skipped = "the transcript marks unknown speech or an event (<unk>, [noise]), which the CTC twin cannot align"
    elif ctc_model is not None and cout is not None:
        cvocab = {t: i for i, t in enumerate(ctc_model.cfg.vocab)}
        ctargets = torch.tensor([cvocab[p] for p in pron.phones])
        cn = cout.frames
        if cn < min_frames(ctargets):
            stats.ctc_skipped = "audio too short for the CTC alignment"
        else:
            cuts = None
            if cn * (2 * m + 1) > MAX_CELLS:
                first = [pron.word_of_phone.index(w) for w in range(len(pron.words))]
                fs = ctc_model.frame_shift
                cuts = cuts_from_guide([w.start / fs for w in ot.words], [w.end / fs for w in ot.words], first, cn, m)
            cspans, peaky = ctc_spans(cout.log_probs, ctargets, blank=0, cuts=cuts)
            ctc = _to_alignment(cspans, pron, ctc_model.frame_shift, duration)
            stats.ctc_peaky_pct = peaky
            stats.label_delay = delay_summary(
                torch.tensor([p.start for p in ctc.phones]), torch.tensor([p.start for p in ot.phones]))
    wall = time.perf_counter() - p.t0
    stats.seconds, stats.real_time_factor = wall, duration / wall if wall > 0 else float("inf")
    alpha = out.alpha.double()
    traces = {"frame_shift": model.frame_shift, "alpha": (alpha / alpha.sum() * alpha.numel()).numpy()}
    if ctc is not None:
        post = cout.log_probs.exp()
        traces.update(ctc_frame_shift=ctc_model.frame_shift, ctc_blank=post[:, 0].numpy(),
                      ctc_token=post[:, 1:].max(1).values.numpy())
    return FileResult(audio_path, p.transcript, duration, reading.name, ot, ctc, stats, traces,
                      [Utterance("", 0.0, duration, p.text)], cues=p.cues)


def _markers_alone(markers: list, seconds: float) -> Alignment:
    """An utterance that is only markers ("[laughter]"): its time shared evenly among them, each
    one word with its pseudo-phone."""
    step = seconds / len(markers)
    words = [Segment(w.written, i * step, (i + 1) * step, None, w.raw or w.written) for i, w in enumerate(markers)]
    phones = [Segment(UNKNOWN_PHONE if w.spoken == (UNKNOWN_WORD,) else EVENT_PHONE, s.start, s.end)
              for w, s in zip(markers, words)]
    return Alignment(words, phones, list(range(len(markers))))


def _shifted(al: Alignment, dt: float, speaker: str, first_word: int) -> Alignment:
    def move(x: Segment) -> Segment:
        return Segment(x.label, x.start + dt, x.end + dt, x.confidence, x.text, speaker)

    return Alignment([move(w) for w in al.words], [move(p) for p in al.phones], [k + first_word for k in al.phone_word])


def _merged(parts: list[Alignment]) -> Alignment:
    return Alignment([w for a in parts for w in a.words], [p for a in parts for p in a.phones],
                     [k for a in parts for k in a.phone_word])


def align_utterances(audio_path: Path, transcript_path: Path, model: AlignmentModel,
                     ctc_model: AlignmentModel | None, readout: str = DEFAULT_READOUT, device: str = "cpu",
                     passes: int = DEFAULT_PASSES, variants: bool = True,
                     lexicon: Dictionary | None = None, *, suspects: SuspectSettings | None = None) -> FileResult:
    """Align a recording whose transcript is a TextGrid with one tier of utterances per speaker:
    each utterance inside its own interval, times back on the recording's clock, every word and
    phone marked with its speaker. An utterance that cannot be aligned fails the file, naming it."""
    from otalign_cli.text.utterances import read_utterances

    utts = read_utterances(transcript_path)
    samples = load_audio(audio_path)
    t0 = time.perf_counter()
    duration = len(samples) / SAMPLE_RATE
    ots, ctcs, stats_all = [], [], []
    words_before = ctc_words_before = 0
    name, events_alone = readout, False
    for u in utts:
        where = f"{u.speaker or 'tier'} {u.start:.2f}-{u.end:.2f} s"
        if u.start >= duration:
            raise OtalignError(transcript_path, f"utterance {where} starts after the audio ends ({duration:.2f} s)")
        a, b = int(round(u.start * SAMPLE_RATE)), min(len(samples), int(round(u.end * SAMPLE_RATE)))
        piece = samples[a:b]
        if piece.size < min_samples():
            raise OtalignError(transcript_path, f"utterance {where} is shorter than one 25 ms analysis frame")
        said = get_language(model.cfg.language).normalize(u.text)
        if not said:  # "<sil>", "...": nothing was said there
            continue
        if all(is_marker(w) for w in said):  # "[laughter]": the interval is the event
            ots.append(_shifted(_markers_alone(said, u.end - u.start), u.start, u.speaker, words_before))
            words_before += len(said)
            events_alone = True  # the CTC twin has no token for them: no comparison for this file
            continue
        pron = pronounce_transcript(u.text, f"{transcript_path} ({where})", lexicon, model.cfg.language)
        p = _prepared(audio_path, transcript_path, pron, u.text, piece, time.perf_counter())
        out = forward(model, p.feats, device, _passes_for(readout, passes))
        cout = forward(ctc_model, p.feats, device) if ctc_model is not None and ctc_applies(pron) else None
        try:
            r = finish(p, out, cout, model, ctc_model, readout, device, variants, suspects=suspects)
        except OtalignError as err:
            raise OtalignError(audio_path, f"utterance {where}: {err.message}") from None
        dt = a / SAMPLE_RATE
        ots.append(_shifted(r.ot, dt, u.speaker, words_before))
        words_before += len(r.ot.words)
        if r.ctc is not None:
            ctcs.append(_shifted(r.ctc, dt, u.speaker, ctc_words_before))
            ctc_words_before += len(r.ctc.words)
        r.stats.suspect = [x._replace(start=round(x.start + dt, 3), end=round(x.end + dt, 3)) for x in r.stats.suspect]
        stats_all.append(r.stats)
        name = r.readout
    if not stats_all:
        raise OtalignError(transcript_path, "no utterance has words to align (only markers such as [laughter])")
    ot = _merged(ots)
    ctc = _merged(ctcs) if ctcs and len(ctcs) == len(stats_all) and not events_alone else None
    weights = [s.phones for s in stats_all]  # per-utterance figures weigh by their phones
    stats = AlignStats(float(np.average([s.dropped_pct for s in stats_all], weights=weights)),
                       len(ot.phones), len(ot.words), utterances=len(utts),
                       oov=[w for s in stats_all for w in s.oov], suspect=[x for s in stats_all for x in s.suspect],
                       pronunciations=[c for s in stats_all for c in s.pronunciations], passes=stats_all[0].passes)
    if ctc is not None:
        stats.ctc_peaky_pct = float(np.average([s.ctc_peaky_pct for s in stats_all], weights=weights))
        stats.label_delay = delay_summary(torch.tensor([p.start for p in ctc.phones]),
                                          torch.tensor([p.start for p in ot.phones]))
    elif ctc_model is not None:
        stats.ctc_skipped = next((s.ctc_skipped for s in stats_all if s.ctc_skipped is not None),
                                 "not every utterance could be aligned by the CTC twin")
    wall = time.perf_counter() - t0
    stats.seconds, stats.real_time_factor = wall, duration / wall if wall > 0 else float("inf")
    return FileResult(audio_path, transcript_path, duration, name, ot, ctc, stats, {}, list(utts))
