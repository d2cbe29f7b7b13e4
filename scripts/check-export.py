#!/usr/bin/python3
"""Checks `cnn export` end to end: exports FILE to PyTorch, imports the module, compares its
state_dict names with `cnn params`, gives it random weights (random batch-norm statistics too),
saves them with the module's save_weights, runs `cnn run --backend cpu` on those weights and a
random input, runs the module on the same input, and prints the largest differences. The same
weights exported to ONNX (--weights) run in onnxruntime-node (the dev dependency) and are
compared too. Where torchvision is installed and the network is ResNet18 or GoogLeNet,
torchvision's model with the same weights is compared as well.

Dev-time only. Needs a python3 with torch and numpy (Debian's python3-torch) and a build
(npm run build). Run with the system Python:

    /usr/bin/python3 scripts/check-export.py examples/resnet18.cnn --shape 3x64x64
    /usr/bin/python3 scripts/check-export.py examples/googlenet.cnn --shape 3x224x224 --seed 1

Exit status 0 when the largest difference relative to the largest output is within --tolerance.
"""
import argparse
import importlib.util
import json
import pathlib
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch

ROOT = pathlib.Path(__file__).resolve().parent.parent
CLI = ["node", str(ROOT / "bin" / "cnn.js")]


def cnn(*args):
    r = subprocess.run(CLI + list(args), capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"cnn {' '.join(args)}: {r.stderr.strip()}")
    return r.stdout


def randomise(model, gen):
    """Weights scaled by fan-in so activations stay near unit size, biases small, batch norms non-trivial."""
    with torch.no_grad():
        for name, t in model.state_dict().items():
            if name.endswith("running_var"):
                t.copy_(0.5 + torch.rand(t.shape, generator=gen))
            elif name.endswith("running_mean"):
                t.copy_(0.1 * torch.randn(t.shape, generator=gen))
            elif t.dim() > 1:
                fan_in = t[0].numel()
                t.copy_(torch.randn(t.shape, generator=gen) * (2.0 / fan_in) ** 0.5)
            elif name.endswith("weight"):  # bn scale
                t.copy_(0.5 + torch.rand(t.shape, generator=gen))
            else:
                t.copy_(0.1 * torch.randn(t.shape, generator=gen))


def torchvision_model(network):
    try:
        import torchvision
    except ImportError:
        return None
    if network == "ResNet18":
        return torchvision.models.resnet18()
    if network == "GoogLeNet":
        # As examples/googlenet.cnn is written: no input transform, no auxiliary classifiers.
        return torchvision.models.googlenet(aux_logits=False, transform_input=False, init_weights=False)
    return None


# Runs an ONNX model in onnxruntime-node (the dev dependency) on a raw float32 input: argv model, input, shape, output.
ORT_RUN = r"""
const fs = require('fs');
const ort = require('onnxruntime-node');
const [model, input, shape, output] = process.argv.slice(1);
(async () => {
  const s = await ort.InferenceSession.create(fs.readFileSync(model));
  const b = fs.readFileSync(input);
  const x = new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4);
  const r = await s.run({ input: new ort.Tensor('float32', x, JSON.parse(shape)) });
  const y = r.output.data;
  fs.writeFileSync(output, Buffer.from(y.buffer, y.byteOffset, y.byteLength));
})().catch((e) => { console.error(e.message); process.exit(1); });
"""


def run_onnx(model, x, tmp):
    (tmp / "x.bin").write_bytes(x.numpy().astype("<f4").tobytes())
    r = subprocess.run(["node", "-e", ORT_RUN, str(model), str(tmp / "x.bin"), json.dumps(list(x.shape)), str(tmp / "y.bin")],
                       capture_output=True, text=True, cwd=ROOT)
    if r.returncode != 0:
        return None, r.stderr.strip().splitlines()[-1:] or ["failed"]
    return np.frombuffer((tmp / "y.bin").read_bytes(), dtype="<f4"), None


