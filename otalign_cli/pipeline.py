"""Align one recording: audio + transcript -> word and phone times (OT), and the CTC comparison."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from otalign_cli.adapt import AdaptConfig, adapt_heads
from otalign_cli.alignment.boundaries import correct_boundaries
from otalign_cli.alignment.endpoints import frame_energy_db, snap_pause_edges
from otalign_cli.alignment.ctc import MAX_CELLS, ctc_spans, cuts_from_guide, min_frames
from otalign_cli.alignment.readout import (Spans, dropped_frames, ot_spans, ot_token_of_frame, refine_alpha_many,
                                           snap_to_pauses, spans_of_path, viterbi_path, viterbi_spans)
from otalign_cli.alignment.segments import plan_segments, split_at_unknown
from otalign_cli.alignment.suspect import merge_stretches, suspect_stretches, unexplained_speech
from otalign_cli.alignment.variants import choose as choose_variant
from otalign_cli.audio import SAMPLE_RATE, load_audio
from otalign_cli.errors import OtalignError
from otalign_cli.text.files import read_utf8
from otalign_cli.features import log_mel, min_samples
from otalign_cli.inference import run_model, run_model_many
from otalign_cli.model import AlignmentModel
from otalign_cli.text.phones import SILENCE, UNKNOWN_PHONE
from otalign_cli.text.dictionary import Dictionary
from otalign_cli.text.pronounce import Pronunciation, pronounce_transcript

READOUTS = ("refine", "banded", "plain", "viterbi")
DEFAULT_READOUT = "refine"
BOUNDARY_SUFFIX = "+boundaries"  # the readout's name in outputs when the boundary model moved its times
DEFAULT_PASSES = 2  # shifted encoder passes averaged by the refine readout (see ``forward``)
PASS_AGREEMENT = 1.0  # output frames: readings further apart than this are not averaged
BAND = 64  # states searched around the OT path: about +-1.5 s of speech
LONG_SECONDS = 10.0  # past this, readouts run piece by piece between anchors
PIECE_SECONDS = 5.0  # about this long per piece: the refine readout drifts over longer stretches with pauses
GARBAGE_LOGP = math.log(0.2)  # per-frame score of unknown speech: below a matching phone, above a wrong one
# Per-frame score of untranscribed speech between two words (anchoring path). Higher finds more
# missing words and raises more false suspects: with the stage-5 models, 0.05 let 2 of 3 deleted
# word pairs be absorbed (bench/imperfect_transcripts.py), 0.1 flagged 4 of 60 correctly read
# real files and cost 1.5 ms of phone error there (bench/human_labelled.py); 0.07 neither.
FILLER_LOGP = math.log(0.07)
SNAP_PAUSE_EDGES = True  # refine readout: edges at pauses go onto the energy onset/offset (alignment.endpoints)
REFINE_BATCH = 64  # pieces refined in one batched plan
BEAM, MAX_BEAM = 128, 1024  # states in the anchoring beam Viterbi (about 7 s of speech)


@dataclass
class Segment:
    label: str
    start: float
    end: float
    confidence: float | None = None  # mean posterior of the token over its span, in [0, 1]
    text: str = ""  # words: the token as written in the transcript, punctuation included
    speaker: str = ""  # set when the transcript names speakers (a TextGrid with one tier per speaker)


@dataclass
class Alignment:
    """Word segments (written form) and phone segments, with ``phone_word[k]`` the word of phone k."""

    words: list[Segment]
    phones: list[Segment]
    phone_word: list[int]


@dataclass(frozen=True)
class Utterance:
    """A stretch of the recording and its transcript: the whole file for a plain text transcript,
    one interval of a speaker's tier for a TextGrid transcript."""

    speaker: str
    start: float
    end: float
    text: str


@dataclass
class FileResult:
    audio: Path
    transcript: Path
    duration: float
    readout: str
    ot: Alignment
    ctc: Alignment | None
    stats: dict = field(default_factory=dict)
    traces: dict = field(default_factory=dict)  # per-frame model outputs for plotting (numpy)
    utterances: list[Utterance] = field(default_factory=list)  # what the transcript said, where



def delay_summary(ctc_onsets: torch.Tensor, ot_onsets: torch.Tensor) -> dict[str, float]:
    """Label delay CTC - OT per token in ms: mean, median and 90th percentile (positive = CTC later)."""
    d = (ctc_onsets - ot_onsets) * 1000.0
    d = d[torch.isfinite(d)]
    if d.numel() == 0:
        return {}
    return {"mean_ms": float(d.mean()), "median_ms": float(d.median()),
            "p90_ms": float(torch.quantile(d.to(torch.float64), 0.9))}


