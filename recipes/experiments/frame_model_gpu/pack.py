"""Label corpora as `otalign train-frames` does, with the model's readout but its frame model off
(the stage-5 labels), and pack log-mel features (quantized to 1/8, int8) and frame labels into
three lzma chunks of about 33 MiB each, small enough to travel to a GPU machine one at a time.

    python pack.py OUT_DIR MODEL CORPUS...   (the stage-6 corpora: recipes/bundled_models.sh)
"""
import lzma
import pickle
import sys
import time
from pathlib import Path
import numpy as np, torch
torch.set_num_threads(2)
from otalign_cli.alignment.frames import FrameConfig
from otalign_cli.checkpoint import load_checkpoint
from otalign_cli.text.languages import get_language
from otalign_cli.train_frames import label_corpus, train_entries

out = Path(sys.argv[1]); out.mkdir(parents=True, exist_ok=True)
ottc, meta = load_checkpoint(Path(sys.argv[2]), expect_kind="ottc")
ottc.set_frame_model(None)
cfg = FrameConfig(phones=tuple(get_language(ottc.cfg.language).PHONES))
corpora = [Path(c) for c in sys.argv[3:]]
entries = [a for root in corpora for a in train_entries(root, None, 0)]
print(len(entries), "entries", flush=True)
t0 = time.time(); k = [0]
def tick():
    k[0] += 1
    if k[0] % 250 == 0:
        print(k[0], round(time.time() - t0), flush=True)
items = label_corpus(ottc, entries, cfg, on_item=tick)
print(len(items), "labelled", round(time.time() - t0), flush=True)
utts = []
for it in items:
    q = np.clip(np.round(it.feats.float().numpy() * 8), -127, 127).astype(np.int8)
    utts.append((q, it.labels.numpy().astype(np.int16), bool(it.gold)))
# round-robin into 3 chunks so each holds a mix
for c in range(3):
    part = utts[c::3]
    blob = lzma.compress(pickle.dumps(part, protocol=5), preset=6)
    (out / f"pack{c}.xz").write_bytes(blob)
    print("chunk", c, len(part), len(blob) / 2**20, "MiB", flush=True)
