"""The training configuration: every default ``otalign train`` offers lives here, and nowhere else.
(No torch here: the command line reads these defaults to build its options.)"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class TrainConfig:
    kind: str = "ottc"
    steps: int = 1100
    batch_seconds: float = 60.0
    lr: float = 2e-3
    warmup: int = 60
    weight_decay: float = 0.01
    clip: float = 5.0
    supervised_steps: int = 300  # OTTC only: full-weight supervised warm start, then decay
    supervised_floor: float = 0.1
    stop_after: int | None = None  # end this run at that step, keeping the schedule of ``steps``
    noise_prob: float = 0.5
    augment: str = "noise"  # "noise" (gain + white noise) or "full" (+ reverb, band-limit, mu-law)
    seed: int = 0
    threads: int = 1
    subsample: int = 2  # output frame = subsample x 10 ms (the frame-rate ablation)
    hidden: int = 192  # GRU width per direction (the encoder-size ablation)
    encoder: str = "bigru"  # a name in ``encoders.REGISTRY``
    language: str = "en"  # a code in ``text.languages``: the phones and pronunciations it learns
    alpha: str = "softplus"  # alpha head function, softplus or exp (the alpha ablation)
    device: str = "cpu"  # where the model trains: cpu or cuda
    ctc_weight: float = 0.0  # OTTC only: weight of an auxiliary CTC loss on a separate head
    losses: tuple[str, ...] | None = None  # names in ``losses.REGISTRY``; None: the kind's default set
    corpora: tuple[str, ...] = ()  # the corpus folders trained on (recorded; a resumed run must name the same)
    aligned_corpora: tuple[str, ...] = ()  # those whose TextGrids an aligner made (``--aligned-times``)
    extra: dict = field(default_factory=dict)


# Settings a resumed run may change: they do not change what is learned, only where, how fast and
# how far this run goes.
RESUMABLE_CHANGES = ("stop_after", "threads", "device")
