"""Kinds as a PyTorch module, exported by `cnn export` from test/golden/cases/layers.cnn.

state_dict() keys are the names `cnn params` lists, in the same order; the batch norms keep no
num_batches_tracked counter, and load_state_dict() ignores one, so state dicts with it load as well.

    model = Kinds().eval()
    load_weights(model, "weights.safetensors")   # weights with our names: cnn's, or save_weights(model, ...)
    y = model(torch.randn(1, *INPUT_SHAPE))

forward(x) takes [N, 3, 37, 29] and returns a tuple: the main output [N, 5], then the aux outputs (20.2) in written order.
Run this file to check it: python3 Kinds.py [WEIGHTS.safetensors]
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


INPUT_SHAPE = (3, 37, 29)
OUTPUT_SHAPES = ((5,), (3,))


class Kinds(Scope):
    def __init__(self):
        super().__init__()
        _attach(self, "0", nn.Conv2d(3, 8, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1)))
        _attach(self, "1", nn.Conv2d(8, 8, kernel_size=(1, 3), stride=(1, 2), padding=(0, 1), groups=2, bias=False))
        _attach(self, "c3", nn.Conv2d(8, 12, kernel_size=(5, 5), stride=(1, 1), padding=(4, 4), dilation=(2, 2)))
        _attach(self, "3", BatchNorm2d(12, eps=0.001))
        _attach(self, "4", nn.ReLU())
        _attach(self, "5", nn.LeakyReLU(0.1))
        _attach(self, "6", nn.Sigmoid())
        _attach(self, "7", nn.Tanh())
        _attach(self, "mp", nn.MaxPool2d(kernel_size=(3, 3), stride=(2, 2), padding=(1, 1), ceil_mode=True))
        _attach(self, "ap", nn.AvgPool2d(kernel_size=(2, 2), stride=(1, 1), padding=(0, 0)))
        _attach(self, "10", nn.AvgPool2d(kernel_size=(3, 3), stride=(2, 2), padding=(1, 1), ceil_mode=True))
        _attach(self, "11", nn.LocalResponseNorm(3, alpha=0.001, beta=0.5, k=1))
        _attach(self, "12", nn.Dropout(0.2))
        _attach(self, "13", nn.AdaptiveAvgPool2d((3, 2)))
        _attach(self, "g.0", nn.Conv2d(12, 6, kernel_size=(1, 1), stride=(1, 1), padding=(0, 0)))
        _attach(self, "g.1", BatchNorm2d(6))
        _attach(self, "g.2", nn.ReLU())
        _attach(self, "14", nn.Conv2d(6, 6, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1)))
        _attach(self, "15", nn.Conv2d(6, 12, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1)))
        _attach(self, "16", nn.Conv2d(6, 12, kernel_size=(1, 1), stride=(2, 2), padding=(0, 0)))
        _attach(self, "17", nn.ReLU())
        _attach(self, "18", nn.Tanh())
        _attach(self, "b3", nn.Conv2d(12, 12, kernel_size=(1, 1), stride=(1, 1), padding=(0, 0)))
        _attach(self, "cat.0", nn.Conv2d(12, 4, kernel_size=(1, 1), stride=(1, 1), padding=(0, 0)))
        _attach(self, "cat.1", nn.MaxPool2d(kernel_size=(1, 1), stride=(1, 1), padding=(0, 0)))
        _attach(self, "20.0", nn.AdaptiveAvgPool2d((1, 1)))
        _attach(self, "20.1", nn.Flatten(1))
        _attach(self, "20.2", nn.Linear(16, 3))
        _attach(self, "21", nn.AdaptiveAvgPool2d((1, 1)))
        _attach(self, "22", nn.Flatten(1))
        _attach(self, "23", BatchNorm1d(16))
        _attach(self, "24", nn.Linear(16, 20))
        _attach(self, "25", nn.Softmax(dim=1))
        _attach(self, "26", nn.Linear(20, 5, bias=False))

    def forward(self, x):
        x = self[0](x)
        x = self[1](x)
        x = self.c3(x)
        x = self[3](x)
        x = self[4](x)
        x = self[5](x)
        x = self[6](x)
        x = self[7](x)
        x = self.mp(x)
        x = self.ap(x)
        x = self[10](x)
        x = self[11](x)
        x = self[12](x)
        x = self[13](x)
        x = self.g[0](x)
        x = self.g[1](x)
        x = self.g[2](x)
        x1 = self[14](x)
        x = x1 + x  # add
        x1 = self[15](x)
        x = self[16](x)
        x = x1 + x  # add1
        x1 = self[17](x)
        x2 = self[18](x)
        x = self.b3(x)
        x = x1 + x2 + x  # add2
        x1 = self.cat[0](x)
        x = self.cat[1](x)
        x = torch.cat([x1, x], 1)  # cat
        x1 = self[20][0](x)
        x1 = self[20][1](x1)
        x1 = self[20][2](x1)
        x = self[21](x)
        x = self[22](x)
        x = self[23](x)
        x = self[24](x)
        x = self[25](x)
        x = self[26](x)
        return x, x1


if __name__ == "__main__":
    model = Kinds().eval()
    if len(sys.argv) > 1:
        load_weights(model, sys.argv[1])
    with torch.no_grad():
        y = model(torch.zeros(1, *INPUT_SHAPE))
    ys = y if isinstance(y, tuple) else (y,)
    print(f"Kinds: {sum(p.numel() for p in model.parameters()):,} parameters; output {', '.join(str(list(t.shape)) for t in ys)}")

# ----
"""Flat as a PyTorch module, exported by `cnn export` from test/golden/cases/layers.cnn.

