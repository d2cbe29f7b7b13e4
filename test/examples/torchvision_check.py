"""Driver for test/examples/torchvision.test.ts: each example against torchvision's own network.

Reads a JSON list of jobs on stdin, each {"model": torchvision name, "kwargs": {...}, "size": N
(totals at 3xNxN), "module": our export (.py), "class": its class, "input": X.npy (a small batch),
"out": PREFIX, "weights": bool}. For each job it prints, in one JSON list on stdout:
- torchvision's totals at `size`: parameters, and MACs counted by hooks on every Conv2d and Linear
  (a Linear at every position it is applied to, as ConvNeXt's on channels-last maps);
- torchvision's state_dict names and shapes, without the num_batches_tracked counters;
- whether our exported module loads torchvision's state_dict as it is (counters included) with
  strict=True, and the load's error if not;
- the largest difference between the two modules' outputs on the input, relative to the largest
  output, with random parameters and batch-norm statistics that make ReLU6, hardswish and
  hardsigmoid clip; torchvision's output goes to PREFIX-y.npy, and with "weights" the same
  parameters under our names to PREFIX.safetensors (save_weights of our module).
"""
import importlib.util
import json
import sys

import numpy as np
import torch
import torchvision
from torch import nn

torch.set_num_threads(1)
NORMS = (nn.BatchNorm2d, nn.BatchNorm1d)


def macs(model, size):
    total = [0]

    def hook(m, i, o):
        per_output = o.numel() // o.shape[0]
        if isinstance(m, nn.Conv2d):
            total[0] += per_output * (m.in_channels // m.groups) * m.kernel_size[0] * m.kernel_size[1]
        else:
            total[0] += per_output * m.in_features

    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    with torch.no_grad():
        model(torch.zeros(1, 3, size, size))
    for h in handles:
        h.remove()
    return total[0]


def randomise(model, x, gen):
    """Uniform weights scaled by fan-in; norms whose output is about gamma*N(0,1) + beta with beta
    in [-4, 7], past ReLU6's 6 and the +-3 where hardswish and hardsigmoid bend, and |gamma| in
    [0.5, 1.25]: small enough that a difference in rounding shrinks from layer to layer (with
    |gamma| of 2 or more, the deep networks are chaotic: float32's last bit grows to the whole
    output, in PyTorch's own two engines as well); then batch-norm statistics of this very input,
    so that every norm does standardise what reaches it and nothing overflows."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            u = torch.rand(p.shape, generator=gen) * 2 - 1
            if p.dim() > 1:
                p.copy_(u * (3.0 / p[0].numel()) ** 0.5)
            else:
                p.copy_(u)
        for m in model.modules():
            if isinstance(m, NORMS):
                m.weight.copy_((0.5 + 0.75 * torch.rand(m.weight.shape, generator=gen)) * torch.sign(torch.rand(m.weight.shape, generator=gen) - 0.2))
                m.bias.copy_(torch.rand(m.bias.shape, generator=gen) * 11 - 4)
        for m in model.modules():
            # SE gates: their second 1x1 conv feeds the gate; widen it so that hardsigmoid saturates.
            if type(m).__name__ == "SqueezeExcitation":
                m.fc2.weight.mul_(4)
                m.fc2.bias.mul_(4)

        # In one pass in eval mode, each norm first takes the statistics of what reaches it (with
        # every parameter final, and after the norms before it did the same): it standardises
        # them, but for a variance floor of 0.3: at a small input and a batch of 2, many channels
        # are almost constant, and standardising those would amplify any difference (rounding
        # included) many times per layer. With the floor, a difference of 1e-4 at the input moves
        # the output by about 3e-5 of its largest value, and float64 and float32 agree to 1e-5.
        def calibrate(m, inputs):
            v = inputs[0].transpose(0, 1).reshape(inputs[0].shape[1], -1)
            m.running_mean.copy_(v.mean(1))
            m.running_var.copy_(v.var(1, unbiased=False).clamp(min=0.3))

        model.eval()
        hooks = [m.register_forward_pre_hook(calibrate) for m in model.modules() if isinstance(m, NORMS)]
        model(x)
        for h in hooks:
            h.remove()

results = []
for job in json.load(sys.stdin):
    tv = getattr(torchvision.models, job["model"])(**job.get("kwargs", {})).eval()
    entry = {"params": sum(p.numel() for p in tv.parameters()), "macs": macs(tv, job["size"])}
    sd = tv.state_dict()
    entry["names"] = [k for k in sd if not k.endswith("num_batches_tracked")]
    entry["shapes"] = [list(sd[k].shape) for k in entry["names"]]

    spec = importlib.util.spec_from_file_location(job["class"] + "_exported", job["module"])
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    ours = getattr(mod, job["class"])().eval()

    x = torch.from_numpy(np.load(job["input"]))
    randomise(tv, x, torch.Generator().manual_seed(1234))
    sd = tv.state_dict()
    try:
        ours.load_state_dict(sd, strict=True)  # torchvision's own dict: names, shapes, counters and all
        entry["strict"] = None
    except RuntimeError as e:
        entry["strict"] = str(e).splitlines()[0][:400]
        # The other checks go on with the tensors taken in order, so that one failure shows alone.
        theirs = [v for k, v in sd.items() if not k.endswith("num_batches_tracked")]
        mine = ours.state_dict()
        if len(theirs) == len(mine):
            ours.load_state_dict({k: v.reshape(mine[k].shape) for k, v in zip(mine, theirs)})
    with torch.no_grad():
        y = tv(x)
        mine = ours(x)
    mine = mine[0] if isinstance(mine, tuple) else mine
    scale = y.abs().max().item()
    entry["maxOutput"] = scale
    entry["relDiff"] = (mine - y).abs().max().item() / scale if mine.shape == y.shape else None
    np.save(job["out"] + "-y.npy", y.numpy().astype(np.float32))
    if job.get("weights"):
        mod.save_weights(ours, job["out"] + ".safetensors")
    results.append(entry)
print(json.dumps(results))
