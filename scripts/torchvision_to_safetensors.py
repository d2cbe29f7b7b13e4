#!/usr/bin/env python3
"""Save a torchvision model's state_dict as a .safetensors file that `cnn run --weights` reads.

Needs torch and torchvision only: the safetensors format is written here by hand (the
`safetensors` package is not needed). The format: an 8-byte little-endian unsigned header
length N, then N bytes of JSON {name: {"dtype", "shape", "data_offsets": [begin, end]},
"__metadata__": {str: str}} (padded with spaces to a multiple of 8), then the tensors' raw
little-endian bytes, back to back, in the order of the header's offsets.

Every floating-point tensor of the state_dict is stored as F32 under its PyTorch name
(`layer1.0.conv1.weight`, `bn1.running_mean`); the integer `num_batches_tracked` counters are
left out (no inference reads them; `cnn run` would ignore them anyway). The names are
torchvision's, which are the parameter names `cnn params` gives the examples
(examples/resnet18.cnn and the others: docs/naming.md), so the file loads as it is.

Examples:
  # ImageNet weights (downloaded by torchvision, cached in ~/.cache/torch), and their class names:
  python3 scripts/torchvision_to_safetensors.py --model resnet18 --weights DEFAULT \\
      --out examples/resnet18.safetensors --labels examples/labels.txt
  # No download possible: random weights (torchvision's initialisation, seeded):
  python3 scripts/torchvision_to_safetensors.py --model resnet18 --seed 0 --out /tmp/resnet18.safetensors

Exit status 0, or 1 with a one-line reason (an unknown model or weights name, a failed download).
"""
import argparse
import array
import json
import struct
import sys
import warnings


def tensor_bytes(t):
    """A tensor's values as little-endian float32 bytes."""
    import torch

    t = t.detach().to(device="cpu", dtype=torch.float32).contiguous()
    try:
        return t.numpy().astype("<f4", copy=False).tobytes()
    except Exception:  # a torch built without numpy
        a = array.array("f", t.flatten().tolist())
        if sys.byteorder == "big":
            a.byteswap()
        return a.tobytes()


def state_tensors(model):
    """(name, tensor) for every floating-point entry of the state_dict, in its order."""
    return [(k, v) for k, v in model.state_dict().items() if v.is_floating_point()]


def write_safetensors(path, tensors, metadata=None):
    """tensors: a list of (name, torch.Tensor); stored as F32 in this order."""
    header = {}
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    blobs = []
    offset = 0
    for name, t in tensors:
        b = tensor_bytes(t)
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


def build_model(name, weights=None, seed=0, kwargs=None, randomize_bn=False):
    """The torchvision model `name` in eval mode: with the named weights (downloaded), else random."""
    import torch
    import torchvision

    builder = getattr(torchvision.models, name, None)
    if builder is None or not callable(builder) or name.startswith("_") or name[0].isupper():
        raise SystemExit(f"error: torchvision has no model '{name}' (see torchvision.models.list_models())")
    torch.manual_seed(seed)
    kwargs = dict(kwargs or {})
    if weights:
        kwargs["weights"] = weights
    try:
        model = builder(**kwargs)
    except Exception as e:  # an unknown weights name, no network, a bad keyword
        reason = str(e).strip().splitlines()[-1] if str(e).strip() else type(e).__name__
        raise SystemExit(f"error: cannot build {name}{f' with weights {weights}' if weights else ''}: {reason}")
    if randomize_bn:
        # Trained-looking batch-norm statistics, so that a mixed-up tensor shows in a check.
        with torch.no_grad():
            for m in model.modules():
                if isinstance(m, torch.nn.modules.batchnorm._BatchNorm) and m.affine and m.track_running_stats:
                    m.weight.uniform_(0.5, 1.5)
                    m.bias.normal_(0, 0.2)
                    m.running_mean.normal_(0, 0.2)
                    m.running_var.uniform_(0.5, 1.5)
    return model.eval()


def categories(name, weights):
    """The class names the weights carry (ImageNet's for the classification weights), or None."""
    import torchvision

    if not weights:
        return None
    try:
        w = torchvision.models.get_model_weights(name)[weights] if weights != "DEFAULT" else torchvision.models.get_model_weights(name).DEFAULT
        return list(w.meta.get("categories") or []) or None
    except Exception:
        return None


def main(argv=None):
    p = argparse.ArgumentParser(description="Save a torchvision model's state_dict as .safetensors (no safetensors package needed).")
    p.add_argument("--model", required=True, help="a torchvision.models builder: resnet18, mobilenet_v2, googlenet, ...")
    p.add_argument("--weights", help="torchvision weights to download: DEFAULT, IMAGENET1K_V1, ...; random weights without it")
    p.add_argument("--out", help="the .safetensors file to write (default: MODEL.safetensors)")
    p.add_argument("--labels", help="also write the weights' class names here, one a line (cnn run and the panel read labels.txt)")
    p.add_argument("--seed", type=int, default=0, help="the seed of random weights (default 0)")
    p.add_argument("--kwargs", default="{}", help='keyword arguments of the builder, as JSON: \'{"aux_logits": false}\'')
    p.add_argument("--randomize-bn", action="store_true", help="random batch-norm statistics too (for tests: a mix-up of tensors shows)")
    a = p.parse_args(argv)
    warnings.filterwarnings("ignore")
    try:
        kwargs = json.loads(a.kwargs)
        assert isinstance(kwargs, dict)
    except Exception:
        raise SystemExit(f"error: --kwargs is not a JSON object: {a.kwargs}")
    model = build_model(a.model, a.weights, a.seed, kwargs, a.randomize_bn)
    tensors = state_tensors(model)
    out = a.out or f"{a.model}.safetensors"
    source = f"torchvision.models.{a.model}"
    write_safetensors(out, tensors, {"format": "pt", "source": source, "weights": a.weights or f"random (seed {a.seed})"})
    n = sum(t.numel() for _, t in tensors)
    print(f"{out}: {len(tensors)} tensors, {n:,} values from {source} ({a.weights or f'random weights, seed {a.seed}'})")
    if a.labels:
        names = categories(a.model, a.weights)
        if names is None:
            print(f"warning: no class names with {'random weights' if not a.weights else a.weights}; {a.labels} not written", file=sys.stderr)
        else:
            with open(a.labels, "w", encoding="utf-8") as f:
                f.write("\n".join(names) + "\n")
            print(f"{a.labels}: {len(names)} class names")


if __name__ == "__main__":
    main()
