"""PyTorch autograd as the oracle of the training pass (test/engine/train/*.test.ts).

Reads a JSON list of jobs on stdin, each {"module", "class", "weights", "input", "target", "loss":
"cross-entropy"|"mse", "labelSmoothing", "auxWeight", "mode": "train"|"eval", "masks": [X.npy, ...]
(one per dropout module in the order they run: the mask multiplies its input), "double": bool,
"out": PREFIX}; writes PREFIX-grads.safetensors (every parameter's gradient by state_dict name,
and the input's as "__input__") and PREFIX-state.safetensors (the state_dict after the pass: batch
norms' running statistics updated in train mode), and prints one JSON list of {"loss"}.
"""
import importlib.util
import json
import sys

import numpy as np
import torch
import torch.nn.functional as F

results = []
for job in json.load(sys.stdin):
    spec = importlib.util.spec_from_file_location(job["class"] + "_exported", job["module"])
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    model = getattr(mod, job["class"])()
    mod.load_weights(model, job["weights"])
    dtype = torch.float64 if job.get("double") else torch.float32
    model = model.to(dtype)
    model.train(job["mode"] == "train")

    masks = [torch.from_numpy(np.load(m)).to(dtype) for m in job.get("masks", [])]
    dropouts = [m for m in model.modules() if isinstance(m, torch.nn.Dropout)]
    order = iter(masks)
    if masks:
        for d in dropouts:
            d.register_forward_hook(lambda _m, inp, _out: inp[0] * next(order))

    x = torch.from_numpy(np.load(job["input"])).to(dtype).requires_grad_(True)
    target = torch.from_numpy(np.load(job["target"]))
    out = model(x)
    outs = out if isinstance(out, tuple) else (out,)
    probs = job.get("probabilities", [False] * len(outs))

    def loss_of(y, is_prob):
        if job["loss"] == "mse":
            return F.mse_loss(y, target.to(dtype))
        # A softmax output's cross-entropy is taken on its log (log_softmax of log p is log p).
        logits = torch.log(y) if is_prob else y
        return F.cross_entropy(logits, target.long(), label_smoothing=job.get("labelSmoothing", 0.0))

    main = loss_of(outs[0], probs[0])
    aux = [loss_of(y, p) for y, p in zip(outs[1:], probs[1:])]
    loss = main + job.get("auxWeight", 0.3) * sum(aux) if aux else main
    loss.backward()

    grads = {"__input__": x.grad}
    for name, p in model.named_parameters():
        grads[name] = p.grad if p.grad is not None else torch.zeros_like(p)
    mod.save_safetensors(grads, job["out"] + "-grads.safetensors")
    mod.save_safetensors(model.state_dict(), job["out"] + "-state.safetensors")
    results.append({"loss": loss.item(), "main": main.item(), "aux": [a.item() for a in aux]})
print(json.dumps(results))
