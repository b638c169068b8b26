"""Put a frame model that train.py wrote into a copy of an OTTC checkpoint.

    python install.py MODEL_FROM_TRAIN.pt OUT.pt [BASE.pt (default models/en-ottc.pt)]
"""
import sys
from pathlib import Path
import torch
from otalign_cli.alignment.frames import FrameConfig, FrameModel
from otalign_cli.checkpoint import load_checkpoint, save_checkpoint
src, dst = Path(sys.argv[1]), Path(sys.argv[2])
base = Path(sys.argv[3]) if len(sys.argv) > 3 else Path("models/en-ottc.pt")
blob = torch.load(src, map_location="cpu", weights_only=False)
fm = FrameModel(FrameConfig.from_dict(blob["cfg"]))
fm.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in blob["state"].items()})
fm.eval()
ottc, meta = load_checkpoint(base, expect_kind="ottc")
ottc.set_frame_model(fm)
s = dict(blob["summary"]); s.pop("log", None)
save_checkpoint(dst, ottc, meta["name"], meta["training"],
                boundary_training=meta.get("boundary_model", {}).get("training"), frame_training=s)
print("wrote", dst)
