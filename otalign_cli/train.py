"""Training of the OTTC model and its CTC twin on a corpus of audio + transcripts.

Corpus: a folder with ``manifest.jsonl`` (from ``otalign synth``) or audio files with same-stem
``.txt``/``.lab`` transcripts. Where a same-stem ``.TextGrid`` with a ``phones`` tier exists
(gold timings), the OTTC model gets a supervised warm start: frame cross-entropy on the token
head (silence included) and alpha regressed to the oracle alpha, decaying to a small floor while
the OTTC loss takes over. The CTC twin is trained with plain CTC on the same data.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
import torch

from otalign_cli.audio import load_audio
from otalign_cli.augment import augment
from otalign_cli.checkpoint import load_checkpoint, save_checkpoint
from otalign_cli.errors import OtalignError
from otalign_cli.features import log_mel
from otalign_cli.formats.textgrid import read_textgrid
from otalign_cli.losses import LossBatch, losses_for
from otalign_cli.manifest import read_manifest
from otalign_cli.model import AlignmentModel, ModelConfig
from otalign_cli.train_config import RESUMABLE_CHANGES, TrainConfig
from otalign_cli.text.languages import DEFAULT_LANGUAGE, get_language
from otalign_cli.text.phones import BLANK, PSEUDO_PHONES, SILENCE
from otalign_cli.text.normalize import only_markers
from otalign_cli.text.pronounce import pronounce_transcript
from otalign_cli.text.transcripts import listing_for, read_transcript

AUDIO_EXTS = (".wav", ".flac", ".ogg", ".mp3")


def vocab_for(kind: str, language: str = DEFAULT_LANGUAGE) -> tuple[str, ...]:
    """A new model's tokens: its language's phones, and a pause (OTTC) or CTC's blank."""
    phones = tuple(get_language(language).PHONES)
    return (*phones, SILENCE) if kind == "ottc" else (BLANK, *phones)


@dataclass
class Example:
    id: str
    audio: np.ndarray  # 16 kHz float32
    phones: list[str]
    intervals: list[tuple[float, float]] | None  # gold phone times, if known
    split: str = "train"
    words: list[tuple[float, float]] | None = None  # gold word times, if known
    aligned: bool = False  # the times are an aligner's output (pseudo-labels), not gold: they teach alpha only


def _transcript_of(audio: Path, seen: dict[Path, dict[str, Path]] | None = None) -> Path | None:
    """``audio``'s same-stem .txt/.lab, else the listing in its folder with a line for it
    (LibriSpeech; ``seen``: the folders' listings read so far, see ``transcripts.listing_for``)."""
    for ext in (".txt", ".lab"):
        p = audio.with_suffix(ext)
        if p.is_file():
            return p
    return listing_for(audio, {} if seen is None else seen)


def holds_reserved_voices(root: Path) -> bool:
    """Whether ``root`` is, is inside, or contains the reserved-voice evaluation set."""
    from otalign_cli.synth.evaluation_set import RESERVED_MARKER

    root = root.resolve()
    return any((p / RESERVED_MARKER).exists() for p in (root, *root.parents)) or (
        root.is_dir() and next(root.rglob(RESERVED_MARKER), None) is not None)


def corpus_entries(root: Path, split: str | None = None, evaluation: bool = False) -> list[tuple[Path, str]]:
    """(audio, split) of a corpus folder: its manifest's records, or every audio file (all "train").
    The reserved-voice evaluation set is refused unless ``evaluation``."""
    if not evaluation and holds_reserved_voices(root):
        raise OtalignError(root, "holds the reserved-voice evaluation set (synth.evaluation_set); "
                                 "it is never trained or tuned on")
    entries: list[tuple[Path, str]] = []
    manifest = root / "manifest.jsonl"
    if manifest.is_file():
        entries = [(root / r.audio, r.split) for r in read_manifest(manifest)]
    else:
        entries = [(p, "train") for p in sorted(root.rglob("*")) if p.suffix.lower() in AUDIO_EXTS]
    if split is not None:
        entries = [e for e in entries if e[1] == split]
    return entries


def read_gold(tg: Path) -> tuple[list[str], list[tuple[float, float]], list[tuple[float, float]]]:
    """A gold TextGrid's phone labels, phone times and word times."""
    tiers = read_textgrid(tg)
    if "phones" not in tiers:
        raise OtalignError(tg, "gold TextGrid has no interval tier named phones")
    return ([lab for _, _, lab in tiers["phones"]], [(s, e) for s, e, _ in tiers["phones"]],
            [(s, e) for s, e, _ in tiers.get("words", [])])


