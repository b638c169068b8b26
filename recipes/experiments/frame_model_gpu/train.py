"""Frame-model training on a GPU from packed, labelled features (``pack.py``).
Same objective as otalign_cli.train_frames.train_frame_model (4 s crops, utterances drawn uniformly,
NLL, AdamW + one-cycle), several widths/lengths; each model saved in fp16 as soon as it is done."""
import glob, json, lzma, os, pickle, sys, time
import torch, torch.nn.functional as F
sys.path.insert(0, ".")
from otalign_cli.alignment.frames import FrameConfig, FrameModel

OUT = os.environ.get("OUT", "."); CROP = 400  # $OUT: where the models and log.jsonl go
t0 = time.time()
utts = []
files = sorted(glob.glob(".gpu/p*/*.xz")) or sorted(glob.glob("/tmp/packs/*.xz"))
print("packs", files, flush=True)
for f in files:
    utts += pickle.loads(lzma.decompress(open(f, "rb").read()))
utts = [u for u in utts if len(u[1]) >= 50]
g = torch.Generator().manual_seed(0)
perm = torch.randperm(len(utts), generator=g).tolist()
nval = len(utts) // 30
val = [utts[i] for i in perm[:nval]]; train = [utts[i] for i in perm[nval:]]
print(len(train), "train", len(val), "val utts, loaded in", round(time.time() - t0), "s", flush=True)
dev = "cuda" if torch.cuda.is_available() else "cpu"

def stack(us):
    lens = torch.tensor([len(u[1]) for u in us])
    starts = torch.cumsum(lens, 0) - lens
    X = torch.cat([torch.from_numpy(u[0]) for u in us] + [torch.zeros(CROP, 80, dtype=torch.int8)]).to(dev).float() / 8
    Y = torch.cat([torch.from_numpy(u[1]) for u in us] + [torch.full((CROP,), -1, dtype=torch.int16)]).to(dev).long()
    gold = torch.tensor([u[2] for u in us])
    return X, Y, lens.to(dev), starts.to(dev), gold

Xt, Yt, Lt, St, Gt = stack(train)
Xv, Yv, Lv, Sv, Gv = stack(val)
print("frames", Xt.shape[0], "hours", round(Xt.shape[0] / 360000, 2), flush=True)
ar = torch.arange(CROP, device=dev)

def crops(X, Y, L, S, u, a):
    idx = (S[u] + a)[:, None] + ar[None]
    ok = ar[None] < (L[u] - a)[:, None]
    return X[idx] * ok[..., None], torch.where(ok, Y[idx], -1)

gold_idx = torch.nonzero(Gt).flatten().to(dev)
real_idx = torch.nonzero(~Gt).flatten().to(dev)

def draw(batch, gold_frac):
    if gold_frac is None:
        return torch.randint(0, len(Lt), (batch,), device=dev)
    g = torch.rand(batch, device=dev) < gold_frac
    return torch.where(g, gold_idx[torch.randint(0, len(gold_idx), (batch,), device=dev)],
                       real_idx[torch.randint(0, len(real_idx), (batch,), device=dev)])

def specaug(x):
    B = x.shape[0]
    f0 = (torch.rand(B, 2, device=dev) * 70).long(); fw = (torch.rand(B, 2, device=dev) * 10).long()
    t0 = (torch.rand(B, 2, device=dev) * 385).long(); tw = (torch.rand(B, 2, device=dev) * 15).long()
    fb = torch.arange(80, device=dev)[None, None]; tb = torch.arange(CROP, device=dev)[None, None]
    fm = ((fb >= f0[..., None]) & (fb < (f0 + fw)[..., None])).any(1)  # B, 80
    tm = ((tb >= t0[..., None]) & (tb < (t0 + tw)[..., None])).any(1)  # B, T
    return x * (~fm)[:, None, :] * (~tm)[:, :, None]