state_dict() keys are the names `cnn params` lists, in the same order; the batch norms keep no
num_batches_tracked counter, and load_state_dict() ignores one, so state dicts with it load as well.

    model = Flat().eval()
    load_weights(model, "weights.safetensors")   # weights with our names: cnn's, or save_weights(model, ...)
    y = model(torch.randn(1, *INPUT_SHAPE))

forward(x) takes [N, 100] and returns the output [N, 30].
Run this file to check it: python3 Flat.py [WEIGHTS.safetensors]
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


INPUT_SHAPE = (100,)
OUTPUT_SHAPES = ((30,),)


class Flat(Scope):
    def __init__(self):
        super().__init__()
        _attach(self, "0", nn.Linear(100, 50))
        _attach(self, "1", BatchNorm1d(50))
        _attach(self, "2", nn.ReLU())
        _attach(self, "3", nn.Dropout(0.5))
        _attach(self, "4", nn.Linear(50, 10))
        _attach(self, "5", nn.Linear(50, 20))
        _attach(self, "7", nn.ReLU())
        _attach(self, "8", nn.Softmax(dim=1))

    def forward(self, x):
        x = self[0](x)
        x = self[1](x)
        x = self[2](x)
        x = self[3](x)
        x1 = self[4](x)
        x = self[5](x)
        x = torch.cat([x1, x], 1)  # concat
        x1 = self[7](x)
        x = x + x1  # add
        x = self[8](x)
        return x


if __name__ == "__main__":
    model = Flat().eval()
    if len(sys.argv) > 1:
        load_weights(model, sys.argv[1])
    with torch.no_grad():
        y = model(torch.zeros(1, *INPUT_SHAPE))
    ys = y if isinstance(y, tuple) else (y,)
    print(f"Flat: {sum(p.numel() for p in model.parameters()):,} parameters; output {', '.join(str(list(t.shape)) for t in ys)}")