def load_corpus(root: Path, limit: int | None = None, split: str | None = None,
                evaluation: bool = False, sample_seed: int | None = None,
                language: str = DEFAULT_LANGUAGE, aligned: bool = False,
                skipped: list[Path] | None = None) -> list[Example]:
    """Examples of a corpus folder (only ``split`` if given); gold phone times from same-stem TextGrids,
    else the transcript pronounced in ``language``. ``aligned`` marks the TextGrids as an aligner's
    output rather than gold (``Example.aligned``; the supervised loss teaches alpha only from them).

    With ``sample_seed``, the ``limit`` examples are a random sample (that seed) instead of the
    first ones, which in a synth corpus all come from one voice. The reserved-voice evaluation
    set loads only with ``evaluation=True`` (never for training). Transcripts that mark unknown
    speech or noise (``<unk>``, "[laughter]") have no phones to learn there: they are left out
    and appended to ``skipped``.
    """
    entries = corpus_entries(root, split, evaluation)
    if sample_seed is not None:
        random.Random(sample_seed).shuffle(entries)
    examples, listings = [], {}
    for path, part in entries[:limit]:
        tg = path.with_suffix(".TextGrid")
        words = None
        if tg.is_file():
            phones, intervals, words = read_gold(tg)
        else:
            transcript = _transcript_of(path, listings)
            if transcript is None:
                continue
            text, _ = read_transcript(transcript, path)
            if only_markers(text, get_language(language).normalize):
                if skipped is not None:
                    skipped.append(transcript)
                continue
            phones = list(pronounce_transcript(text, str(transcript), language=language).phones)
            intervals = None
            if any(p in PSEUDO_PHONES for p in phones):
                if skipped is not None:
                    skipped.append(transcript)
                continue
        examples.append(Example(path.stem, load_audio(path), phones, intervals, part, words,
                                aligned and intervals is not None))
    return examples


def batches(examples: list[Example], seconds: float, rng: random.Random) -> list[list[Example]]:
    """Length-sorted buckets of about ``seconds`` of audio each, in random order."""
    order = sorted(examples, key=lambda e: len(e.audio))
    out, cur, dur = [], [], 0.0
    for e in order:
        cur.append(e)
        dur += len(e.audio) / 16000
        if dur >= seconds:
            out.append(cur)
            cur, dur = [], 0.0
    if cur:
        out.append(cur)
    rng.shuffle(out)
    return out


def _collate(batch: list[Example], model: AlignmentModel, rng: random.Random | None, cfg: TrainConfig):
    feats = [log_mel(augment(e.audio, rng, cfg.augment, cfg.noise_prob) if rng else torch.from_numpy(e.audio))
             for e in batch]
    lengths = torch.tensor([f.shape[0] for f in feats])
    x = torch.nn.utils.rnn.pad_sequence(feats, batch_first=True)
    vocab = {t: i for i, t in enumerate(model.cfg.vocab)}
    targets = [torch.tensor([vocab[p] for p in e.phones]) for e in batch]
    t_lengths = torch.tensor([len(t) for t in targets])
    y = torch.nn.utils.rnn.pad_sequence(targets, batch_first=True)
    return x, lengths, y, t_lengths


def compute_loss(model: AlignmentModel, batch: list[Example], cfg: TrainConfig, step: int,
                 rng: random.Random | None) -> tuple[torch.Tensor, dict[str, float]]:
    """The sum of the batch's losses (``cfg.losses``, or the kind's default set; ``losses``), and
    their unweighted values by name."""
    dev = next(model.parameters()).device
    x, lengths, y, t_lengths = (t.to(dev) for t in _collate(batch, model, rng, cfg))
    out = model(x, lengths)
    inputs = LossBatch(y, t_lengths, [e.intervals for e in batch], [e.aligned for e in batch])
    total, parts = None, {}
    for loss in losses_for(cfg.kind, cfg.losses):
        term, logged = loss.load()(out, inputs, model, cfg, step)
        parts.update(logged)
        if term is not None:
            total = term if total is None else total + term
    if total is None:  # none applies to this batch (say, only the supervised term and no gold times): no update
        total = out["log_probs"].sum() * 0.0
    return total, parts


def lr_at(step: int, cfg: TrainConfig) -> float:
    if step < cfg.warmup:
        return cfg.lr * (step + 1) / cfg.warmup
    p = (step - cfg.warmup) / max(1, cfg.steps - cfg.warmup)
    return cfg.lr * 0.5 * (1 + math.cos(math.pi * min(1.0, p)))


