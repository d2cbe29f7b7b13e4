"""PyTorch autograd as the oracle of the effective receptive field (test/engine/train/erf.test.ts).

Reads a JSON list of jobs on stdin, each {"module", "class", "weights", "input": X.npy ([N, C, H, W]),
"layer": a module's dotted path, "at": "output" (the module's output) or "input" (its first input:
how a merge, which is no module, is reached through the layer after it), "channel": null (every
channel) or an int, "centre": [row, col], "mode": "train"|"eval", "perSample": bool (eval: each
input its own pass), "out": PREFIX}. Sets a gradient of 1 at the centre unit of the chosen channels
(0 elsewhere), backpropagates it to the input in float64, and writes PREFIX.safetensors with "map":
|dL/dx| averaged over the inputs and the input's channels, H x W. Prints a JSON list of {"max"}.
"""
import importlib.util
import json
import sys

import numpy as np
import torch

results = []
for job in json.load(sys.stdin):
    spec = importlib.util.spec_from_file_location(job["class"] + "_exported", job["module"])
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    model = getattr(mod, job["class"])()
    mod.load_weights(model, job["weights"])
    model = model.to(torch.float64)
    model.train(job["mode"] == "train")

    seen = []
    target = model.get_submodule(job["layer"])
    if job["at"] == "output":
        target.register_forward_hook(lambda _m, _inp, out: seen.append(out))
    else:
        target.register_forward_pre_hook(lambda _m, inp: seen.append(inp[0]))

    x_all = torch.from_numpy(np.load(job["input"])).to(torch.float64)
    batches = [x_all[i : i + 1] for i in range(x_all.shape[0])] if job["perSample"] else [x_all]
    total = torch.zeros(x_all.shape[2:], dtype=torch.float64)
    for x in batches:
        x = x.clone().requires_grad_(True)
        seen.clear()
        model(x)
        y = seen[0]
        seed = torch.zeros_like(y)
        i, j = job["centre"]
        if job["channel"] is None:
            seed[:, :, i, j] = 1
        else:
            seed[:, job["channel"], i, j] = 1
        (g,) = torch.autograd.grad(y, x, seed)
        total += g.abs().sum(dim=(0, 1))
    erf = total / (x_all.shape[0] * x_all.shape[1])
    mod.save_safetensors({"map": erf}, job["out"] + ".safetensors")
    results.append({"max": erf.max().item()})
print(json.dumps(results))
