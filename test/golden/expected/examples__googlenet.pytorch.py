"""GoogLeNet as a PyTorch module, exported by `cnn export` from examples/googlenet.cnn.

state_dict() keys are the names `cnn params` lists, in the same order; the batch norms keep no
num_batches_tracked counter, and load_state_dict() ignores one, so state dicts with it load as well.

    model = GoogLeNet().eval()
    load_weights(model, "weights.safetensors")   # weights with our names: cnn's, or save_weights(model, ...)
    y = model(torch.randn(1, *INPUT_SHAPE))

forward(x) takes [N, 3, 224, 224] and returns the output [N, 1000].
Run this file to check it: python3 GoogLeNet.py [WEIGHTS.safetensors]
"""

import json
import struct
import sys

import torch
from torch import nn


class Scope(nn.Module):
    """A module whose children are reached by name, scope[0] or scope["name"]: the network, and each
    prefix of the parameter names (layer1, layer1.0, ...), which only holds modules and has no forward."""

    def __getitem__(self, name):
        return self._modules[str(name)]


class _NoStepCounter:
    """Batch norm without PyTorch's num_batches_tracked counter, so that state_dict() holds exactly
    weight, bias, running_mean and running_var. load_state_dict() ignores a num_batches_tracked entry,
    so state dicts with the counter (torchvision's) load as well as those without."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.register_buffer("num_batches_tracked", None)

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs):
        state_dict.pop(prefix + "num_batches_tracked", None)
        # nn.Module's loader, not _NormBase's: that one adds a counter to old-format dicts.
        nn.Module._load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs)


class BatchNorm2d(_NoStepCounter, nn.BatchNorm2d):
    pass


class BatchNorm1d(_NoStepCounter, nn.BatchNorm1d):
    pass


def _attach(root, path, module):
    """Registers module at a dotted path, making a Scope for each prefix not seen yet."""
    *prefixes, name = path.split(".")
    parent = root
    for p in prefixes:
        child = parent._modules.get(p)
        if child is None:
            child = Scope()
            parent.add_module(p, child)
        elif not isinstance(child, Scope):
            raise ValueError(f"{path}: {p} is a layer, not a prefix")
        parent = child
    parent.add_module(name, module)


_SAFETENSORS_DTYPES = {
    "F64": torch.float64, "F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16,
    "I64": torch.int64, "I32": torch.int32, "I16": torch.int16, "I8": torch.int8, "U8": torch.uint8, "BOOL": torch.bool,
}


def load_safetensors(path):
    """{name: tensor} from a safetensors file (cnn's, or any): with the safetensors package where it is
    installed, else read here: 8 bytes of little-endian header length, the JSON header, the data."""
    try:
        from safetensors.torch import load_file
    except ImportError:
        load_file = None
    if load_file is not None:
        return load_file(path)
    with open(path, "rb") as f:
        data = bytearray(f.read())
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + n].decode("utf-8"))
    header.pop("__metadata__", None)
    tensors = {}
    for name, info in header.items():
        dtype = _SAFETENSORS_DTYPES[info["dtype"]]
        begin, end = info["data_offsets"]
        count = (end - begin) // torch.tensor([], dtype=dtype).element_size()
        if count == 0:
            t = torch.empty(0, dtype=dtype)
        else:
            t = torch.frombuffer(data, dtype=dtype, count=count, offset=8 + n + begin)
        tensors[name] = t.reshape(info["shape"])
    return tensors


def save_safetensors(tensors, path, metadata=None):
    """Writes {name: tensor} as float32 safetensors, in the dict's order (cnn run --weights reads it)."""
    header = {"__metadata__": {str(k): str(v) for k, v in metadata.items()}} if metadata else {}
    blobs = []
    offset = 0
    for name, t in tensors.items():
        a = t.detach().to("cpu", torch.float32).contiguous()
        try:
            blob = a.numpy().tobytes()
        except (ImportError, RuntimeError):
            blob = struct.pack(f"<{a.numel()}f", *a.flatten().tolist())
        header[name] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    text = json.dumps(header).encode("utf-8")
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


def load_weights(model, path, strict=True):
    """Loads a safetensors file with our parameter names (cnn's seeded or trained weights) into model."""
    return model.load_state_dict(load_safetensors(path), strict=strict)


def save_weights(model, path):
    """Saves model.state_dict() for cnn run --weights (and cnn export --to onnx --weights)."""
    save_safetensors(model.state_dict(), path)


INPUT_SHAPE = (3, 224, 224)
OUTPUT_SHAPES = ((1000,),)


class GoogLeNet(Scope):
    def __init__(self):
        super().__init__()
        _attach(self, "conv1.conv", nn.Conv2d(3, 64, kernel_size=(7, 7), stride=(2, 2), padding=(3, 3), bias=False))
        _attach(self, "conv1.bn", BatchNorm2d(64, eps=0.001))
        _attach(self, "conv1.2", nn.ReLU())
        _attach(self, "maxpool1", nn.MaxPool2d(kernel_size=(3, 3), stride=(2, 2), padding=(0, 0), ceil_mode=True))
        _attach(self, "conv2.conv", nn.Conv2d(64, 64, kernel_size=(1, 1), stride=(1, 1), padding=(0, 0), bias=False))
        _attach(self, "conv2.bn", BatchNorm2d(64, eps=0.001))
        _attach(self, "conv2.2", nn.ReLU())
        _attach(self, "conv3.conv", nn.Conv2d(64, 192, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1), bias=False))
        _attach(self, "conv3.bn", BatchNorm2d(192, eps=0.001))
        _attach(self, "conv3.2", nn.ReLU())
        _attach(self, "maxpool2", nn.MaxPool2d(kernel_size=(3, 3), stride=(2, 2), padding=(0, 0), ceil_mode=True))
        _attach(self, "inception3a.branch1.conv", nn.Conv2d(192, 64, kernel_size=(1, 1), stride=(1, 1), padding=(0, 0), bias=False))
        _attach(self, "inception3a.branch1.bn", BatchNorm2d(64, eps=0.001))
        _attach(self, "inception3a.branch1.2", nn.ReLU())
        _attach(self, "inception3a.branch2.0.conv", nn.Conv2d(192, 96, kernel_size=(1, 1), stride=(1, 1), padding=(0, 0), bias=False))
        _attach(self, "inception3a.branch2.0.bn", BatchNorm2d(96, eps=0.001))
        _attach(self, "inception3a.branch2.0.2", nn.ReLU())
        _attach(self, "inception3a.branch2.1.conv", nn.Conv2d(96, 128, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1), bias=False))
        _attach(self, "inception3a.branch2.1.bn", BatchNorm2d(128, eps=0.001))
        _attach(self, "inception3a.branch2.1.2", nn.ReLU())
        _attach(self, "inception3a.branch3.0.conv", nn.Conv2d(192, 16, kernel_size=(1, 1), stride=(1, 1), padding=(0, 0), bias=False))
        _attach(self, "inception3a.branch3.0.bn", BatchNorm2d(16, eps=0.001))
        _attach(self, "inception3a.branch3.0.2", nn.ReLU())
        _attach(self, "inception3a.branch3.1.conv", nn.Conv2d(16, 32, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1), bias=False))
        _attach(self, "inception3a.branch3.1.bn", BatchNorm2d(32, eps=0.001))
        _attach(self, "inception3a.branch3.1.2", nn.ReLU())
        _attach(self, "inception3a.branch4.0", nn.MaxPool2d(kernel_size=(3, 3), stride=(1, 1), padding=(1, 1), ceil_mode=True))
        _attach(self, "inception3a.branch4.1.conv", nn.Conv2d(192, 32, kernel_size=(1, 1), stride=(1, 1), padding=(0, 0), bias=False))
        _attach(self, "inception3a.branch4.1.bn", BatchNorm2d(32, eps=0.001))
        _attach(self, "inception3a.branch4.1.2", nn.ReLU())
        _attach(self, "inception3b.branch1.conv", nn.Conv2d(256, 128, kernel_size=(1, 1), stride=(1, 1), padding=(0, 0), bias=False))
        _attach(self, "inception3b.branch1.bn", BatchNorm2d(128, eps=0.001))
        _attach(self, "inception3b.branch1.2", nn.ReLU())
        _attach(self, "inception3b.branch2.0.conv", nn.Conv2d(256, 128, kernel_size=(1, 1), stride=(1, 1), padding=(0, 0), bias=False))
        _attach(self, "inception3b.branch2.0.bn", BatchNorm2d(128, eps=0.001))
        _attach(self, "inception3b.branch2.0.2", nn.ReLU())
        _attach(self, "inception3b.branch2.1.conv", nn.Conv2d(128, 192, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1), bias=False))
        _attach(self, "inception3b.branch2.1.bn", BatchNorm2d(192, eps=0.001))
        _attach(self, "inception3b.branch2.1.2", nn.ReLU())
        _attach(self, "inception3b.branch3.0.conv", nn.Conv2d(256, 32, kernel_size=(1, 1), stride=(1, 1), padding=(0, 0), bias=False))
        _attach(self, "inception3b.branch3.0.bn", BatchNorm2d(32, eps=0.001))
        _attach(self, "inception3b.branch3.0.2", nn.ReLU())
        _attach(self, "inception3b.branch3.1.conv", nn.Conv2d(32, 96, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1), bias=False))
        _attach(self, "inception3b.branch3.1.bn", BatchNorm2d(96, eps=0.001))
        _attach(self, "inception3b.branch3.1.2", nn.ReLU())
        _attach(self, "inception3b.branch4.0", nn.MaxPool2d(kernel_size=(3, 3), stride=(1, 1), padding=(1, 1), ceil_mode=True))
        _attach(self, "inception3b.branch4.1.conv", nn.Conv2d(256, 64, kernel_size=(1, 1), stride=(1, 1), padding=(0, 0), bias=False))
        _attach(self, "inception3b.branch4.1.bn", BatchNorm2d(64, eps=0.001))
        _attach(self, "inception3b.branch4.1.2", nn.ReLU())
        _attach(self, "maxpool3", nn.MaxPool2d(kernel_size=(3, 3), stride=(2, 2), padding=(0, 0), ceil_mode=True))
        _attach(self, "inception4a.branch1.conv", nn.Conv2d(480, 192, kernel_size=(1, 1), stride=(1, 1), padding=(0, 0), bias=False))
        _attach(self, "inception4a.branch1.bn", BatchNorm2d(192, eps=0.001))
        _attach(self, "inception4a.branch1.2", nn.ReLU())
        _attach(self, "inception4a.branch2.0.conv", nn.Conv2d(480, 96, kernel_size=(1, 1), stride=(1, 1), padding=(0, 0), bias=False))
        _attach(self, "inception4a.branch2.0.bn", BatchNorm2d(96, eps=0.001))
        _attach(self, "inception4a.branch2.0.2", nn.ReLU())
        _attach(self, "inception4a.branch2.1.conv", nn.Conv2d(96, 208, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1), bias=False))
        _attach(self, "inception4a.branch2.1.bn", BatchNorm2d(208, eps=0.001))
        _attach(self, "inception4a.branch2.1.2", nn.ReLU())
        _attach(self, "inception4a.branch3.0.conv", nn.Conv2d(480, 16, kernel_size=(1, 1), stride=(1, 1), padding=(0, 0), bias=False))
        _attach(self, "inception4a.branch3.0.bn", BatchNorm2d(16, eps=0.001))
        _attach(self, "inception4a.branch3.0.2", nn.ReLU())
        _attach(self, "inception4a.branch3.1.conv", nn.Conv2d(16, 48, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1), bias=False))
        _attach(self, "inception4a.branch3.1.bn", BatchNorm2d(48, eps=0.001))
        _attach(self, "inception4a.branch3.1.2", nn.ReLU())
        _attach(self, "inception4a.branch4.0", nn.MaxPool2d(kernel_size=(3, 3), stride=(1, 1), padding=(1, 1), ceil_mode=True))
        _attach(self, "inception4a.branch4.1.conv", nn.Conv2d(480, 64, kernel_size=(1, 1), stride=(1, 1), padding=(0, 0), bias=False))
        _attach(self, "inception4a.branch4.1.bn", BatchNorm2d(64, eps=0.001))
        _attach(self, "inception4a.branch4.1.2", nn.ReLU())
        _attach(self, "inception4b.branch1.conv", nn.Conv2d(512, 160, kernel_size=(1, 1), stride=(1, 1), padding=(0, 0), bias=False))
        _attach(self, "inception4b.branch1.bn", BatchNorm2d(160, eps=0.001))
        _attach(self, "inception4b.branch1.2", nn.ReLU())
        _attach(self, "inception4b.branch2.0.conv", nn.Conv2d(512, 112, kernel_size=(1, 1), stride=(1, 1), padding=(0, 0), bias=False))
        _attach(self, "inception4b.branch2.0.bn", BatchNorm2d(112, eps=0.001))
        _attach(self, "inception4b.branch2.0.2", nn.ReLU())
        _attach(self, "inception4b.branch2.1.conv", nn.Conv2d(112, 224, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1), bias=False))
        _attach(self, "inception4b.branch2.1.bn", BatchNorm2d(224, eps=0.001))
        _attach(self, "inception4b.branch2.1.2", nn.ReLU())
        _attach(self, "inception4b.branch3.0.conv", nn.Conv2d(512, 24, kernel_size=(1, 1), stride=(1, 1), padding=(0, 0), bias=False))
        _attach(self, "inception4b.branch3.0.bn", BatchNorm2d(24, eps=0.001))
        _attach(self, "inception4b.branch3.0.2", nn.ReLU())
        _attach(self, "inception4b.branch3.1.conv", nn.Conv2d(24, 64, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1), bias=False))
        _attach(self, "inception4b.branch3.1.bn", BatchNorm2d(64, eps=0.001))
        _attach(self, "inception4b.branch3.1.2", nn.ReLU())
        _attach(self, "inception4b.branch4.0", nn.MaxPool2d(kernel_size=(3, 3), stride=(1, 1), padding=(1, 1), ceil_mode=True))
        _attach(self, "inception4b.branch4.1.conv", nn.Conv2d(512, 64, kernel_size=(1, 1), stride=(1, 1), padding=(0, 0), bias=False))
        _attach(self, "inception4b.branch4.1.bn", BatchNorm2d(64, eps=0.001))
        _attach(self, "inception4b.branch4.1.2", nn.ReLU())
        _attach(self, "inception4c.branch1.conv", nn.Conv2d(512, 128, kernel_size=(1, 1), stride=(1, 1), padding=(0, 0), bias=False))
        _attach(self, "inception4c.branch1.bn", BatchNorm2d(128, eps=0.001))
        _attach(self, "inception4c.branch1.2", nn.ReLU())
        _attach(self, "inception4c.branch2.0.conv", nn.Conv2d(512, 128, kernel_size=(1, 1), stride=(1, 1), padding=(0, 0), bias=False))
        _attach(self, "inception4c.branch2.0.bn", BatchNorm2d(128, eps=0.001))
        _attach(self, "inception4c.branch2.0.2", nn.ReLU())
        _attach(self, "inception4c.branch2.1.conv", nn.Conv2d(128, 256, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1), bias=False))
        _attach(self, "inception4c.branch2.1.bn", BatchNorm2d(256, eps=0.001))
        _attach(self, "inception4c.branch2.1.2", nn.ReLU())
        _attach(self, "inception4c.branch3.0.conv", nn.Conv2d(512, 24, kernel_size=(1, 1), stride=(1, 1), padding=(0, 0), bias=False))
        _attach(self, "inception4c.branch3.0.bn", BatchNorm2d(24, eps=0.001))
        _attach(self, "inception4c.branch3.0.2", nn.ReLU())
        _attach(self, "inception4c.branch3.1.conv", nn.Conv2d(24, 64, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1), bias=False))
        _attach(self, "inception4c.branch3.1.bn", BatchNorm2d(64, eps=0.001))
        _attach(self, "inception4c.branch3.1.2", nn.ReLU())
        _attach(self, "inception4c.branch4.0", nn.MaxPool2d(kernel_size=(3, 3), stride=(1, 1), padding=(1, 1), ceil_mode=True))
        _attach(self, "inception4c.branch4.1.conv", nn.Conv2d(512, 64, kernel_size=(1, 1), stride=(1, 1), padding=(0, 0), bias=False))
        _attach(self, "inception4c.branch4.1.bn", BatchNorm2d(64, eps=0.001))
        _attach(self, "inception4c.branch4.1.2", nn.ReLU())
        _attach(self, "inception4d.branch1.conv", nn.Conv2d(512, 112, kernel_size=(1, 1), stride=(1, 1), padding=(0, 0), bias=False))
        _attach(self, "inception4d.branch1.bn", BatchNorm2d(112, eps=0.001))
        _attach(self, "inception4d.branch1.2", nn.ReLU())
        _attach(self, "inception4d.branch2.0.conv", nn.Conv2d(512, 144, kernel_size=(1, 1), stride=(1, 1), padding=(0, 0), bias=False))
        _attach(self, "inception4d.branch2.0.bn", BatchNorm2d(144, eps=0.001))
        _attach(self, "inception4d.branch2.0.2", nn.ReLU())
        _attach(self, "inception4d.branch2.1.conv", nn.Conv2d(144, 288, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1), bias=False))
        _attach(self, "inception4d.branch2.1.bn", BatchNorm2d(288, eps=0.001))
        _attach(self, "inception4d.branch2.1.2", nn.ReLU())
        _attach(self, "inception4d.branch3.0.conv", nn.Conv2d(512, 32, kernel_size=(1, 1), stride=(1, 1), padding=(0, 0), bias=False))
        _attach(self, "inception4d.branch3.0.bn", BatchNorm2d(32, eps=0.001))
        _attach(self, "inception4d.branch3.0.2", nn.ReLU())
        _attach(self, "inception4d.branch3.1.conv", nn.Conv2d(32, 64, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1), bias=False))
        _attach(self, "inception4d.branch3.1.bn", BatchNorm2d(64, eps=0.001))
        _attach(self, "inception4d.branch3.1.2", nn.ReLU())
        _attach(self, "inception4d.branch4.0", nn.MaxPool2d(kernel_size=(3, 3), stride=(1, 1), padding=(1, 1), ceil_mode=True))
        _attach(self, "inception4d.branch4.1.conv", nn.Conv2d(512, 64, kernel_size=(1, 1), stride=(1, 1), padding=(0, 0), bias=False))
        _attach(self, "inception4d.branch4.1.bn", BatchNorm2d(64, eps=0.001))
        _attach(self, "inception4d.branch4.1.2", nn.ReLU())
        _attach(self, "inception4e.branch1.conv", nn.Conv2d(528, 256, kernel_size=(1, 1), stride=(1, 1), padding=(0, 0), bias=False))
        _attach(self, "inception4e.branch1.bn", BatchNorm2d(256, eps=0.001))
        _attach(self, "inception4e.branch1.2", nn.ReLU())
        _attach(self, "inception4e.branch2.0.conv", nn.Conv2d(528, 160, kernel_size=(1, 1), stride=(1, 1), padding=(0, 0), bias=False))
        _attach(self, "inception4e.branch2.0.bn", BatchNorm2d(160, eps=0.001))
        _attach(self, "inception4e.branch2.0.2", nn.ReLU())
        _attach(self, "inception4e.branch2.1.conv", nn.Conv2d(160, 320, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1), bias=False))
        _attach(self, "inception4e.branch2.1.bn", BatchNorm2d(320, eps=0.001))
        _attach(self, "inception4e.branch2.1.2", nn.ReLU())
        _attach(self, "inception4e.branch3.0.conv", nn.Conv2d(528, 32, kernel_size=(1, 1), stride=(1, 1), padding=(0, 0), bias=False))
        _attach(self, "inception4e.branch3.0.bn", BatchNorm2d(32, eps=0.001))
        _attach(self, "inception4e.branch3.0.2", nn.ReLU())
        _attach(self, "inception4e.branch3.1.conv", nn.Conv2d(32, 128, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1), bias=False))
        _attach(self, "inception4e.branch3.1.bn", BatchNorm2d(128, eps=0.001))
        _attach(self, "inception4e.branch3.1.2", nn.ReLU())
        _attach(self, "inception4e.branch4.0", nn.MaxPool2d(kernel_size=(3, 3), stride=(1, 1), padding=(1, 1), ceil_mode=True))
        _attach(self, "inception4e.branch4.1.conv", nn.Conv2d(528, 128, kernel_size=(1, 1), stride=(1, 1), padding=(0, 0), bias=False))
        _attach(self, "inception4e.branch4.1.bn", BatchNorm2d(128, eps=0.001))
        _attach(self, "inception4e.branch4.1.2", nn.ReLU())
        _attach(self, "maxpool4", nn.MaxPool2d(kernel_size=(2, 2), stride=(2, 2), padding=(0, 0), ceil_mode=True))
        _attach(self, "inception5a.branch1.conv", nn.Conv2d(832, 256, kernel_size=(1, 1), stride=(1, 1), padding=(0, 0), bias=False))
        _attach(self, "inception5a.branch1.bn", BatchNorm2d(256, eps=0.001))
        _attach(self, "inception5a.branch1.2", nn.ReLU())
        _attach(self, "inception5a.branch2.0.conv", nn.Conv2d(832, 160, kernel_size=(1, 1), stride=(1, 1), padding=(0, 0), bias=False))
        _attach(self, "inception5a.branch2.0.bn", BatchNorm2d(160, eps=0.001))
        _attach(self, "inception5a.branch2.0.2", nn.ReLU())
        _attach(self, "inception5a.branch2.1.conv", nn.Conv2d(160, 320, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1), bias=False))
        _attach(self, "inception5a.branch2.1.bn", BatchNorm2d(320, eps=0.001))
        _attach(self, "inception5a.branch2.1.2", nn.ReLU())
        _attach(self, "inception5a.branch3.0.conv", nn.Conv2d(832, 32, kernel_size=(1, 1), stride=(1, 1), padding=(0, 0), bias=False))
        _attach(self, "inception5a.branch3.0.bn", BatchNorm2d(32, eps=0.001))
        _attach(self, "inception5a.branch3.0.2", nn.ReLU())
        _attach(self, "inception5a.branch3.1.conv", nn.Conv2d(32, 128, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1), bias=False))
        _attach(self, "inception5a.branch3.1.bn", BatchNorm2d(128, eps=0.001))
        _attach(self, "inception5a.branch3.1.2", nn.ReLU())
        _attach(self, "inception5a.branch4.0", nn.MaxPool2d(kernel_size=(3, 3), stride=(1, 1), padding=(1, 1), ceil_mode=True))
        _attach(self, "inception5a.branch4.1.conv", nn.Conv2d(832, 128, kernel_size=(1, 1), stride=(1, 1), padding=(0, 0), bias=False))
        _attach(self, "inception5a.branch4.1.bn", BatchNorm2d(128, eps=0.001))
        _attach(self, "inception5a.branch4.1.2", nn.ReLU())
        _attach(self, "inception5b.branch1.conv", nn.Conv2d(832, 384, kernel_size=(1, 1), stride=(1, 1), padding=(0, 0), bias=False))
        _attach(self, "inception5b.branch1.bn", BatchNorm2d(384, eps=0.001))
        _attach(self, "inception5b.branch1.2", nn.ReLU())
        _attach(self, "inception5b.branch2.0.conv", nn.Conv2d(832, 192, kernel_size=(1, 1), stride=(1, 1), padding=(0, 0), bias=False))
        _attach(self, "inception5b.branch2.0.bn", BatchNorm2d(192, eps=0.001))
        _attach(self, "inception5b.branch2.0.2", nn.ReLU())
        _attach(self, "inception5b.branch2.1.conv", nn.Conv2d(192, 384, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1), bias=False))
        _attach(self, "inception5b.branch2.1.bn", BatchNorm2d(384, eps=0.001))
        _attach(self, "inception5b.branch2.1.2", nn.ReLU())
        _attach(self, "inception5b.branch3.0.conv", nn.Conv2d(832, 48, kernel_size=(1, 1), stride=(1, 1), padding=(0, 0), bias=False))
        _attach(self, "inception5b.branch3.0.bn", BatchNorm2d(48, eps=0.001))
        _attach(self, "inception5b.branch3.0.2", nn.ReLU())
        _attach(self, "inception5b.branch3.1.conv", nn.Conv2d(48, 128, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1), bias=False))
        _attach(self, "inception5b.branch3.1.bn", BatchNorm2d(128, eps=0.001))
        _attach(self, "inception5b.branch3.1.2", nn.ReLU())
        _attach(self, "inception5b.branch4.0", nn.MaxPool2d(kernel_size=(3, 3), stride=(1, 1), padding=(1, 1), ceil_mode=True))
        _attach(self, "inception5b.branch4.1.conv", nn.Conv2d(832, 128, kernel_size=(1, 1), stride=(1, 1), padding=(0, 0), bias=False))
        _attach(self, "inception5b.branch4.1.bn", BatchNorm2d(128, eps=0.001))
        _attach(self, "inception5b.branch4.1.2", nn.ReLU())
        _attach(self, "avgpool", nn.AdaptiveAvgPool2d((1, 1)))
        _attach(self, "17", nn.Flatten(1))
        _attach(self, "18", nn.Dropout(0.2))
        _attach(self, "fc", nn.Linear(1024, 1000))

    def forward(self, x):
        x = self.conv1.conv(x)
        x = self.conv1.bn(x)
        x = self.conv1[2](x)
        x = self.maxpool1(x)
        x = self.conv2.conv(x)
        x = self.conv2.bn(x)
        x = self.conv2[2](x)
        x = self.conv3.conv(x)
        x = self.conv3.bn(x)
        x = self.conv3[2](x)
        x = self.maxpool2(x)
        x1 = self.inception3a.branch1.conv(x)
        x1 = self.inception3a.branch1.bn(x1)
        x1 = self.inception3a.branch1[2](x1)
        x2 = self.inception3a.branch2[0].conv(x)
        x2 = self.inception3a.branch2[0].bn(x2)
        x2 = self.inception3a.branch2[0][2](x2)
        x2 = self.inception3a.branch2[1].conv(x2)
        x2 = self.inception3a.branch2[1].bn(x2)
        x2 = self.inception3a.branch2[1][2](x2)
        x3 = self.inception3a.branch3[0].conv(x)
        x3 = self.inception3a.branch3[0].bn(x3)
        x3 = self.inception3a.branch3[0][2](x3)
        x3 = self.inception3a.branch3[1].conv(x3)
        x3 = self.inception3a.branch3[1].bn(x3)
        x3 = self.inception3a.branch3[1][2](x3)
        x = self.inception3a.branch4[0](x)
        x = self.inception3a.branch4[1].conv(x)
        x = self.inception3a.branch4[1].bn(x)
        x = self.inception3a.branch4[1][2](x)
        x = torch.cat([x1, x2, x3, x], 1)  # inception3a.concat
        x1 = self.inception3b.branch1.conv(x)
        x1 = self.inception3b.branch1.bn(x1)
        x1 = self.inception3b.branch1[2](x1)
        x2 = self.inception3b.branch2[0].conv(x)
        x2 = self.inception3b.branch2[0].bn(x2)
        x2 = self.inception3b.branch2[0][2](x2)
        x2 = self.inception3b.branch2[1].conv(x2)
        x2 = self.inception3b.branch2[1].bn(x2)
        x2 = self.inception3b.branch2[1][2](x2)
        x3 = self.inception3b.branch3[0].conv(x)
        x3 = self.inception3b.branch3[0].bn(x3)
        x3 = self.inception3b.branch3[0][2](x3)
        x3 = self.inception3b.branch3[1].conv(x3)
        x3 = self.inception3b.branch3[1].bn(x3)
        x3 = self.inception3b.branch3[1][2](x3)
        x = self.inception3b.branch4[0](x)
        x = self.inception3b.branch4[1].conv(x)
        x = self.inception3b.branch4[1].bn(x)
        x = self.inception3b.branch4[1][2](x)
        x = torch.cat([x1, x2, x3, x], 1)  # inception3b.concat
        x = self.maxpool3(x)
        x1 = self.inception4a.branch1.conv(x)
        x1 = self.inception4a.branch1.bn(x1)
        x1 = self.inception4a.branch1[2](x1)
        x2 = self.inception4a.branch2[0].conv(x)
        x2 = self.inception4a.branch2[0].bn(x2)
        x2 = self.inception4a.branch2[0][2](x2)
        x2 = self.inception4a.branch2[1].conv(x2)
        x2 = self.inception4a.branch2[1].bn(x2)
        x2 = self.inception4a.branch2[1][2](x2)
        x3 = self.inception4a.branch3[0].conv(x)
        x3 = self.inception4a.branch3[0].bn(x3)
        x3 = self.inception4a.branch3[0][2](x3)
        x3 = self.inception4a.branch3[1].conv(x3)
        x3 = self.inception4a.branch3[1].bn(x3)
        x3 = self.inception4a.branch3[1][2](x3)
        x = self.inception4a.branch4[0](x)
        x = self.inception4a.branch4[1].conv(x)
        x = self.inception4a.branch4[1].bn(x)
        x = self.inception4a.branch4[1][2](x)
        x = torch.cat([x1, x2, x3, x], 1)  # inception4a.concat
        x1 = self.inception4b.branch1.conv(x)
        x1 = self.inception4b.branch1.bn(x1)
        x1 = self.inception4b.branch1[2](x1)
        x2 = self.inception4b.branch2[0].conv(x)
        x2 = self.inception4b.branch2[0].bn(x2)
        x2 = self.inception4b.branch2[0][2](x2)
        x2 = self.inception4b.branch2[1].conv(x2)
        x2 = self.inception4b.branch2[1].bn(x2)
        x2 = self.inception4b.branch2[1][2](x2)
        x3 = self.inception4b.branch3[0].conv(x)
        x3 = self.inception4b.branch3[0].bn(x3)
        x3 = self.inception4b.branch3[0][2](x3)
        x3 = self.inception4b.branch3[1].conv(x3)
        x3 = self.inception4b.branch3[1].bn(x3)
        x3 = self.inception4b.branch3[1][2](x3)
        x = self.inception4b.branch4[0](x)
        x = self.inception4b.branch4[1].conv(x)
        x = self.inception4b.branch4[1].bn(x)
        x = self.inception4b.branch4[1][2](x)
        x = torch.cat([x1, x2, x3, x], 1)  # inception4b.concat
        x1 = self.inception4c.branch1.conv(x)
        x1 = self.inception4c.branch1.bn(x1)
        x1 = self.inception4c.branch1[2](x1)
        x2 = self.inception4c.branch2[0].conv(x)
        x2 = self.inception4c.branch2[0].bn(x2)
        x2 = self.inception4c.branch2[0][2](x2)
        x2 = self.inception4c.branch2[1].conv(x2)
        x2 = self.inception4c.branch2[1].bn(x2)
        x2 = self.inception4c.branch2[1][2](x2)
        x3 = self.inception4c.branch3[0].conv(x)
        x3 = self.inception4c.branch3[0].bn(x3)
        x3 = self.inception4c.branch3[0][2](x3)
        x3 = self.inception4c.branch3[1].conv(x3)
        x3 = self.inception4c.branch3[1].bn(x3)
        x3 = self.inception4c.branch3[1][2](x3)
        x = self.inception4c.branch4[0](x)
        x = self.inception4c.branch4[1].conv(x)
        x = self.inception4c.branch4[1].bn(x)
        x = self.inception4c.branch4[1][2](x)
        x = torch.cat([x1, x2, x3, x], 1)  # inception4c.concat
        x1 = self.inception4d.branch1.conv(x)
        x1 = self.inception4d.branch1.bn(x1)
        x1 = self.inception4d.branch1[2](x1)
        x2 = self.inception4d.branch2[0].conv(x)
        x2 = self.inception4d.branch2[0].bn(x2)
        x2 = self.inception4d.branch2[0][2](x2)
        x2 = self.inception4d.branch2[1].conv(x2)
        x2 = self.inception4d.branch2[1].bn(x2)
        x2 = self.inception4d.branch2[1][2](x2)
        x3 = self.inception4d.branch3[0].conv(x)
        x3 = self.inception4d.branch3[0].bn(x3)
        x3 = self.inception4d.branch3[0][2](x3)
        x3 = self.inception4d.branch3[1].conv(x3)
        x3 = self.inception4d.branch3[1].bn(x3)
        x3 = self.inception4d.branch3[1][2](x3)
        x = self.inception4d.branch4[0](x)
        x = self.inception4d.branch4[1].conv(x)
        x = self.inception4d.branch4[1].bn(x)
        x = self.inception4d.branch4[1][2](x)
        x = torch.cat([x1, x2, x3, x], 1)  # inception4d.concat
        x1 = self.inception4e.branch1.conv(x)
        x1 = self.inception4e.branch1.bn(x1)
        x1 = self.inception4e.branch1[2](x1)
        x2 = self.inception4e.branch2[0].conv(x)
        x2 = self.inception4e.branch2[0].bn(x2)
        x2 = self.inception4e.branch2[0][2](x2)
        x2 = self.inception4e.branch2[1].conv(x2)
        x2 = self.inception4e.branch2[1].bn(x2)
        x2 = self.inception4e.branch2[1][2](x2)
        x3 = self.inception4e.branch3[0].conv(x)
        x3 = self.inception4e.branch3[0].bn(x3)
        x3 = self.inception4e.branch3[0][2](x3)
        x3 = self.inception4e.branch3[1].conv(x3)
        x3 = self.inception4e.branch3[1].bn(x3)
        x3 = self.inception4e.branch3[1][2](x3)
        x = self.inception4e.branch4[0](x)
        x = self.inception4e.branch4[1].conv(x)
        x = self.inception4e.branch4[1].bn(x)
        x = self.inception4e.branch4[1][2](x)
        x = torch.cat([x1, x2, x3, x], 1)  # inception4e.concat
        x = self.maxpool4(x)
        x1 = self.inception5a.branch1.conv(x)
        x1 = self.inception5a.branch1.bn(x1)
        x1 = self.inception5a.branch1[2](x1)
        x2 = self.inception5a.branch2[0].conv(x)
        x2 = self.inception5a.branch2[0].bn(x2)
        x2 = self.inception5a.branch2[0][2](x2)
        x2 = self.inception5a.branch2[1].conv(x2)
        x2 = self.inception5a.branch2[1].bn(x2)
        x2 = self.inception5a.branch2[1][2](x2)
        x3 = self.inception5a.branch3[0].conv(x)
        x3 = self.inception5a.branch3[0].bn(x3)
        x3 = self.inception5a.branch3[0][2](x3)
        x3 = self.inception5a.branch3[1].conv(x3)
        x3 = self.inception5a.branch3[1].bn(x3)
        x3 = self.inception5a.branch3[1][2](x3)
        x = self.inception5a.branch4[0](x)
        x = self.inception5a.branch4[1].conv(x)
        x = self.inception5a.branch4[1].bn(x)
        x = self.inception5a.branch4[1][2](x)
        x = torch.cat([x1, x2, x3, x], 1)  # inception5a.concat
        x1 = self.inception5b.branch1.conv(x)
        x1 = self.inception5b.branch1.bn(x1)
        x1 = self.inception5b.branch1[2](x1)
        x2 = self.inception5b.branch2[0].conv(x)
        x2 = self.inception5b.branch2[0].bn(x2)
        x2 = self.inception5b.branch2[0][2](x2)
        x2 = self.inception5b.branch2[1].conv(x2)
        x2 = self.inception5b.branch2[1].bn(x2)
        x2 = self.inception5b.branch2[1][2](x2)
        x3 = self.inception5b.branch3[0].conv(x)
        x3 = self.inception5b.branch3[0].bn(x3)
        x3 = self.inception5b.branch3[0][2](x3)
        x3 = self.inception5b.branch3[1].conv(x3)
        x3 = self.inception5b.branch3[1].bn(x3)
        x3 = self.inception5b.branch3[1][2](x3)
        x = self.inception5b.branch4[0](x)
        x = self.inception5b.branch4[1].conv(x)
        x = self.inception5b.branch4[1].bn(x)
        x = self.inception5b.branch4[1][2](x)
        x = torch.cat([x1, x2, x3, x], 1)  # inception5b.concat
        x = self.avgpool(x)
        x = self[17](x)
        x = self[18](x)
        x = self.fc(x)
        return x


if __name__ == "__main__":
    model = GoogLeNet().eval()
    if len(sys.argv) > 1:
        load_weights(model, sys.argv[1])
    with torch.no_grad():
        y = model(torch.zeros(1, *INPUT_SHAPE))
    ys = y if isinstance(y, tuple) else (y,)
    print(f"GoogLeNet: {sum(p.numel() for p in model.parameters()):,} parameters; output {', '.join(str(list(t.shape)) for t in ys)}")