def train(examples: list[Example], out: Path, cfg: TrainConfig, name: str,
          on_step: Callable[[int, dict], None] | None = None, resume: bool = True,
          init: Path | None = None) -> AlignmentModel:
    """Train and write ``out`` (checkpoint) and ``out.state`` (optimizer, for resuming).

    ``init`` starts from the weights of an earlier checkpoint of the same kind (fine-tuning).
    """
    torch.set_num_threads(cfg.threads)
    torch.manual_seed(cfg.seed)
    rng = random.Random(cfg.seed)
    aux = cfg.kind == "ottc" and cfg.ctc_weight > 0
    model = AlignmentModel(ModelConfig(kind=cfg.kind, vocab=vocab_for(cfg.kind, cfg.language), encoder=cfg.encoder,
                                       language=cfg.language,
                                       subsample=cfg.subsample, hidden=cfg.hidden, alpha=cfg.alpha, ctc_aux=aux))
    base: dict = {}
    if init is not None:  # the checkpoint's own shape and language win: --subsample/--hidden/--alpha/--language shape new models
        start, base = load_checkpoint(init, expect_kind=cfg.kind)
        model = AlignmentModel(replace(start.cfg, ctc_aux=start.cfg.ctc_aux or aux))
        model.load_state_dict(start.state_dict(), strict=False)  # a new CTC head starts from scratch
    model.to(cfg.device)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    state_path = out.with_name(out.name + ".state")
    step, elapsed = 0, 0.0
    if resume and state_path.is_file():
        st = _load_state(state_path, cfg.device)
        _check_resumable(state_path, st.get("config"), cfg)
        model.load_state_dict(st["model"])
        opt.load_state_dict(st["opt"])
        step, elapsed = st["step"], st["elapsed"]
        rng.setstate(st["rng"])
    train_set = [e for e in examples if e.split == "train"]
    hours = sum(len(e.audio) for e in train_set) / 16000 / 3600
    t0 = time.time() - elapsed
    model.train()
    last = min(cfg.steps, cfg.stop_after or cfg.steps)
    while step < last:
        for batch in batches(train_set, cfg.batch_seconds, rng):
            if step >= last:
                break
            for g in opt.param_groups:
                g["lr"] = lr_at(step, cfg)
            loss, parts = compute_loss(model, batch, cfg, step, rng)
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.clip)
            opt.step()
            step += 1
            if on_step:
                on_step(step, {"loss": float(loss.detach()), "lr": opt.param_groups[0]["lr"], **parts})
            if step % 200 == 0 or step == last:
                summary = {"hours": round(hours, 3), "utterances": len(train_set), "steps": step,
                           "wall_seconds": round(time.time() - t0, 1), "config": cfg.__dict__,
                           "initialized_from": {"name": base["name"], "training": base["training"]} if base else None}
                if step == last:
                    summary["dev"] = dev_metrics(model, [e for e in examples if e.split == "dev"])
                    model.train()
                save_checkpoint(out, model, name, summary)
                torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "step": step,
                            "elapsed": time.time() - t0, "rng": rng.getstate(), "config": asdict(cfg)}, state_path)
    model.eval()
    return model


def check_resumable(out: Path, cfg: TrainConfig) -> None:
    """Raise if ``out.state`` exists and was written by a run with other settings (see
    ``_check_resumable``): the command line asks before it starts its progress display."""
    state_path = out.with_name(out.name + ".state")
    if state_path.is_file():
        _check_resumable(state_path, _load_state(state_path, "cpu").get("config"), cfg)


def _load_state(state_path: Path, device: str) -> dict:
    try:
        state = torch.load(state_path, weights_only=False, map_location=device)
    except Exception as err:  # a truncated or foreign file: whatever torch.load raises
        raise OtalignError(state_path, f"cannot read this training state ({type(err).__name__}); "
                                       "delete it to start over") from err
    if not isinstance(state, dict) or not {"model", "opt", "step"} <= state.keys():
        raise OtalignError(state_path, "not a training state written by otalign train; delete it to start over")
    return state


def _check_resumable(state_path: Path, saved: dict | None, cfg: TrainConfig) -> None:
    """A run resumed from ``state_path`` must train on what it started with: the same corpora, the
    same marks, the same loss and schedule (``RESUMABLE_CHANGES`` aside). States written before
    the configuration was saved are taken as they are."""
    if saved is None:
        return
    now = asdict(cfg)
    for key, value in saved.items():
        if key in RESUMABLE_CHANGES or key not in now:
            continue
        old, new = (list(v) if isinstance(v, (tuple, list)) else v for v in (value, now[key]))
        if old != new:
            raise OtalignError(state_path, f"this run was started with {key} = {_shown(old)}, not {_shown(new)}; "
                               "resume it with the same settings, or delete that file to start over")


def _shown(value) -> str:
    if isinstance(value, list):
        return ", ".join(map(str, value)) or "(none)"
    return str(value)


def dev_metrics(model: AlignmentModel, dev: list[Example], limit: int = 200) -> dict:
    """Dev-set boundary figures (default readout, or CTC Viterbi) stored in the checkpoint."""
    from otalign_cli.devset import evaluate
    from otalign_cli.alignment.readouts import DEFAULT_READOUT

    usable = [e for e in dev if e.intervals is not None and e.words and not e.aligned][:limit]  # gold only
    if not usable:
        return {}
    model.eval()
    with torch.no_grad():
        res = evaluate(model, usable, [DEFAULT_READOUT])
    return {r: {"phones": v["phones"], "words": v["words"], "utterances": v["utterances"]} for r, v in res.items()}