def span_confidence(log_probs: torch.Tensor, targets: torch.Tensor, spans: Spans) -> torch.Tensor:
    """Per token, its posterior averaged over its span (frames weighted by their overlap).

    Low values mark stretches where the audio does not sound like the transcript says.
    """
    probs = log_probs.exp()
    n = probs.shape[0]
    out = torch.empty(targets.numel(), dtype=torch.float64)
    for j, (a, b) in enumerate(zip(spans.onset.tolist(), spans.offset.tolist())):
        if int(targets[j]) >= probs.shape[1]:  # unknown speech has no posterior
            out[j] = float("nan")
            continue
        first, last = min(int(a), n - 1), min(max(int(a), int(-(-b // 1)) - 1), n - 1)
        k = torch.arange(first, last + 1)
        w = (torch.minimum(torch.tensor(b), k + 1.0) - torch.maximum(torch.tensor(a), k.double())).clamp(min=0)
        if float(w.sum()) <= 0:
            w = torch.ones_like(w)
        out[j] = float((probs[k, targets[j]].double() * w).sum() / w.sum())
    return out


def _suspects(stretches: list[tuple[int, int]], ot: Alignment, frame_shift: float) -> list[dict]:
    """Stretches where the audio does not sound like the transcript, with the words they touch."""
    out = []
    for a, b in stretches:
        start, end = a * frame_shift, b * frame_shift
        # a stretch of untranscribed speech sits between two words: name both
        words = [w.label for w in ot.words if w.end >= start - frame_shift and w.start <= end + frame_shift]
        out.append({"start": round(start, 3), "end": round(end, 3), "words": " ".join(words)})
    return out


UNTRANSCRIBED_SECONDS = 10.0  # a stretch this long before the first or after the last word is reported


def _untranscribed_edges(ot: Alignment, duration: float) -> list[dict]:
    """Long stretches before the first word and after the last: a transcript that covers only
    part of a recording is aligned to that part, and the report says what it left out."""
    if not ot.words:
        return []
    spans = [(0.0, ot.words[0].start), (ot.words[-1].end, duration)]
    return [{"start": round(a, 3), "end": round(b, 3)} for a, b in spans if b - a >= UNTRANSCRIBED_SECONDS]


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
class Anchors:
    """The beam Viterbi path over the whole file (token per frame, -1 in pauses) and the pieces
    (f0, f1, j0, j1) cut at its pauses: computed once per file, shared by the first readout and
    the re-read that distrusts the suspect stretches."""

    tok_path: np.ndarray
    pieces: list[tuple[int, int, int, int]]
    unexplained: list[tuple[int, int]]  # speech the path holds between words: missing from the transcript


def needs_anchors(n: int, targets: torch.Tensor, readout: str, vocab: tuple[str, ...], frame_shift: float,
                  distrust: list[tuple[int, int]] | None = None) -> bool:
    """Whether ``ot_readout`` reads piece by piece between anchors (see there)."""
    unknown = bool((targets >= len(vocab)).any())
    return unknown or bool(distrust) or (readout != "plain" and n * frame_shift > LONG_SECONDS
                                         and SILENCE in vocab)


def find_anchors(log_probs: torch.Tensor, targets: torch.Tensor, word_of_phone: tuple[int, ...] | list[int],
                 vocab: tuple[str, ...], frame_shift: float) -> Anchors:
    """Anchors of one file from its phone log-posteriors (N, V); ``<unk>`` targets (ids >= V) match
    a garbage column that every frame scores at ``GARBAGE_LOGP``. The optional state between
    words scores a frame as silence or, at ``FILLER_LOGP``, as speech the transcript lacks, so
    a missing word is parked there instead of being forced onto its neighbours."""
    if SILENCE not in vocab:
        raise ValueError("unknown stretches (<unk>) need a model with a silence token")
    n, v = log_probs.shape
    sil = vocab.index(SILENCE)
    lp = log_probs.clone()
    lp[:, sil] = lp[:, sil].clamp(min=FILLER_LOGP)
    if bool((targets >= v).any()):
        lp = torch.cat([lp, torch.full((n, 1), GARBAGE_LOGP, dtype=lp.dtype)], 1)
    tok_path, pieces = anchor_segments(lp, targets.clamp(max=v), _word_end(list(word_of_phone)), sil,
                                       round(PIECE_SECONDS / frame_shift))
    return Anchors(tok_path, pieces, unexplained_speech(tok_path, log_probs[:, sil], FILLER_LOGP))


def ot_readout(out: dict, targets: torch.Tensor, word_of_phone: tuple[int, ...] | list[int], readout: str,
               vocab: tuple[str, ...], distrust: list[tuple[int, int]] | None = None, device: str = "cpu",
               frame_shift: float = 0.02, anchors: Anchors | None = None) -> Spans:
    """Token spans in frames from the OTTC model's outputs with the chosen readout.

    Past ``LONG_SECONDS`` (frames of ``frame_shift`` s), or when the transcript marks unknown
    speech (target ids past the vocabulary, ``<unk>``), every readout runs piece by piece
    between anchors found by a beam Viterbi over the whole file (``find_anchors``; pass them in
    to reuse them), so errors cannot accumulate; an unknown stretch gets the frames the beam
    path gives its garbage state. Pieces overlapping a ``distrust`` frame range (suspect
    stretches of a first pass) keep the beam path's spans: the OT readout spreads a transcript
    error over its whole piece, the path keeps it local. The refine pieces are refined together
    in batched plans on ``device``.
    """
    m = targets.numel()
    if readout not in READOUTS:
        raise ValueError(f"unknown readout {readout!r}; choose from {', '.join(READOUTS)}")
    lp = out["log_probs"][0]
    n, v = lp.shape
    if not needs_anchors(n, targets, readout, vocab, frame_shift, distrust):
        if readout == "refine":
            return _refine_pieces(out["alpha"][0], lp, targets, [(0, n, 0, m)], vocab, device,
                                  out.get("shifted", ()))[0]
        return _readout_piece(out["alpha"][0], lp, targets, list(word_of_phone), readout, vocab)
    if anchors is None:
        anchors = find_anchors(lp, targets, word_of_phone, vocab, frame_shift)
    unknown = (targets >= v).numpy()
    tok_path = anchors.tok_path
    onset, offset = torch.empty(m, dtype=torch.float64), torch.empty(m, dtype=torch.float64)
    to_refine: list[tuple[int, int, int, int]] = []
    for piece in anchors.pieces:
        for (f0, f1, j0, j1), is_unknown in split_at_unknown(piece, tok_path, unknown):
            if is_unknown:
                onset[j0], offset[j0] = float(f0), float(f1)
                continue
            if any(a < f1 and b > f0 for a, b in distrust or []):
                sp = spans_of_path(np.where(tok_path[f0:f1] >= 0, tok_path[f0:f1] - j0, -1), j1 - j0)
            elif readout == "refine":
                to_refine.append((f0, f1, j0, j1))
                continue
            else:
                sp = _readout_piece(out["alpha"][0, f0:f1], lp[f0:f1], targets[j0:j1],
                                    list(word_of_phone[j0:j1]), readout, vocab)
            onset[j0:j1], offset[j0:j1] = sp.onset + f0, sp.offset + f0
    refined = _refine_pieces(out["alpha"][0], lp, targets, to_refine, vocab, device, out.get("shifted", ()))
    for (f0, _, j0, j1), sp in zip(to_refine, refined):
        onset[j0:j1], offset[j0:j1] = sp.onset + f0, sp.offset + f0
    return Spans(onset, offset)


def boundary_corrected(model: AlignmentModel, feats: torch.Tensor, spans: Spans, targets: torch.Tensor,
                       duration: float) -> Spans:
    """Spans (frames) with each boundary moved by the model's boundary model (``alignment.boundaries``).

    It was trained on the residuals of the refine readout, so it follows that readout only. On the
    dev set (bundled model, 2 passes) it brought phone boundaries within 20 ms from 86.9 to
    98.0 % and word boundaries from 85.3 to 96.9 % (models/MODEL_CARD.md).
    """
    fs = model.frame_shift
    on, off = correct_boundaries(model.boundary_model, feats, spans.onset * fs, spans.offset * fs, targets, duration)
    return Spans(on / fs, off / fs)


def corrected(model: AlignmentModel, feats: torch.Tensor, energy: np.ndarray | None, spans: Spans,
              targets: torch.Tensor, duration: float) -> Spans:
    """The refine readout's spans as they are written out: each boundary moved by the model's
    boundary model (if it has one), then the edges at pauses put on the energy onsets and offsets
    (``alignment.endpoints``; on the TIMIT sample this took the first phone's onset error from
    27.5 to 12.7 ms, docs/results.md)."""
    if model.boundary_model is not None:
        spans = boundary_corrected(model, feats, spans, targets, duration)
    if energy is not None and SNAP_PAUSE_EDGES:
        fs = model.frame_shift
        on, off = snap_pause_edges(spans.onset * fs, spans.offset * fs, energy, duration)
        spans = Spans(on / fs, off / fs)
    return spans


def _refine_pieces(alpha: torch.Tensor, lp: torch.Tensor, targets: torch.Tensor,
                   pieces: list[tuple[int, int, int, int]], vocab: tuple[str, ...], device: str,
                   shifted: list[tuple[torch.Tensor, torch.Tensor, float]] | tuple = ()) -> list[Spans]:
    """The refine readout of each piece (f0, f1, j0, j1), spans relative to f0: alpha gated by
    1 - P(silence), refined against the piece's tokens (``REFINE_BATCH`` per batched plan on
    ``device``), read out, pauses snapped.

    ``shifted`` holds the outputs of the same model on features shifted by a fraction of an
    output frame (alpha, log_probs, offset in output frames, see ``forward``): each piece is
    also read on them and the readings are combined (``_combine_readings``), which places a
    boundary between the frames of a single grid (on the dev set, stage-2 model: phones within
    20 ms 80.7 -> 82.2 %).
    """
    passes = [(alpha, lp, 0.0), *shifted]
    jobs = []  # (piece index, pass index, first frame, last frame) in that pass's frames
    for k, (f0, f1, _, _) in enumerate(pieces):
        for q, (a, _, _) in enumerate(passes):
            if min(f1, a.numel()) > f0:
                jobs.append((k, q, f0, min(f1, a.numel())))
    read: list[list[tuple[Spans, float]]] = [[] for _ in pieces]
    for b in range(0, len(jobs), REFINE_BATCH):
        group = jobs[b:b + REFINE_BATCH]
        alphas = [_gate(passes[q][0][f0:f1], passes[q][1][f0:f1], vocab).to(device) for _, q, f0, f1 in group]
        refined = refine_alpha_many(alphas, [passes[q][1][f0:f1].to(device) for _, q, f0, f1 in group],
                                    [targets[pieces[k][2]:pieces[k][3]].to(device) for k, _, _, _ in group])
        for (k, q, _, _), a in zip(group, (r.cpu() for r in refined)):
            m = pieces[k][3] - pieces[k][2]
            read[k].append((snap_to_pauses(ot_spans(a, m), a), passes[q][2]))
    return [_combine_readings([Spans(sp.onset + off, sp.offset + off) for sp, off in r]) for r in read]


def _combine_readings(readings: list[Spans], agree: float = PASS_AGREEMENT) -> Spans:
    """Each boundary: the mean of the readings within ``agree`` frames of the first (unshifted) one.

    Readings that agree differ by where the frame grid falls, and their mean lands between the
    grids; a reading that disagrees more has put the token elsewhere (across a pause, say), and a
    mean would sit between the two places, right in neither: the first reading then stands alone.
    """
    def mean(values: list[torch.Tensor]) -> torch.Tensor:
        stack = torch.stack(values)
        close = ((stack - stack[0]).abs() <= agree).to(stack.dtype)
        return (stack * close).sum(0) / close.sum(0)

    onset, offset = mean([r.onset for r in readings]), mean([r.offset for r in readings])
    offset[:-1] = torch.minimum(offset[:-1], onset[1:])  # choices made per boundary must not overlap
    return Spans(onset, torch.maximum(offset, onset))


def _gate(alpha: torch.Tensor, lp: torch.Tensor, vocab: tuple[str, ...]) -> torch.Tensor:
    """Frames the phone head calls silence carry no transcript mass."""
    if SILENCE not in vocab:
        return alpha
    return alpha * (1 - lp[:, vocab.index(SILENCE)].exp()).clamp(min=1e-6)


def _word_end(word_of_phone: list[int]) -> torch.Tensor:
    m = len(word_of_phone)
    return torch.tensor([k + 1 == m or word_of_phone[k + 1] != word_of_phone[k] for k in range(m)])


def anchor_segments(log_probs: torch.Tensor, targets: torch.Tensor, word_end: torch.Tensor,
                    sil: int, piece_frames: int) -> tuple[np.ndarray, list[tuple[int, int, int, int]]]:
    """The beam Viterbi path (token per frame) and the pieces (f0, f1, j0, j1) cut at its pauses.

    The beam widens (up to ``MAX_BEAM`` states) if the path loses the transcript.
    """
    beam = BEAM
    while True:
        try:
            tok_path, _ = viterbi_path(log_probs, targets, word_end, sil, band=beam)
            break
        except ValueError:
            if beam >= MAX_BEAM:
                raise
            beam *= 2
    return tok_path, plan_segments(tok_path, word_end.numpy(), piece_frames)


def _readout_piece(alpha: torch.Tensor, lp: torch.Tensor, targets: torch.Tensor, word_of_phone: list[int],
                   readout: str, vocab: tuple[str, ...]) -> Spans:
    """The plain, banded or viterbi readout of one piece (refine goes through ``_refine_pieces``)."""
    m = targets.numel()
    if readout == "plain":
        return ot_spans(alpha, m)
    word_end = _word_end(word_of_phone)
    sil = vocab.index(SILENCE) if SILENCE in vocab else None
    if readout == "viterbi":
        return viterbi_spans(lp, targets, word_end, sil)
    return viterbi_spans(lp, targets, word_end, sil, center=ot_token_of_frame(alpha, m), band=BAND)


def forward(model: AlignmentModel, feats: torch.Tensor, device: str, passes: int = 1) -> dict:
    """Model outputs of one recording, in overlapping chunks past 30 s (see ``inference``).

    With ``passes`` > 1 (OTTC models), the features are also run shifted by 1 .. passes - 1
    feature hops, a fraction of the output frame; their outputs go under ``"shifted"`` for the
    refine readout to average over.
    """
    out = run_model(model, feats, device)
    shifted = [run_model(model, feats[k:], device) for k in _shift_hops(model, passes)]
    if shifted:
        _add_shifted(out, shifted, model)
    return out


def check_passes(passes: int, model: AlignmentModel) -> None:
    """A shift is a whole feature hop, so a model has as many distinct passes as hops per output frame."""
    if not 1 <= passes <= model.cfg.subsample:
        raise ValueError(f"--passes must be 1 to {model.cfg.subsample} for this model "
                         f"({model.cfg.subsample} feature hops per output frame), not {passes}")


def _shift_hops(model: AlignmentModel, passes: int) -> range:
    """Feature hops the extra passes start at (none for a CTC model, which has no refine readout)."""
    return range(1, passes) if model.cfg.kind == "ottc" else range(0)


def _add_shifted(out: dict, shifted_outs: list[dict], model: AlignmentModel) -> None:
    out["shifted"] = [(o["alpha"][0], o["log_probs"][0], k / model.cfg.subsample)
                      for k, o in enumerate(shifted_outs, start=1)]


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


def prepare(audio_path: Path, transcript_path: Path, lexicon: Dictionary | None = None) -> Prepared:
    """Read and check one file's transcript and audio; raises ``OtalignError`` naming the file."""
    text = read_utf8(transcript_path, "transcript")
    pron = pronounce_transcript(text, str(transcript_path), lexicon)
    t0 = time.perf_counter()  # speed counts the audio path, not the one-time lexicon load
    samples = load_audio(audio_path)
    if samples.size < min_samples():
        raise OtalignError(audio_path, f"audio too short: {samples.size} samples ({samples.size / SAMPLE_RATE * 1000:.1f} ms), "
                                       "less than one 25 ms analysis frame")
    return _prepared(audio_path, transcript_path, pron, text, samples, t0)


def _prepared(audio_path: Path, transcript_path: Path, pron: Pronunciation, text: str, samples: np.ndarray,
              t0: float) -> Prepared:
    """What the models and readouts need of checked samples: features and short-time energy."""
    return Prepared(audio_path, transcript_path, pron, log_mel(torch.from_numpy(samples)), len(samples) / SAMPLE_RATE,
                    t0, " ".join(text.split()), frame_energy_db(samples, SAMPLE_RATE))


def _passes_for(readout: str, passes: int) -> int:
    """Only the refine readout reads the shifted passes."""
    return passes if readout == "refine" else 1


def ctc_applies(pron: Pronunciation) -> bool:
    """The CTC twin has no token for unknown speech, so a transcript with ``<unk>`` gets no CTC comparison."""
    return UNKNOWN_PHONE not in pron.phones


def align_file(audio_path: Path, transcript_path: Path, model: AlignmentModel, ctc_model: AlignmentModel | None,
               readout: str = DEFAULT_READOUT, device: str = "cpu", passes: int = DEFAULT_PASSES,
               variants: bool = True, lexicon: Dictionary | None = None) -> FileResult:
    """Align one file; raises ``OtalignError`` naming the file for any bad input.

    ``passes`` shifted encoder passes feed the refine readout (see ``forward``); ``variants``
    lets the audio choose among a word's pronunciations (see ``finish``); ``lexicon`` is the
    user's pronunciation dictionary, looked up before CMUdict."""
    from otalign_cli.text.utterances import names_speakers

    if names_speakers(transcript_path):
        return align_utterances(audio_path, transcript_path, model, ctc_model, readout, device, passes, variants,
                                lexicon)
    p = prepare(audio_path, transcript_path, lexicon)
    out = forward(model, p.feats, device, _passes_for(readout, passes))
    cout = forward(ctc_model, p.feats, device) if ctc_model is not None and ctc_applies(p.pron) else None
    return finish(p, out, cout, model, ctc_model, readout, device, variants)


def align_files(pairs: list[tuple[Path, Path]], model: AlignmentModel, ctc_model: AlignmentModel | None,
                readout: str = DEFAULT_READOUT, device: str = "cpu",
                passes: int = DEFAULT_PASSES, variants: bool = True,
                adapt: AdaptConfig | None = None, lexicon: Dictionary | None = None) -> list[FileResult | OtalignError]:
    """Align several files with their encoder passes batched by length (for a GPU); per file, the
    result or the ``OtalignError`` that file raised.

    With ``adapt``, the files are taken to be one speaker's: the OTTC model's heads are first
    tuned on their transcripts (``adapt.adapt_heads``), and that copy aligns them. Files whose
    transcript names speakers (a TextGrid) are aligned one by one, unadapted (``align_utterances``)."""
    from otalign_cli.text.utterances import names_speakers

    if any(names_speakers(t) for _, t in pairs):
        plain = iter(align_files([(a, t) for a, t in pairs if not names_speakers(t)], model, ctc_model, readout,
                                 device, passes, variants, adapt, lexicon))
        mixed: list[FileResult | OtalignError] = []
        for a, t in pairs:
            if not names_speakers(t):
                mixed.append(next(plain))
                continue
            try:
                mixed.append(align_file(a, t, model, ctc_model, readout, device, passes, variants, lexicon))
            except OtalignError as err:
                mixed.append(err)
        return mixed
    prepared: list[Prepared | OtalignError] = []
    for audio, transcript in pairs:
        try:
            prepared.append(prepare(audio, transcript, lexicon))
        except OtalignError as err:
            prepared.append(err)
    good = [p for p in prepared if isinstance(p, Prepared)]
    if adapt is not None:
        vocab = {t: i for i, t in enumerate(model.cfg.vocab)}
        known = [p for p in good if UNKNOWN_PHONE not in p.pron.phones]  # <unk> has no posterior to fit
        model = adapt_heads(model, [p.feats for p in known], [target_ids(p.pron.phones, vocab) for p in known], adapt)
    outs = run_model_many(model, [p.feats for p in good], device)
    extra = [run_model_many(model, [p.feats[k:] for p in good], device)
             for k in _shift_hops(model, _passes_for(readout, passes))]
    if extra:
        for i, o in enumerate(outs):
            _add_shifted(o, [e[i] for e in extra], model)
    couts = run_model_many(ctc_model, [p.feats for p in good], device) if ctc_model is not None else [None] * len(good)
    done = {id(p): (o, c) for p, o, c in zip(good, outs, couts)}
    results: list[FileResult | OtalignError] = []
    for p in prepared:
        if isinstance(p, OtalignError):
            results.append(p)
            continue
        o, c = done[id(p)]
        try:
            results.append(finish(p, o, c, model, ctc_model, readout, device, variants))
        except OtalignError as err:
            results.append(err)
    return results


def target_ids(phones: tuple[str, ...], vocab: dict[str, int]) -> torch.Tensor:
    """Token ids of a phone sequence; ``<unk>``'s phone gets the id past the vocabulary (garbage)."""
    return torch.tensor([vocab.get(p, len(vocab)) if p == UNKNOWN_PHONE else vocab[p] for p in phones])


def choose_pronunciations(log_probs: torch.Tensor, tok_path: np.ndarray, pron: Pronunciation,
                          vocab: dict[str, int]) -> list[int]:
    """Per written word, the index of the pronunciation its frames on the anchoring path support
    (``alignment.variants``; 0, the dictionary's first, where nothing else is clearly better)."""
    n_words = len(pron.words)
    choice = [0] * n_words
    owner = np.asarray(pron.word_of_phone)
    frames = np.flatnonzero(tok_path >= 0)
    words = owner[tok_path[frames]]
    first, last = np.full(n_words, len(tok_path)), np.full(n_words, -1)
    np.minimum.at(first, words, frames)  # each word's first and last frame on the path, in one pass
    np.maximum.at(last, words, frames)
    for i, alts in enumerate(pron.alternatives):
        if alts and last[i] >= 0:
            candidates = [target_ids(a, vocab) for a in alts]
            choice[i] = choose_variant(log_probs, (int(first[i]), int(last[i]) + 1), candidates)
    return choice


def finish(p: Prepared, out: dict, cout: dict | None, model: AlignmentModel, ctc_model: AlignmentModel | None,
           readout: str, device: str = "cpu", variants: bool = True) -> FileResult:
    """Readouts, confidence, suspects and the CTC comparison from the models' outputs.

    With ``variants``, each word with several dictionary pronunciations is read with the one its
    audio supports (``choose_pronunciations``); the choices are listed in ``stats``."""
    pron, duration, audio_path = p.pron, p.duration, p.audio

    n, m = out["log_probs"].shape[1], len(pron.phones)
    if n < m:
        raise OtalignError(audio_path, f"audio too short: {duration:.2f} s ({n} frames) cannot hold the "
                                       f"transcript's {m} phones")
    vocab = {t: i for i, t in enumerate(model.cfg.vocab)}
    targets = target_ids(pron.phones, vocab)
    lp, vocab_t, fs = out["log_probs"][0], model.cfg.vocab, model.frame_shift
    # the anchoring path also finds untranscribed speech, so every file gets one (O(frames x beam))
    anchors = find_anchors(lp, targets, pron.word_of_phone, vocab_t, fs) if SILENCE in vocab_t else None
    chosen: list[dict] = []
    if variants and anchors is not None and any(pron.alternatives):
        choice = choose_pronunciations(lp, anchors.tok_path, pron, vocab)
        if any(choice):
            pron = pron.with_choice(choice)
            m = len(pron.phones)
            targets = target_ids(pron.phones, vocab)
            anchors = find_anchors(lp, targets, pron.word_of_phone, vocab_t, fs)
            chosen = [{"word": pron.words[i].written, "index": i, "phones": " ".join(pron.alternatives[i][c])}
                      for i, c in enumerate(choice) if c]
    spans = ot_readout(out, targets, pron.word_of_phone, readout, vocab_t, device=device, frame_shift=fs,
                       anchors=anchors)
    distrust = merge_stretches(suspect_stretches(lp, targets, spans), anchors.unexplained if anchors else [])
    if distrust and readout == "refine":  # where the transcript seems wrong, read off the anchoring path
        spans = ot_readout(out, targets, pron.word_of_phone, readout, vocab_t, distrust=distrust,
                           device=device, frame_shift=fs, anchors=anchors)
    name = readout
    if readout == "refine":
        spans = corrected(model, p.feats, p.energy, spans, targets, duration)
        if model.boundary_model is not None:
            name = readout + BOUNDARY_SUFFIX
    ot = _to_alignment(spans, pron, model.frame_shift, duration, span_confidence(out["log_probs"][0], targets, spans))
    stats: dict = {"dropped_pct": float(dropped_frames(out["alpha"][0]).double().mean() * 100),
                   "phones": m, "words": len(pron.words), "oov": list(pron.oov),
                   "suspect": _suspects(distrust, ot, model.frame_shift), "pronunciations": chosen}
    stats["untranscribed"] = _untranscribed_edges(ot, duration)
    if readout == "refine":
        stats["passes"] = 1 + len(out.get("shifted", ()))
    ctc = None
    if ctc_model is not None and not ctc_applies(pron):
        stats["ctc_skipped"] = "the transcript marks unknown speech (<unk>), which the CTC twin cannot align"
    elif ctc_model is not None and cout is not None:
        cvocab = {t: i for i, t in enumerate(ctc_model.cfg.vocab)}
        ctargets = torch.tensor([cvocab[p] for p in pron.phones])
        cn = cout["log_probs"].shape[1]
        if cn < min_frames(ctargets):
            stats["ctc_skipped"] = "audio too short for the CTC alignment"
        else:
            cuts = None
            if cn * (2 * m + 1) > MAX_CELLS:
                first = [pron.word_of_phone.index(w) for w in range(len(pron.words))]
                fs = ctc_model.frame_shift
                cuts = cuts_from_guide([w.start / fs for w in ot.words], [w.end / fs for w in ot.words], first, cn, m)
            cspans, peaky = ctc_spans(cout["log_probs"][0], ctargets, blank=0, cuts=cuts)
            ctc = _to_alignment(cspans, pron, ctc_model.frame_shift, duration)
            stats["ctc_peaky_pct"] = peaky
            stats["label_delay"] = delay_summary(
                torch.tensor([p.start for p in ctc.phones]), torch.tensor([p.start for p in ot.phones]))
    wall = time.perf_counter() - p.t0
    stats["seconds"] = wall
    stats["real_time_factor"] = duration / wall if wall > 0 else float("inf")
    alpha = out["alpha"][0].double()
    traces = {"frame_shift": model.frame_shift, "alpha": (alpha / alpha.sum() * alpha.numel()).numpy()}
    if ctc is not None:
        post = cout["log_probs"][0].exp()
        traces.update(ctc_frame_shift=ctc_model.frame_shift, ctc_blank=post[:, 0].numpy(),
                      ctc_token=post[:, 1:].max(1).values.numpy())
    return FileResult(audio_path, p.transcript, duration, name, ot, ctc, stats, traces,
                      [Utterance("", 0.0, duration, p.text)])


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
                     lexicon: Dictionary | None = None) -> FileResult:
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
    for u in utts:
        where = f"{u.speaker or 'tier'} {u.start:.2f}-{u.end:.2f} s"
        if u.start >= duration:
            raise OtalignError(transcript_path, f"utterance {where} starts after the audio ends ({duration:.2f} s)")
        a, b = int(round(u.start * SAMPLE_RATE)), min(len(samples), int(round(u.end * SAMPLE_RATE)))
        piece = samples[a:b]
        if piece.size < min_samples():
            raise OtalignError(transcript_path, f"utterance {where} is shorter than one 25 ms analysis frame")
        pron = pronounce_transcript(u.text, f"{transcript_path} ({where})", lexicon)
        p = _prepared(audio_path, transcript_path, pron, u.text, piece, time.perf_counter())
        out = forward(model, p.feats, device, _passes_for(readout, passes))
        cout = forward(ctc_model, p.feats, device) if ctc_model is not None and ctc_applies(pron) else None
        try:
            r = finish(p, out, cout, model, ctc_model, readout, device, variants)
        except OtalignError as err:
            raise OtalignError(audio_path, f"utterance {where}: {err.message}") from None
        dt = a / SAMPLE_RATE
        ots.append(_shifted(r.ot, dt, u.speaker, words_before))
        words_before += len(r.ot.words)
        if r.ctc is not None:
            ctcs.append(_shifted(r.ctc, dt, u.speaker, ctc_words_before))
            ctc_words_before += len(r.ctc.words)
        for x in r.stats.get("suspect", []):
            x.update(start=round(x["start"] + dt, 3), end=round(x["end"] + dt, 3))
        stats_all.append(r.stats)
        name = r.readout
    ot = _merged(ots)
    ctc = _merged(ctcs) if ctcs and len(ctcs) == len(utts) else None
    weights = [s["phones"] for s in stats_all]  # per-utterance figures weigh by their phones
    stats: dict = {"dropped_pct": float(np.average([s["dropped_pct"] for s in stats_all], weights=weights)),
                   "phones": len(ot.phones), "words": len(ot.words), "utterances": len(utts),
                   "oov": [w for s in stats_all for w in s["oov"]],
                   "suspect": [x for s in stats_all for x in s["suspect"]],
                   "pronunciations": [c for s in stats_all for c in s["pronunciations"]]}
    if "passes" in stats_all[0]:
        stats["passes"] = stats_all[0]["passes"]
    if ctc is not None:
        stats["ctc_peaky_pct"] = float(np.average([s["ctc_peaky_pct"] for s in stats_all], weights=weights))
        stats["label_delay"] = delay_summary(torch.tensor([p.start for p in ctc.phones]),
                                             torch.tensor([p.start for p in ot.phones]))
    elif ctc_model is not None:
        stats["ctc_skipped"] = next((s["ctc_skipped"] for s in stats_all if "ctc_skipped" in s),
                                    "not every utterance could be aligned by the CTC twin")
    wall = time.perf_counter() - t0
    stats["seconds"] = wall
    stats["real_time_factor"] = duration / wall if wall > 0 else float("inf")
    return FileResult(audio_path, transcript_path, duration, name, ot, ctc, stats, {}, list(utts))
