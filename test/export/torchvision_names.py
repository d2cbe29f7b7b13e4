"""Driver for test/export/naming.test.ts: a torchvision submodule against the export of a network
that spells its names.

Reads {"module": PATH.py, "class": NAME, "model": "efficientnet_b0", "part": "features.1"} on stdin:
builds torchvision's model, takes the submodule at `part` with random parameters and batch-norm
statistics, prefixes its state_dict keys with `part.`, loads them into our module with strict=True,
and prints one JSON line: torchvision's keys (prefixed, without num_batches_tracked) and shapes, and
the largest difference between the two outputs on a random input of our module's input shape.
"""
import importlib.util
import json
import sys

import torch
import torchvision
from torch import nn

job = json.load(sys.stdin)
spec = importlib.util.spec_from_file_location("exported", job["module"])
mod = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mod)
ours = getattr(mod, job["class"])().eval()

torch.manual_seed(0)
part = getattr(torchvision.models, job["model"])()
for seg in job["part"].split("."):
    part = part[int(seg)] if seg.isdigit() else getattr(part, seg)
part.eval()
with torch.no_grad():
    for p in part.parameters():
        p.copy_(torch.randn_like(p) * 0.3)
    for m in part.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-0.2, 0.2)
            m.running_var.uniform_(0.5, 1.5)
theirs = {f"{job['part']}.{k}": v for k, v in part.state_dict().items() if not k.endswith("num_batches_tracked")}
ours.load_state_dict(theirs, strict=True)
x = torch.randn(2, *mod.INPUT_SHAPE)
with torch.no_grad():
    diff = (ours(x) - part(x)).abs().max().item()
print(json.dumps({"keys": list(theirs), "shapes": [list(v.shape) for v in theirs.values()], "maxDiff": diff}))
