#!/usr/bin/python3
"""Cross-checks our engine against torchvision: ResNet-18 and GoogLeNet with random weights and
random batch-norm statistics in eval mode, the same weights and input through `cnn run` on both
backends, and the largest differences printed.

Dev-time only. Needs Debian's python3-torchvision and a build (npm run build). Run with the
system Python: /usr/bin/python3 scripts/crosscheck-torchvision.py [--size 224] [--backends cpu,webgpu]
"""
import argparse
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch
import torchvision

import cnn_safetensors

ROOT = pathlib.Path(__file__).resolve().parent.parent
CLI = ["node", str(ROOT / "bin" / "cnn.js")]

# Our example files label their layers with torchvision's module names, so the state_dict keys
# are our parameter names; a name that differed would be mapped here, ours -> torchvision's.
NAME_MAP = {"resnet18": {}, "googlenet": {}}


def models():
    yield "resnet18", ROOT / "examples" / "resnet18.cnn", torchvision.models.resnet18(weights=None)
    # Without the input transform and the auxiliary classifiers, as examples/googlenet.cnn is written.
    yield "googlenet", ROOT / "examples" / "googlenet.cnn", torchvision.models.googlenet(weights=None, aux_logits=False, transform_input=False, init_weights=True)


def randomise_batch_norms(model, gen):
    """Non-trivial statistics so that folding them is exercised (fresh ones are the identity)."""
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            n = m.num_features
            m.weight.data = 0.5 + torch.rand(n, generator=gen)
            m.bias.data = 0.1 * torch.randn(n, generator=gen)
            m.running_mean.data = 0.1 * torch.randn(n, generator=gen)
            m.running_var.data = 0.5 + torch.rand(n, generator=gen)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", type=int, default=224)
    ap.add_argument("--backends", default="cpu,webgpu")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    if not (ROOT / "dist" / "cli.cjs").exists():
        sys.exit("build first: npm run build")
    env = dict(os.environ)
    env.setdefault("VK_ICD_FILENAMES", "/usr/lib/chromium/vk_swiftshader_icd.json")
    gen = torch.Generator().manual_seed(args.seed)
    worst = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        for name, cnn, model in models():
            randomise_batch_norms(model, gen)
            model.eval()
            mapping = NAME_MAP[name]
            ours = json.loads(subprocess.run(CLI + ["params", str(cnn), "--json"], check=True, capture_output=True, text=True).stdout)["params"]
            state = {k: v for k, v in model.state_dict().items() if not k.endswith("num_batches_tracked")}
            tensors = []
            for p in ours:
                key = mapping.get(p["name"], p["name"])
                assert key in state, f"{name}: no torchvision tensor for {p['name']}"
                assert list(state[key].shape) == p["shape"], f"{name}: {p['name']} {list(state[key].shape)} vs {p['shape']}"
                tensors.append((p["name"], state.pop(key).numpy()))
            assert not state, f"{name}: torchvision tensors we do not have: {list(state)[:5]}"
            weights = tmp / f"{name}.safetensors"
            cnn_safetensors.save(weights, tensors)

            x = torch.randn(1, 3, args.size, args.size, generator=gen)
            np.save(tmp / f"{name}-x.npy", x.numpy())
            with torch.no_grad():
                ref = model(x).numpy()
            for backend in args.backends.split(","):
                out = tmp / f"{name}-{backend}.npy"
                cmd = CLI + ["run", str(cnn), "--shape", f"3x{args.size}x{args.size}", "--weights", str(weights), "--input", str(tmp / f"{name}-x.npy"), "--backend", backend, "--json", "--out", str(out), "--top", "0"]
                t0 = time.time()
                r = subprocess.run(cmd, capture_output=True, text=True, env=env)
                if r.returncode != 0:
                    print(f"{name} {backend}: cnn run failed: {r.stderr.strip().splitlines()[-1:]}")
                    worst = float("inf")
                    continue
                info = json.loads(r.stdout)
                got = np.load(out)
                diff = np.abs(got - ref)
                rel = diff.max() / np.abs(ref).max()
                worst = max(worst, rel)
                same_top = int(got.argmax()) == int(ref.argmax())
                print(f"{name} at {args.size}, {backend} ({info['adapter']}): max abs diff {diff.max():.3g}, max diff / max |ref| {rel:.3g}, "
                      f"top-1 {'same' if same_top else 'DIFFERENT'}; forward {info['ms']:.0f} ms, whole command {time.time() - t0:.1f} s", flush=True)
    print(f"worst relative difference {worst:.3g} ({'OK' if worst <= 1e-3 else 'above 1e-3'})")
    sys.exit(0 if worst <= 1e-3 else 1)


if __name__ == "__main__":
    main()