# ----
"""Blocks as a PyTorch module, exported by `cnn export` from test/golden/cases/layers.cnn.

state_dict() keys are the names `cnn params` lists, in the same order; the batch norms keep no
num_batches_tracked counter, and load_state_dict() ignores one, so state dicts with it load as well.

    model = Blocks().eval()
    load_weights(model, "weights.safetensors")   # weights with our names: cnn's, or save_weights(model, ...)
    y = model(torch.randn(1, *INPUT_SHAPE))

forward(x) takes [N, 3, 64, 64] and returns the output [N, 10].
Run this file to check it: python3 Blocks.py [WEIGHTS.safetensors]
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


INPUT_SHAPE = (3, 64, 64)
OUTPUT_SHAPES = ((10,),)


class Blocks(Scope):
    def __init__(self):
        super().__init__()
        _attach(self, "stem", nn.Conv2d(3, 16, kernel_size=(7, 7), stride=(2, 2), padding=(3, 3), bias=False))
        _attach(self, "layer1.0.conv1", nn.Conv2d(16, 8, kernel_size=(1, 1), stride=(1, 1), padding=(0, 0), bias=False))
        _attach(self, "layer1.0.bn1", BatchNorm2d(8))
        _attach(self, "layer1.0.2", nn.ReLU())
        _attach(self, "layer1.0.conv2", nn.Conv2d(8, 16, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1), bias=False))
        _attach(self, "layer1.0.bn2", BatchNorm2d(16))
        _attach(self, "layer1.0.5", nn.ReLU())
        _attach(self, "layer1.1.conv1", nn.Conv2d(16, 8, kernel_size=(1, 1), stride=(1, 1), padding=(0, 0), bias=False))
        _attach(self, "layer1.1.bn1", BatchNorm2d(8))
        _attach(self, "layer1.1.2", nn.ReLU())
        _attach(self, "layer1.1.conv2", nn.Conv2d(8, 16, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1), bias=False))
        _attach(self, "layer1.1.bn2", BatchNorm2d(16))
        _attach(self, "layer1.1.5", nn.ReLU())
        _attach(self, "layer2.0.conv1", nn.Conv2d(16, 16, kernel_size=(1, 1), stride=(1, 1), padding=(0, 0), bias=False))
        _attach(self, "layer2.0.bn1", BatchNorm2d(16))
        _attach(self, "layer2.0.2", nn.ReLU())
        _attach(self, "layer2.0.conv2", nn.Conv2d(16, 32, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1), bias=False))
        _attach(self, "layer2.0.bn2", BatchNorm2d(32))
        _attach(self, "layer2.0.downsample.0", nn.Conv2d(16, 32, kernel_size=(1, 1), stride=(2, 2), padding=(0, 0), bias=False))
        _attach(self, "layer2.0.downsample.1", BatchNorm2d(32))
        _attach(self, "layer2.0.5", nn.ReLU())
        _attach(self, "layer2.1.conv1", nn.Conv2d(32, 16, kernel_size=(1, 1), stride=(1, 1), padding=(0, 0), bias=False))
        _attach(self, "layer2.1.bn1", BatchNorm2d(16))
        _attach(self, "layer2.1.2", nn.ReLU())
        _attach(self, "layer2.1.conv2", nn.Conv2d(16, 32, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1), bias=False))
        _attach(self, "layer2.1.bn2", BatchNorm2d(32))
        _attach(self, "layer2.1.5", nn.ReLU())
        _attach(self, "1.conv1", nn.Conv2d(32, 16, kernel_size=(1, 1), stride=(1, 1), padding=(0, 0), bias=False))
        _attach(self, "1.bn1", BatchNorm2d(16))
        _attach(self, "1.2", nn.ReLU())
        _attach(self, "1.conv2", nn.Conv2d(16, 32, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1), bias=False))
        _attach(self, "1.bn2", BatchNorm2d(32))
        _attach(self, "1.5", nn.ReLU())
        _attach(self, "2.conv1", nn.Conv2d(32, 16, kernel_size=(1, 1), stride=(1, 1), padding=(0, 0), bias=False))
        _attach(self, "2.bn1", BatchNorm2d(16))
        _attach(self, "2.2", nn.ReLU())
        _attach(self, "2.conv2", nn.Conv2d(16, 32, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1), bias=False))
        _attach(self, "2.bn2", BatchNorm2d(32))
        _attach(self, "2.5", nn.ReLU())
        _attach(self, "3", nn.Conv2d(32, 5, kernel_size=(1, 1), stride=(1, 1), padding=(0, 0)))
        _attach(self, "4", nn.AdaptiveAvgPool2d((1, 1)))
        _attach(self, "5", nn.Flatten(1))
        _attach(self, "head", nn.Linear(5, 10))

    def forward(self, x):
        x = self.stem(x)
        x1 = self.layer1[0].conv1(x)
        x1 = self.layer1[0].bn1(x1)
        x1 = self.layer1[0][2](x1)
        x1 = self.layer1[0].conv2(x1)
        x1 = self.layer1[0].bn2(x1)
        x = x1 + x  # layer1.0.add
        x = self.layer1[0][5](x)
        x1 = self.layer1[1].conv1(x)
        x1 = self.layer1[1].bn1(x1)
        x1 = self.layer1[1][2](x1)
        x1 = self.layer1[1].conv2(x1)
        x1 = self.layer1[1].bn2(x1)
        x = x1 + x  # layer1.1.add
        x = self.layer1[1][5](x)
        x1 = self.layer2[0].conv1(x)
        x1 = self.layer2[0].bn1(x1)
        x1 = self.layer2[0][2](x1)
        x1 = self.layer2[0].conv2(x1)
        x1 = self.layer2[0].bn2(x1)
        x = self.layer2[0].downsample[0](x)
        x = self.layer2[0].downsample[1](x)
        x = x1 + x  # layer2.0.add
        x = self.layer2[0][5](x)
        x1 = self.layer2[1].conv1(x)
        x1 = self.layer2[1].bn1(x1)
        x1 = self.layer2[1][2](x1)
        x1 = self.layer2[1].conv2(x1)
        x1 = self.layer2[1].bn2(x1)
        x = x1 + x  # layer2.1.add
        x = self.layer2[1][5](x)
        x1 = self[1].conv1(x)
        x1 = self[1].bn1(x1)
        x1 = self[1][2](x1)
        x1 = self[1].conv2(x1)
        x1 = self[1].bn2(x1)
        x = x1 + x  # 1.add
        x = self[1][5](x)
        x1 = self[2].conv1(x)
        x1 = self[2].bn1(x1)
        x1 = self[2][2](x1)
        x1 = self[2].conv2(x1)
        x1 = self[2].bn2(x1)
        x = x1 + x  # 2.add
        x = self[2][5](x)
        x = self[3](x)
        x = self[4](x)
        x = self[5](x)
        x = self.head(x)
        return x


if __name__ == "__main__":
    model = Blocks().eval()
    if len(sys.argv) > 1:
        load_weights(model, sys.argv[1])
    with torch.no_grad():
        y = model(torch.zeros(1, *INPUT_SHAPE))
    ys = y if isinstance(y, tuple) else (y,)
    print(f"Blocks: {sum(p.numel() for p in model.parameters()):,} parameters; output {', '.join(str(list(t.shape)) for t in ys)}")
