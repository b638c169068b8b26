"""Frame model from the packed stage-6 labels (pack.py), plain (118 classes, CONTEXTS 0) or with
begin/end states that depend on the neighbouring phone's broad class (CONTEXTS 6: 508 classes), on
the CPU (about 10 minutes on 2 cores), in a copy of the code with context_states.patch applied:

    python train_context.py NAME CONTEXTS OUT_DIR packs/pack0.xz packs/pack1.xz packs/pack2.xz
"""
import json, lzma, pickle, sys, time
import numpy as np, torch, torch.nn.functional as F
from otalign_cli.alignment.frames import FrameConfig, FrameModel, broad, cd_class
torch.set_num_threads(2)
name, K, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
CROP, STEPS, BATCH, LR = 400, 1500, 32, 2e-3
cfg = FrameConfig(contexts=K)
P = len(cfg.phones); PAUSE_OLD = P * 3
t0 = time.time()
utts = []
for f in sys.argv[4:]:
    utts += pickle.loads(lzma.decompress(open(f, "rb").read()))
utts = [u for u in utts if len(u[1]) >= 50]
print(len(utts), "utts loaded", round(time.time() - t0), flush=True)

def convert(lab):
    lab = lab.astype(np.int64)
    if not K:
        return lab
    new = np.where(lab == PAUSE_OLD, cfg.classes - 1, -1)
    n = len(lab); t = 0
    isph = (lab >= 0) & (lab < PAUSE_OLD)
    segs = []
    while t < n:
        if not isph[t]:
            t += 1; continue
        a = t; c = lab[t] // 3
        t += 1
        while t < n and isph[t] and lab[t] // 3 == c and lab[t] % 3 >= lab[t - 1] % 3:
            t += 1
        segs.append((a, t, c))
    for i, (a, b, c) in enumerate(segs):
        left = broad(cfg.phones[segs[i - 1][2]]) if i > 0 and segs[i - 1][1] == a else 0
        right = broad(cfg.phones[segs[i + 1][2]]) if i + 1 < len(segs) and segs[i + 1][0] == b else 0
        for k in range(a, b):
            new[k] = cd_class(cfg, c, int(lab[k] % 3), left, right)
    return new

g = torch.Generator().manual_seed(0)
perm = torch.randperm(len(utts), generator=g).tolist()
nval = len(utts) // 30
train = [utts[i] for i in perm[nval:]]
lens = torch.tensor([len(u[1]) for u in train]); starts = torch.cumsum(lens, 0) - lens
X = torch.cat([torch.from_numpy(u[0]) for u in train] + [torch.zeros(CROP, 80, dtype=torch.int8)])
Y = torch.cat([torch.from_numpy(convert(u[1])) for u in train] + [torch.full((CROP,), -1, dtype=torch.long)])
print("frames", X.shape[0], "converted", round(time.time() - t0), flush=True)
ar = torch.arange(CROP)
torch.manual_seed(0)
m = FrameModel(cfg)
y = Y[Y >= 0]
counts = torch.bincount(y, minlength=cfg.classes).float()
m.log_prior.copy_(((counts + 1) / (counts.sum() + cfg.classes)).log())
print("classes", cfg.classes, "unseen", int((counts == 0).sum()), flush=True)
opt = torch.optim.AdamW(m.parameters(), lr=LR, weight_decay=1e-4)
sch = torch.optim.lr_scheduler.OneCycleLR(opt, LR, total_steps=STEPS, pct_start=0.05)
m.train(); t = time.time()
for s in range(STEPS):
    u = torch.randint(0, len(lens), (BATCH,))
    a = (torch.rand(BATCH) * ((lens[u] - CROP).clamp(min=0) + 1)).long()
    idx = (starts[u] + a)[:, None] + ar[None]
    ok = ar[None] < (lens[u] - a)[:, None]
    x = X[idx].float() / 8 * ok[..., None]; yy = torch.where(ok, Y[idx], -1)
    lp = m(x)
    loss = F.nll_loss(lp.reshape(-1, cfg.classes), yy.reshape(-1), ignore_index=-1)
    opt.zero_grad(set_to_none=True); loss.backward(); opt.step(); sch.step()
    if (s + 1) % 100 == 0:
        print(json.dumps({"step": s + 1, "loss": round(float(loss), 4), "seconds": round(time.time() - t, 1)}), flush=True)
m.eval()
summ = {"name": name, "contexts": K, "steps": STEPS, "batch": BATCH, "lr": LR, "utterances": len(train)}
torch.save({"cfg": cfg.to_dict(), "state": m.state_dict(), "summary": summ}, f"{out}/{name}.pt")
print("wrote", name, round(time.time() - t0), flush=True)
