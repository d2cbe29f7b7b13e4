#!/usr/bin/python3
"""Trains the Fashion-MNIST example and writes examples/fashion-mnist/.

Dev-time only, with Debian's packages: apt-get install -y python3-torch dataset-fashion-mnist
(the data: /usr/share/datasets/fashion-mnist/{train,t10k}-{images-idx3,labels-idx1}-ubyte.gz).
Run with the system Python: /usr/bin/python3 scripts/train-fashion-mnist.py [--epochs N]

Writes
  fashion.cnn           the network in our language (the torch model below mirrors it layer
                        for layer, with the parameter names that `cnn params` lists)
  fashion.safetensors   the trained weights under those names, float32
  labels.txt            the ten class names, one per line
  images/*.png          one 28x28 test image per class
Inputs are the pixels scaled to [0, 1], unnormalised: what `cnn run` does for 1-channel images.
"""
import argparse
import gzip
import json
import pathlib
import shutil
import subprocess
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from PIL import Image

import cnn_safetensors

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "examples" / "fashion-mnist"
DATA = pathlib.Path("/usr/share/datasets/fashion-mnist")
CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]

CNN = """\
// Fashion-MNIST: 28x28 grayscale clothing images in ten classes. Trained by
// scripts/train-fashion-mnist.py, which mirrors this network in PyTorch with these parameter
// names; the weights are fashion.safetensors, the class names labels.txt. Inputs: pixels in [0, 1].
//   cnn run examples/fashion-mnist/fashion.cnn --weights examples/fashion-mnist/fashion.safetensors \\
//     --labels examples/fashion-mnist/labels.txt --input examples/fashion-mnist/images/9-ankle-boot.png
network FashionNet {
  input 1x28x28
  stage1: { ConvBnRelu(16); ConvBnRelu(16) }   // 16x28x28
  pool1: maxpool k=2                          // 16x14x14
  stage2: { ConvBnRelu(32); ConvBnRelu(32) }   // 32x14x14
  pool2: maxpool k=2                          // 32x7x7
  stage3: ConvBnRelu(64)                       // 64x7x7
  pool3: maxpool k=2 ceil=true                // 64x4x4: the last window covers the 7th row and column
  flatten                                      // 1024
  dropout 0.3
  fc: linear 10
  softmax
}

block ConvBnRelu(c) {
  conv: conv c k=3 p=1 bias=false
  bn: bn
  relu
}
"""


class ConvBnRelu(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(cout)  # eps 1e-5, as our bn's default

    def forward(self, x):
        return F.relu(self.bn(self.conv(x)))


class FashionNet(nn.Module):
    """Layer for layer the network in CNN above; returns logits (the .cnn's softmax is applied outside)."""

    def __init__(self):
        super().__init__()
        self.stage1 = nn.Sequential(ConvBnRelu(1, 16), ConvBnRelu(16, 16))
        self.stage2 = nn.Sequential(ConvBnRelu(16, 32), ConvBnRelu(32, 32))
        self.stage3 = ConvBnRelu(32, 64)
        self.fc = nn.Linear(64 * 4 * 4, 10)

    def forward(self, x):
        x = F.max_pool2d(self.stage1(x), 2)
        x = F.max_pool2d(self.stage2(x), 2)
        x = F.max_pool2d(self.stage3(x), 2, ceil_mode=True)
        x = F.dropout(torch.flatten(x, 1), 0.3, self.training)
        return self.fc(x)


def read_idx(path):
    """IDX files: a big-endian magic (0x0000, a dtype byte, the rank), the dims, then the data."""
    with gzip.open(path, "rb") as f:
        raw = f.read()
    rank = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(rank)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * rank).reshape(dims)


def load(split):
    x = read_idx(DATA / f"{split}-images-idx3-ubyte.gz")
    y = read_idx(DATA / f"{split}-labels-idx1-ubyte.gz")
    return torch.from_numpy(x.astype(np.float32) / 255).unsqueeze(1), torch.from_numpy(y.astype(np.int64)), x


def accuracy(model, x, y):
    model.eval()
    with torch.no_grad():
        pred = torch.cat([model(x[i : i + 1000]).argmax(1) for i in range(0, len(x), 1000)])
    return (pred == y).float().mean().item(), pred


def augment(x):
    """Random horizontal flips and shifts of up to 2 pixels: cheap, and worth about a point on the test set."""
    flip = torch.rand(x.shape[0]) < 0.5
    x = torch.where(flip[:, None, None, None], x.flip(3), x)
    padded = F.pad(x, (2, 2, 2, 2))
    dy, dx = np.random.randint(0, 5, 2)
    return padded[:, :, dy : dy + 28, dx : dx + 28]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    torch.set_num_threads(max(1, torch.get_num_threads()))

    xtr, ytr, _ = load("train")
    xte, yte, raw_test = load("t10k")
    model = FashionNet()
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=1e-4)
    steps = args.epochs * ((len(xtr) + args.batch - 1) // args.batch)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=3e-3, total_steps=steps)
    for epoch in range(args.epochs):
        t0 = time.time()
        model.train()
        perm = torch.randperm(len(xtr))
        total = 0.0
        for i in range(0, len(xtr), args.batch):
            idx = perm[i : i + args.batch]
            loss = F.cross_entropy(model(augment(xtr[idx])), ytr[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item() * len(idx)
        acc, _ = accuracy(model, xte, yte)
        print(f"epoch {epoch + 1}/{args.epochs}: loss {total / len(xtr):.4f}, test accuracy {acc:.4f} ({time.time() - t0:.0f} s)", flush=True)

    acc, pred = accuracy(model, xte, yte)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "fashion.cnn").write_text(CNN)
    (OUT / "labels.txt").write_text("\n".join(CLASSES) + "\n")

    # Our parameter order is the state_dict's; PyTorch's step counters are not parameters of ours.
    state = [(k, v.detach().numpy()) for k, v in model.state_dict().items() if not k.endswith("num_batches_tracked")]
    cnn_safetensors.save(
        OUT / "fashion.safetensors",
        state,
        {"network": "FashionNet", "dataset": "Fashion-MNIST", "test_accuracy": f"{acc:.4f}", "epochs": args.epochs, "seed": args.seed},
    )

    # One test image per class: the first of its class in the test set that the model gets right,
    # so that the README's commands show correct answers (the accuracy above is over all 10,000).
    images = OUT / "images"
    shutil.rmtree(images, ignore_errors=True)
    images.mkdir()
    for c, name in enumerate(CLASSES):
        i = next(i for i in range(len(yte)) if yte[i] == c and pred[i] == c)
        slug = name.lower().replace("/", "-").replace(" ", "-")
        Image.fromarray(raw_test[i], mode="L").save(images / f"{c}-{slug}.png")

    n = sum(v.size for _, v in state)
    size = (OUT / "fashion.safetensors").stat().st_size
    print(f"test accuracy {acc:.4f}; {n} values, {size} bytes in fashion.safetensors; wrote {OUT}")

    # Cross-check the names with the CLI when it is built (npm run build).
    cli = ROOT / "bin" / "cnn.js"
    if (ROOT / "dist" / "cli.cjs").exists() and shutil.which("node"):
        listed = json.loads(subprocess.run(["node", str(cli), "params", str(OUT / "fashion.cnn"), "--json"], check=True, capture_output=True, text=True).stdout)
        ours = [(p["name"], p["shape"]) for p in listed["params"]]
        theirs = [(k, list(v.shape)) for k, v in state]
        assert ours == theirs, f"parameter names differ:\n{ours}\n{theirs}"
        print("parameter names and shapes match `cnn params`")


if __name__ == "__main__":
    main()
