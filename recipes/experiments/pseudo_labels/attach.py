"""python attach.py ENCODER_WITH_BOUNDARY.pt FRAME_SOURCE.pt OUT.pt: the frame model of FRAME_SOURCE into a copy of the first."""
import sys
from pathlib import Path
from otalign_cli.checkpoint import load_checkpoint, save_checkpoint
a, b, out = map(Path, sys.argv[1:4])
m, meta = load_checkpoint(a, expect_kind="ottc")
f, fmeta = load_checkpoint(b, expect_kind="ottc")
m.set_frame_model(f.frame_model)
save_checkpoint(out, m, meta["name"], meta["training"],
                boundary_training=meta.get("boundary_model", {}).get("training"),
                frame_training=fmeta["frame_model"].get("training"))
print("wrote", out)
