"""Driver for test/export/pytorch.test.ts: runs exported modules on the given weights and inputs.

Reads a JSON list of jobs on stdin, each {"module": PATH.py, "class": NAME, "weights": W.safetensors,
"input": X.npy, "out": PREFIX}; writes PREFIX{i}.npy for each output and PREFIX-saved.safetensors
(save_weights after loading), and prints one JSON line per job with the state_dict names and shapes.
"""
import importlib.util
import json
import sys

import numpy as np
import torch

torch.manual_seed(0)
results = []
for job in json.load(sys.stdin):
    spec = importlib.util.spec_from_file_location(job["class"] + "_exported", job["module"])
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    cls = getattr(mod, job["class"])

    model = cls().eval()
    sd = model.state_dict()
    names = list(sd.keys())
    shapes = [list(v.shape) for v in sd.values()]
    mod.load_weights(model, job["weights"])  # strict
    x = torch.from_numpy(np.load(job["input"]))
    with torch.no_grad():
        y = model(x)
    ys = y if isinstance(y, tuple) else (y,)
    for i, t in enumerate(ys):
        np.save(f"{job['out']}{i}.npy", t.numpy().astype(np.float32))
    mod.save_weights(model, job["out"] + "-saved.safetensors")

    # A plain dict (no _metadata) with PyTorch's num_batches_tracked counters loads strictly too.
    with_counter = {}
    for k, v in mod.load_safetensors(job["weights"]).items():
        with_counter[k] = v
        if k.endswith(".running_var"):
            with_counter[k[: -len("running_var")] + "num_batches_tracked"] = torch.tensor(7)
    other = cls().eval()
    other.load_state_dict(with_counter)
    with torch.no_grad():
        y2 = other(x)
    ys2 = y2 if isinstance(y2, tuple) else (y2,)
    same_with_counter = all(torch.equal(a, b) for a, b in zip(ys, ys2))

    # Training mode runs (batch norms update their statistics without a counter) and backpropagates.
    other.train()
    out = other(x)
    outs = [t for t in (out if isinstance(out, tuple) else (out,)) if t.requires_grad]
    if outs:
        sum(t.sum() for t in outs).backward()
    grads = sum(1 for p in other.parameters() if p.grad is not None)

    results.append({"names": names, "shapes": shapes, "outputs": len(ys), "sameWithCounter": same_with_counter,
                    "grads": grads, "params": sum(1 for _ in other.parameters()), "repr": str(model).splitlines()[0]})
print(json.dumps(results))