def compare(got, ref):
    diff = np.abs(got - ref)
    return diff.max(), diff.max() / np.abs(ref).max()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("file")
    ap.add_argument("--network")
    ap.add_argument("--shape", help="C x H x W, as cnn --shape")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--tolerance", type=float, default=1e-4)
    args = ap.parse_args()
    if not (ROOT / "dist" / "cli.cjs").exists():
        sys.exit("build first: npm run build")
    common = [args.file] + (["--network", args.network] if args.network else []) + (["--shape", args.shape] if args.shape else [])
    gen = torch.Generator().manual_seed(args.seed)

    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        module_file = tmp / "exported.py"
        cnn("export", *common, "--to", "pytorch", "-o", str(module_file))
        spec = importlib.util.spec_from_file_location("exported", module_file)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        params = json.loads(cnn("params", *common, "--json"))
        network = params["network"]
        model = next(v for k, v in vars(mod).items() if isinstance(v, type) and issubclass(v, torch.nn.Module) and v.__module__ == "exported" and k not in ("Scope", "BatchNorm1d", "BatchNorm2d"))().eval()

        ours = [(p["name"], p["shape"]) for p in params["params"]]
        theirs = [(k, list(v.shape)) for k, v in model.state_dict().items()]
        if ours != theirs:
            sys.exit(f"state_dict differs from cnn params: first difference {next((a, b) for a, b in zip(ours + [None] * len(theirs), theirs + [None] * len(ours)) if a != b)}")
        print(f"{network}: state_dict = cnn params ({len(ours)} tensors, same names, shapes and order)")

        randomise(model, gen)
        weights = tmp / "weights.safetensors"
        mod.save_weights(model, str(weights))
        fresh = type(model)().eval()
        mod.load_weights(fresh, str(weights))  # the module's own reader, strict

        x = torch.randn(1, *mod.INPUT_SHAPE, generator=gen)
        np.save(tmp / "x.npy", x.numpy())
        out = tmp / "y.npy"
        t0 = time.time()
        cnn("run", *common, "--weights", str(weights), "--input", str(tmp / "x.npy"), "--backend", "cpu", "--out", str(out), "--top", "0", "--json")
        cnn_s = time.time() - t0
        ours_y = np.load(out)
        with torch.no_grad():
            y = fresh(x)
        y = (y[0] if isinstance(y, tuple) else y).numpy()
        abs_d, rel_d = compare(y, ours_y)
        worst = rel_d
        shape = "x".join(str(d) for d in mod.INPUT_SHAPE)
        print(f"{network} at {shape}, seed {args.seed}: exported PyTorch module vs cnn run --backend cpu: "
              f"max abs diff {abs_d:.3g}, max diff / max |output| {rel_d:.3g}, top-1 {'same' if y.argmax() == ours_y.argmax() else 'DIFFERENT'} "
              f"(cnn run {cnn_s:.1f} s)")

        onnx_file = tmp / "exported.onnx"
        cnn("export", *common, "--to", "onnx", "--weights", str(weights), "-o", str(onnx_file))
        y_onnx, why = run_onnx(onnx_file, x, tmp)
        if y_onnx is None:
            print(f"{network}: ONNX not checked: onnxruntime-node: {why[0]}")
        else:
            abs_o, rel_o = compare(y_onnx.reshape(ours_y.shape), ours_y)
            worst = max(worst, rel_o)
            print(f"{network} at {shape}: exported ONNX in onnxruntime-node vs cnn run --backend cpu: max abs diff {abs_o:.3g}, max diff / max |output| {rel_o:.3g}")

        tv = torchvision_model(network)
        if tv is not None:
            result = tv.load_state_dict(fresh.state_dict(), strict=False)
            assert not result.unexpected_keys and all(k.endswith("num_batches_tracked") for k in result.missing_keys), result
            tv.eval()
            with torch.no_grad():
                ref = tv(x)
            ref = (ref.logits if hasattr(ref, "logits") else ref).numpy()
            abs_t, rel_t = compare(y, ref)
            worst = max(worst, rel_t)
            print(f"{network} at {shape}: exported module vs torchvision with the same weights: max abs diff {abs_t:.3g}, max diff / max |output| {rel_t:.3g}")

    ok = worst <= args.tolerance
    print(f"worst relative difference {worst:.3g} ({'OK' if ok else 'above'} {args.tolerance:g})")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