def run(name, hidden, dilations, steps, batch, lr=2e-3, _unused=None, ls=0.0, drop=0.1, spec=False, gold_frac=None, wd=1e-4):
    torch.manual_seed(0)
    cfg = FrameConfig(hidden=hidden, dilations=tuple(dilations))
    m = FrameModel(cfg).to(dev)
    m.drop.p = drop
    y = Yt[Yt >= 0]
    counts = torch.bincount(y, minlength=cfg.classes).float()
    m.log_prior.copy_(((counts + 1) / (counts.sum() + cfg.classes)).log())
    opt = torch.optim.AdamW(m.parameters(), lr=lr, weight_decay=wd)
    sch = torch.optim.lr_scheduler.OneCycleLR(opt, lr, total_steps=steps, pct_start=0.05)
    log, t = [], time.time()
    m.train()
    for s in range(steps):
        u = draw(batch, gold_frac)
        a = (torch.rand(batch, device=dev) * ((Lt[u] - CROP).clamp(min=0) + 1)).long()
        x, yy = crops(Xt, Yt, Lt, St, u, a)
        if spec:
            x = specaug(x)
        with torch.autocast(dev, torch.bfloat16, enabled=dev == "cuda"):
            lp = m(x)
        loss = F.cross_entropy(lp.float().reshape(-1, cfg.classes), yy.reshape(-1), ignore_index=-1, label_smoothing=ls)
        opt.zero_grad(set_to_none=True); loss.backward(); opt.step(); sch.step()
        if (s + 1) % 500 == 0 or s + 1 == steps:
            log.append((s + 1, round(float(loss.detach()), 4), round(time.time() - t, 1)))
    m.eval()
    res = {}
    with torch.no_grad():
        for which, sel in (("real", ~Gv), ("gold", Gv)):
            xs, ys = [], []
            for i in torch.nonzero(sel).flatten().tolist():
                L = int(Lv[i]); S = int(Sv[i])
                for a in range(0, L, CROP):
                    b = min(a + CROP, L); lo, hi = max(0, a - 32), min(L, b + 32)
                    x = torch.zeros(CROP + 64, 80, device=dev); y = torch.full((CROP + 64,), -1, device=dev, dtype=torch.long)
                    x[:hi - lo] = Xv[S + lo:S + hi]; y[a - lo:b - lo] = Yv[S + a:S + b]
                    xs.append(x); ys.append(y)
            tot = n = ok = 0
            for k in range(0, len(xs), 128):
                X = torch.stack(xs[k:k + 128]); Y = torch.stack(ys[k:k + 128])
                lp = m(X); msk = Y >= 0
                tot += float(F.nll_loss(lp[msk], Y[msk], reduction="sum")); n += int(msk.sum())
                ok += int((lp[msk].argmax(-1) == Y[msk]).sum())
            res[which] = {"nll": round(tot / max(n, 1), 4), "acc": round(ok / max(n, 1), 4)}
    summ = {"name": name, "ls": ls, "drop": drop, "spec": spec, "gold_frac": gold_frac, "wd": wd, "hidden": hidden, "dilations": list(dilations), "steps_done": s + 1, "steps": steps,
            "batch": batch, "lr": lr, "seconds": round(time.time() - t, 1), "log": log, "val": res,
            "train_hours": round(Xt.shape[0] / 360000, 3), "utterances": len(train),
            "gold_utterances": int(Gt.sum())}
    print(json.dumps(summ), flush=True)
    state = {k: v.half() if v.is_floating_point() and k != "log_prior" else v for k, v in m.state_dict().items()}
    torch.save({"cfg": cfg.to_dict(), "state": {k: v.cpu() for k, v in state.items()}, "summary": summ},
               f"{OUT}/{name}.pt")
    with open(f"{OUT}/log.jsonl", "a") as f:
        f.write(json.dumps(summ) + "\n")

H4, H8 = (1, 2, 4, 8), (1, 2, 4, 8, 1, 2, 4, 8)
# name, hidden, dilations, steps, batch, lr, (unused), label smoothing, dropout, masks, gold share, weight decay
plan = [("A0", 256, H4, 1500, 32, 2e-3, 99),
        ("B_h256", 256, H4, 15854, 64, 2e-3, 99),
        ("C_h512x8", 512, H8, 11530, 64, 1e-3, 99),
        ("D_h512", 512, H4, 13380, 64, 1.5e-3, 99),
        ("A750", 256, H4, 750, 32, 2e-3, 99),
        ("A3k", 256, H4, 3000, 32, 2e-3, 99),
        ("Als", 256, H4, 1500, 32, 2e-3, 99, 0.1),
        ("Agold50", 256, H4, 1500, 32, 2e-3, 99, 0.0, 0.1, False, 0.5),
        ("Aspec3k", 256, H4, 3000, 32, 2e-3, 99, 0.0, 0.2, True),
        ("Aspecgold3k", 256, H4, 3000, 32, 2e-3, 99, 0.1, 0.2, True, 0.5),
        ("Creg3k", 512, H8, 3000, 64, 1e-3, 99, 0.1, 0.3, True, None, 0.05)]
torch.backends.cudnn.benchmark = True
only = sys.argv[1:]
if os.environ.get("SMOKE"):
    plan = [(p[0], p[1], p[2], 12, 4, *p[5:]) for p in plan]
for p in plan:
    if not only or p[0] in only:
        run(*p)
print("all done", round(time.time() - t0), flush=True)
