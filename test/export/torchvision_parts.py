"""Driver for test/export/state-dict-order.test.ts: torchvision's own ConvNeXt parts against our export.

Reads {"module": PATH.py, "class": NAME} on stdin: the export of a network whose `features` are
ConvNeXt's stem (conv, LayerNorm2d) and one CNBlock (its GELU replaced by ReLU on both sides, its
Linear layers as 1x1 convs, its `block` labelled `body`: `block` is a keyword of the language).
Builds the same in torchvision with random parameters, maps its state_dict to our names, and prints
one JSON line: torchvision's keys mapped, in order; our state_dict keys; the largest output difference.
"""
import importlib.util
import json
import sys

import torch
from torch import nn
from torchvision.models.convnext import CNBlock, LayerNorm2d

job = json.load(sys.stdin)
spec = importlib.util.spec_from_file_location("exported", job["module"])
mod = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mod)
ours = getattr(mod, job["class"])().eval()

torch.manual_seed(0)
block = CNBlock(8, layer_scale=1e-6, stochastic_depth_prob=0.0)
block.block[4] = nn.ReLU()
features = nn.Sequential(nn.Sequential(nn.Conv2d(3, 8, kernel_size=4, stride=4), LayerNorm2d(8, eps=1e-6)), block)
tv = nn.Module()
tv.features = features
tv.eval()
with torch.no_grad():
    for p in tv.parameters():
        p.copy_(torch.randn_like(p) * 0.5)

# torchvision's Sequential counts its Permute modules: block.2 is our body.1, block.3 body.2, block.5 body.4.
RENAME = {"block.0.": "body.0.", "block.2.": "body.1.", "block.3.": "body.2.", "block.5.": "body.4."}
mapped = {}
for k, v in tv.state_dict().items():
    for a, b in RENAME.items():
        k = k.replace(a, b)
    if v.dim() == 2:  # nn.Linear on NHWC is a 1x1 convolution on NCHW
        v = v[:, :, None, None]
    mapped[k] = v
ours.load_state_dict(mapped)  # strict

x = torch.randn(2, 3, 16, 16)
with torch.no_grad():
    diff = (ours(x) - tv.features(x)).abs().max().item()
print(json.dumps({"torchvision": list(mapped.keys()), "ours": list(ours.state_dict().keys()), "maxDiff": diff}))
