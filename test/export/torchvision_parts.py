"""Driver for test/export/state-dict-order.test.ts: torchvision's own ConvNeXt parts against our export.

Reads {"module": PATH.py, "class": NAME} on stdin: the export of a network whose `features` are
ConvNeXt's stem (conv, LayerNorm2d) and one CNBlock (its GELU replaced by ReLU on both sides, its
Linear layers as 1x1 convs, its `block` labelled `body`: `block` is a keyword of the language).
Builds the same in torchvision with random parameters, maps its state_dict to our names, and prints
one JSON line: torchvision's keys mapped, in order; our state_dict keys; the largest output difference.
With "model": "shufflenet_v2_x1_0", the export of that example against torchvision's whole network.
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
if job.get("model") == "shufflenet_v2_x1_0":
    # examples/shufflenet_v2_x1_0.cnn: torchvision's tensors mapped to ours by position (the names
    # differ inside the stride-1 units), random parameters and batch-norm statistics.
    import torchvision

    tv = torchvision.models.shufflenet_v2_x1_0().eval()
    with torch.no_grad():
        for p in tv.parameters():
            p.copy_(torch.randn_like(p) * 0.1)
        for m in tv.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.uniform_(-0.1, 0.1)
                m.running_var.uniform_(0.5, 1.5)
    theirs = [(k, v) for k, v in tv.state_dict().items() if not k.endswith("num_batches_tracked")]
    names = list(ours.state_dict().keys())
    shapes_equal = len(theirs) == len(names) and all(list(v.shape) == list(ours.state_dict()[n].shape) for (_, v), n in zip(theirs, names))
    ours.load_state_dict({n: v for (_, v), n in zip(theirs, names)})
    x = torch.randn(2, 3, 224, 224)
    with torch.no_grad():
        diff = (ours(x) - tv(x)).abs().max().item()
    same = sum(k == n for (k, _), n in zip(theirs, names))
    print(json.dumps({"shapesEqual": shapes_equal, "sameNames": same, "tensors": len(names), "maxDiff": diff}))
    sys.exit(0)

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
