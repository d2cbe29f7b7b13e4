"""torch.optim as the oracle of src/engine/train/optim.ts.

Reads one JSON job on stdin: {"params": X.npy (n,), "grads": G.npy (steps, n), "optimizer": {kind,
lr, momentum, dampening, nesterov, weightDecay, betas, eps}, "schedule": {kind, total, min, every,
gamma}, "out": P.npy}; runs `steps` steps (the scheduler stepped after each) and writes the
parameter after every step, (steps, n).
"""
import json
import sys

import numpy as np
import torch

job = json.load(sys.stdin)
p = torch.nn.Parameter(torch.from_numpy(np.load(job["params"])))
grads = torch.from_numpy(np.load(job["grads"]))
o = job["optimizer"]
kind = o["kind"]
if kind == "sgd":
    opt = torch.optim.SGD([p], lr=o["lr"], momentum=o.get("momentum", 0), dampening=o.get("dampening", 0),
                          nesterov=o.get("nesterov", False), weight_decay=o.get("weightDecay", 0))
else:
    cls = torch.optim.Adam if kind == "adam" else torch.optim.AdamW
    kw = {"lr": o["lr"], "betas": tuple(o.get("betas", (0.9, 0.999))), "eps": o.get("eps", 1e-8)}
    if "weightDecay" in o:
        kw["weight_decay"] = o["weightDecay"]
    opt = cls([p], foreach=False, **kw)
s = job.get("schedule", {"kind": "constant"})
if s["kind"] == "cosine":
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=s["total"], eta_min=s.get("min", 0))
elif s["kind"] == "step":
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=s["every"], gamma=s["gamma"])
else:
    sched = None
out = []
lrs = []
for g in grads:
    p.grad = g.clone()
    lrs.append(opt.param_groups[0]["lr"])
    opt.step()
    if sched is not None:
        sched.step()
    out.append(p.detach().clone())
np.save(job["out"], torch.stack(out).numpy().astype(np.float32))
print(json.dumps({"lrs": lrs}))
