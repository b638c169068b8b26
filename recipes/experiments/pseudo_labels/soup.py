"""python soup.py OUT.pt A.pt B.pt ...: the mean of the weights of OTTC checkpoints fine-tuned from one init (a model soup)."""
import sys
from pathlib import Path
import torch
from otalign_cli.checkpoint import load_checkpoint, save_checkpoint
out, srcs = Path(sys.argv[1]), [Path(p) for p in sys.argv[2:]]
models = [load_checkpoint(p, expect_kind="ottc") for p in srcs]
for m, _ in models:  # only the encoders are averaged: attached models would not match
    m.set_boundary_model(None)
    m.set_frame_model(None)
base, meta = models[0]
sd = {k: torch.stack([m.state_dict()[k].float() for m, _ in models]).mean(0).to(v.dtype) if v.is_floating_point() else v
      for k, v in base.state_dict().items()}
base.load_state_dict(sd)
training = dict(meta["training"]); training["soup_of"] = [p.name for p in srcs]
save_checkpoint(out, base, meta["name"], training)
print("wrote", out)
