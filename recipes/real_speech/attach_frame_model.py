"""Put the frame model of one OTTC checkpoint into a copy of another (stage 7 of
``recipes/bundled_models.sh``): the frame model reads log-mel features, not the encoder, so a
retrained encoder keeps the frame model it had.

    python recipes/real_speech/attach_frame_model.py ENCODER.pt FRAME_SOURCE.pt OUT.pt
"""

from __future__ import annotations

import sys
from pathlib import Path

from otalign_cli.checkpoint import load_checkpoint, save_checkpoint

if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__.strip().splitlines()[-1].strip())
    encoder, source, out = map(Path, sys.argv[1:4])
    model, meta = load_checkpoint(encoder, expect_kind="ottc")
    donor, donor_meta = load_checkpoint(source, expect_kind="ottc")
    if donor.frame_model is None:
        sys.exit(f"error: {source}: carries no frame model")
    model.set_frame_model(donor.frame_model)
    save_checkpoint(out, model, meta["name"], meta["training"],
                    boundary_training=meta.get("boundary_model", {}).get("training"),
                    frame_training=donor_meta["frame_model"].get("training"))
    print("wrote", out)
