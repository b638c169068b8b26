"""The acoustic models: an encoder from the registry (``encoders``; the bundled one is ``bigru``)
and an OTTC head pair (tokens + alpha) or a CTC head."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

from otalign_cli import encoders


@dataclass(frozen=True)
class ModelConfig:
    kind: str  # "ottc" or "ctc"
    vocab: tuple[str, ...]  # token inventory; for CTC, index 0 is the blank
    encoder: str = "bigru"  # a name in ``encoders.REGISTRY``
    language: str = "en"  # a code in ``text.languages``: how its transcripts are pronounced
    n_mels: int = 80
    conv_dim: int = 192
    hidden: int = 192  # per direction, for the recurrent encoders
    layers: int = 2
    subsample: int = 2  # output frame = subsample x 10 ms
    dropout: float = 0.1
    alpha: str = "softplus"  # how the alpha head's output becomes a positive weight: softplus or exp
    ctc_aux: bool = False  # OTTC only: a CTC head (tokens + blank) for an auxiliary training loss

    def to_dict(self) -> dict:
        d = asdict(self)
        d["vocab"] = list(self.vocab)
        if self.language == "en":  # as before languages existed: an older otalign still reads the file
            del d["language"]
        return d

    @classmethod
    def from_dict(cls, d: dict) -> ModelConfig:
        return cls(**{**d, "vocab": tuple(d["vocab"])})


ALPHA_EPS = 1e-6
# Both start uniform from the zero-initialized head; exp lets a pause's weight fall by orders of
# magnitude at a constant gradient scale, softplus flattens out near zero (the ablation in MODEL_CARD).
ALPHA_FUNCTIONS = {"softplus": F.softplus, "exp": torch.exp}


class AlignmentModel(nn.Module):
    """Encoder + token log-posteriors, + a per-frame weight alpha for the OTTC kind.

    An OTTC checkpoint may also carry a boundary model (``alignment.boundaries``) trained on
    this model's residuals, and a frame model (``alignment.frames``) trained on its alignments. It is held outside the module's parameters (``set_boundary_model``):
    training new weights from this model must not carry it along, since it would then correct
    residuals the new weights no longer make.
    """

    boundary_model: nn.Module | None = None
    frame_model: nn.Module | None = None  # ``alignment.frames``: re-segments the corrected alignment

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.encoder = encoders.build(cfg)
        width = self.encoder.out_dim
        self.token_head = nn.Linear(width, len(cfg.vocab))
        if cfg.kind == "ottc":
            self.alpha_head = nn.Linear(width, 1)
            nn.init.zeros_(self.alpha_head.weight)  # alpha starts uniform over frames
            nn.init.zeros_(self.alpha_head.bias)
            if cfg.alpha not in ALPHA_FUNCTIONS:
                raise ValueError(f"unknown alpha function {cfg.alpha!r}; choose from {', '.join(ALPHA_FUNCTIONS)}")
            if cfg.ctc_aux:  # training only: the blank is the last class
                self.ctc_head = nn.Linear(width, len(cfg.vocab) + 1)
        elif cfg.kind != "ctc":
            raise ValueError(f"unknown model kind {cfg.kind!r}")

    def set_boundary_model(self, boundary_model: nn.Module | None) -> None:
        self.__dict__["boundary_model"] = boundary_model  # not a submodule: not in state_dict()

    def set_frame_model(self, frame_model: nn.Module | None) -> None:
        self.__dict__["frame_model"] = frame_model  # held outside the weights, as the boundary model

    @property
    def frame_shift(self) -> float:
        return 0.01 * self.cfg.subsample

    def forward(self, feats: torch.Tensor, lengths: torch.Tensor) -> dict[str, torch.Tensor]:
        """log_probs (B, N, V), lengths (B,), and for OTTC alpha (B, N) > 0 (zero past the length)."""
        h, out_lengths = self.encoder(feats, lengths)
        out = {"log_probs": F.log_softmax(self.token_head(h), dim=-1), "lengths": out_lengths}
        if self.cfg.kind == "ottc":
            valid = torch.arange(h.shape[1], device=h.device)[None, :] < out_lengths[:, None]
            alpha = ALPHA_FUNCTIONS[self.cfg.alpha](self.alpha_head(h).squeeze(-1)) + ALPHA_EPS
            out["alpha"] = alpha * valid
            if self.cfg.ctc_aux:
                out["ctc_log_probs"] = F.log_softmax(self.ctc_head(h), dim=-1)
        return out
