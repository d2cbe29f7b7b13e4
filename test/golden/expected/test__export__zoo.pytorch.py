"""Zoo as a PyTorch module, exported by `cnn export` from test/export/zoo.cnn.

state_dict() keys are the names `cnn params` lists, in the same order; the batch norms keep no
num_batches_tracked counter, and load_state_dict() ignores one, so state dicts with it load as well.

    model = Zoo().eval()
    load_weights(model, "weights.safetensors")   # weights with our names: cnn's, or save_weights(model, ...)
    y = model(torch.randn(1, *INPUT_SHAPE))

forward(x) takes [N, 3, 23, 21] and returns a tuple: the main output [N, 7], then the aux outputs (4.3) in written order.
Run this file to check it: python3 Zoo.py [WEIGHTS.safetensors]
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


INPUT_SHAPE = (3, 23, 21)
OUTPUT_SHAPES = ((7,), (4,))


class Zoo(Scope):
    def __init__(self):
        super().__init__()
        _attach(self, "c1", nn.Conv2d(3, 8, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1)))
        _attach(self, "pool1", nn.AvgPool2d(kernel_size=(3, 3), stride=(2, 2), padding=(1, 1), ceil_mode=True))
        _attach(self, "lrn1", nn.LocalResponseNorm(4, alpha=0.01, beta=0.6, k=1.5))
        _attach(self, "lrn2", nn.LocalResponseNorm(3, alpha=0.0001, beta=0.75, k=2))
        _attach(self, "4.0", nn.AdaptiveAvgPool2d((1, 1)))
        _attach(self, "4.1", nn.Flatten(1))
        _attach(self, "4.head", nn.Linear(8, 4))
        _attach(self, "4.3", nn.Sigmoid())
        _attach(self, "5.0", nn.Conv2d(8, 8, kernel_size=(3, 3), stride=(1, 1), padding=(2, 2), dilation=(2, 2), groups=2))
        _attach(self, "5.1", BatchNorm2d(8, eps=0.001))
        _attach(self, "5.2", nn.LeakyReLU(0.2))
        _attach(self, "6", nn.Tanh())
        _attach(self, "7", nn.Conv2d(8, 8, kernel_size=(1, 1), stride=(1, 1), padding=(0, 0), bias=False))
        _attach(self, "mp", nn.MaxPool2d(kernel_size=(2, 2), stride=(2, 2), padding=(0, 0), ceil_mode=True))
        _attach(self, "ap2", nn.AvgPool2d(kernel_size=(2, 2), stride=(2, 2), padding=(0, 0), ceil_mode=True))
        _attach(self, "10", nn.AdaptiveAvgPool2d((3, 2)))
        _attach(self, "11", nn.Softmax(dim=1))
        _attach(self, "12", nn.ReLU())
        _attach(self, "13", nn.Sigmoid())
        _attach(self, "14", nn.Flatten(1))
        _attach(self, "15", nn.Dropout(0.3))
        _attach(self, "fcbn", BatchNorm1d(96))
        _attach(self, "fc", nn.Linear(96, 7, bias=False))

    def forward(self, x):
        x = self.c1(x)
        x = self.pool1(x)
        x = self.lrn1(x)
        x = self.lrn2(x)
        x1 = self[4][0](x)
        x1 = self[4][1](x1)
        x1 = self[4].head(x1)
        x1 = self[4][3](x1)
        x2 = self[5][0](x)
        x2 = self[5][1](x2)
        x2 = self[5][2](x2)
        x3 = self[6](x)
        x = self[7](x)
        x = x2 + x3 + x  # add
        x = self.mp(x)
        x = self.ap2(x)
        x = self[10](x)
        x = self[11](x)
        x2 = self[12](x)
        x = self[13](x)
        x = torch.cat([x2, x], 1)  # concat
        x = self[14](x)
        x = self[15](x)
        x = self.fcbn(x)
        x = self.fc(x)
        return x, x1


if __name__ == "__main__":
    model = Zoo().eval()
    if len(sys.argv) > 1:
        load_weights(model, sys.argv[1])
    with torch.no_grad():
        y = model(torch.zeros(1, *INPUT_SHAPE))
    ys = y if isinstance(y, tuple) else (y,)
    print(f"Zoo: {sum(p.numel() for p in model.parameters()):,} parameters; output {', '.join(str(list(t.shape)) for t in ys)}")

# ----
"""CeilPools as a PyTorch module, exported by `cnn export` from test/export/zoo.cnn.

state_dict() keys are the names `cnn params` lists, in the same order.

    model = CeilPools().eval()
    load_weights(model, "weights.safetensors")   # weights with our names: cnn's, or save_weights(model, ...)
    y = model(torch.randn(1, *INPUT_SHAPE))

forward(x) takes [N, 3, 4, 7] and returns the output [N, 6, 2, 3].
Run this file to check it: python3 CeilPools.py [WEIGHTS.safetensors]
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


INPUT_SHAPE = (3, 4, 7)
OUTPUT_SHAPES = ((6, 2, 3),)


class CeilPools(Scope):
    def __init__(self):
        super().__init__()
        _attach(self, "0", nn.MaxPool2d(kernel_size=(2, 2), stride=(3, 3), padding=(1, 1), ceil_mode=True))
        _attach(self, "1", nn.AvgPool2d(kernel_size=(2, 2), stride=(3, 3), padding=(1, 1), ceil_mode=True))

    def forward(self, x):
        x1 = self[0](x)
        x = self[1](x)
        x = torch.cat([x1, x], 1)  # concat
        return x


if __name__ == "__main__":
    model = CeilPools().eval()
    if len(sys.argv) > 1:
        load_weights(model, sys.argv[1])
    with torch.no_grad():
        y = model(torch.zeros(1, *INPUT_SHAPE))
    ys = y if isinstance(y, tuple) else (y,)
    print(f"CeilPools: {sum(p.numel() for p in model.parameters()):,} parameters; output {', '.join(str(list(t.shape)) for t in ys)}")

# ----
"""AdaptiveUneven as a PyTorch module, exported by `cnn export` from test/export/zoo.cnn.

state_dict() keys are the names `cnn params` lists, in the same order.

    model = AdaptiveUneven().eval()
    load_weights(model, "weights.safetensors")   # weights with our names: cnn's, or save_weights(model, ...)
    y = model(torch.randn(1, *INPUT_SHAPE))

forward(x) takes [N, 4, 7, 5] and returns the output [N, 4, 3, 2].
Run this file to check it: python3 AdaptiveUneven.py [WEIGHTS.safetensors]
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


INPUT_SHAPE = (4, 7, 5)
OUTPUT_SHAPES = ((4, 3, 2),)


class AdaptiveUneven(Scope):
    def __init__(self):
        super().__init__()
        _attach(self, "0", nn.AdaptiveAvgPool2d((3, 2)))

    def forward(self, x):
        x = self[0](x)
        return x


if __name__ == "__main__":
    model = AdaptiveUneven().eval()
    if len(sys.argv) > 1:
        load_weights(model, sys.argv[1])
    with torch.no_grad():
        y = model(torch.zeros(1, *INPUT_SHAPE))
    ys = y if isinstance(y, tuple) else (y,)
    print(f"AdaptiveUneven: {sum(p.numel() for p in model.parameters()):,} parameters; output {', '.join(str(list(t.shape)) for t in ys)}")

# ----
"""AdaptiveEven as a PyTorch module, exported by `cnn export` from test/export/zoo.cnn.

state_dict() keys are the names `cnn params` lists, in the same order.

    model = AdaptiveEven().eval()
    load_weights(model, "weights.safetensors")   # weights with our names: cnn's, or save_weights(model, ...)
    y = model(torch.randn(1, *INPUT_SHAPE))

forward(x) takes [N, 4, 6, 4] and returns the output [N, 4, 3, 2].
Run this file to check it: python3 AdaptiveEven.py [WEIGHTS.safetensors]
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


INPUT_SHAPE = (4, 6, 4)
OUTPUT_SHAPES = ((4, 3, 2),)


class AdaptiveEven(Scope):
    def __init__(self):
        super().__init__()
        _attach(self, "0", nn.AdaptiveAvgPool2d((3, 2)))

    def forward(self, x):
        x = self[0](x)
        return x


if __name__ == "__main__":
    model = AdaptiveEven().eval()
    if len(sys.argv) > 1:
        load_weights(model, sys.argv[1])
    with torch.no_grad():
        y = model(torch.zeros(1, *INPUT_SHAPE))
    ys = y if isinstance(y, tuple) else (y,)
    print(f"AdaptiveEven: {sum(p.numel() for p in model.parameters()):,} parameters; output {', '.join(str(list(t.shape)) for t in ys)}")

# ----
"""AdaptiveSame as a PyTorch module, exported by `cnn export` from test/export/zoo.cnn.

state_dict() keys are the names `cnn params` lists, in the same order.

    model = AdaptiveSame().eval()
    load_weights(model, "weights.safetensors")   # weights with our names: cnn's, or save_weights(model, ...)
    y = model(torch.randn(1, *INPUT_SHAPE))

forward(x) takes [N, 4, 5, 5] and returns the output [N, 4, 5, 5].
Run this file to check it: python3 AdaptiveSame.py [WEIGHTS.safetensors]
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


INPUT_SHAPE = (4, 5, 5)
OUTPUT_SHAPES = ((4, 5, 5),)


class AdaptiveSame(Scope):
    def __init__(self):
        super().__init__()
        _attach(self, "0", nn.AdaptiveAvgPool2d((5, 5)))

    def forward(self, x):
        x = self[0](x)
        return x


if __name__ == "__main__":
    model = AdaptiveSame().eval()
    if len(sys.argv) > 1:
        load_weights(model, sys.argv[1])
    with torch.no_grad():
        y = model(torch.zeros(1, *INPUT_SHAPE))
    ys = y if isinstance(y, tuple) else (y,)
    print(f"AdaptiveSame: {sum(p.numel() for p in model.parameters()):,} parameters; output {', '.join(str(list(t.shape)) for t in ys)}")

# ----
"""LrnEven as a PyTorch module, exported by `cnn export` from test/export/zoo.cnn.

state_dict() keys are the names `cnn params` lists, in the same order.

    model = LrnEven().eval()
    load_weights(model, "weights.safetensors")   # weights with our names: cnn's, or save_weights(model, ...)
    y = model(torch.randn(1, *INPUT_SHAPE))

forward(x) takes [N, 6, 3, 3] and returns the output [N, 6, 3, 3].
Run this file to check it: python3 LrnEven.py [WEIGHTS.safetensors]
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


INPUT_SHAPE = (6, 3, 3)
OUTPUT_SHAPES = ((6, 3, 3),)


class LrnEven(Scope):
    def __init__(self):
        super().__init__()
        _attach(self, "0", nn.LocalResponseNorm(4, alpha=0.5, beta=0.75, k=1))

    def forward(self, x):
        x = self[0](x)
        return x


if __name__ == "__main__":
    model = LrnEven().eval()
    if len(sys.argv) > 1:
        load_weights(model, sys.argv[1])
    with torch.no_grad():
        y = model(torch.zeros(1, *INPUT_SHAPE))
    ys = y if isinstance(y, tuple) else (y,)
    print(f"LrnEven: {sum(p.numel() for p in model.parameters()):,} parameters; output {', '.join(str(list(t.shape)) for t in ys)}")

# ----
"""LrnOdd as a PyTorch module, exported by `cnn export` from test/export/zoo.cnn.

state_dict() keys are the names `cnn params` lists, in the same order.

    model = LrnOdd().eval()
    load_weights(model, "weights.safetensors")   # weights with our names: cnn's, or save_weights(model, ...)
    y = model(torch.randn(1, *INPUT_SHAPE))

forward(x) takes [N, 6, 3, 3] and returns the output [N, 6, 3, 3].
Run this file to check it: python3 LrnOdd.py [WEIGHTS.safetensors]
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


INPUT_SHAPE = (6, 3, 3)
OUTPUT_SHAPES = ((6, 3, 3),)


class LrnOdd(Scope):
    def __init__(self):
        super().__init__()
        _attach(self, "0", nn.LocalResponseNorm(5, alpha=0.5, beta=0.75, k=2))

    def forward(self, x):
        x = self[0](x)
        return x


if __name__ == "__main__":
    model = LrnOdd().eval()
    if len(sys.argv) > 1:
        load_weights(model, sys.argv[1])
    with torch.no_grad():
        y = model(torch.zeros(1, *INPUT_SHAPE))
    ys = y if isinstance(y, tuple) else (y,)
    print(f"LrnOdd: {sum(p.numel() for p in model.parameters()):,} parameters; output {', '.join(str(list(t.shape)) for t in ys)}")

# ----
"""SpatialSoftmax as a PyTorch module, exported by `cnn export` from test/export/zoo.cnn.

state_dict() keys are the names `cnn params` lists, in the same order.

    model = SpatialSoftmax().eval()
    load_weights(model, "weights.safetensors")   # weights with our names: cnn's, or save_weights(model, ...)
    y = model(torch.randn(1, *INPUT_SHAPE))

forward(x) takes [N, 5, 3, 2] and returns the output [N, 4, 3, 2].
Run this file to check it: python3 SpatialSoftmax.py [WEIGHTS.safetensors]
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


INPUT_SHAPE = (5, 3, 2)
OUTPUT_SHAPES = ((4, 3, 2),)


class SpatialSoftmax(Scope):
    def __init__(self):
        super().__init__()
        _attach(self, "0", nn.Conv2d(5, 4, kernel_size=(1, 1), stride=(1, 1), padding=(0, 0)))
        _attach(self, "1", nn.Softmax(dim=1))

    def forward(self, x):
        x = self[0](x)
        x = self[1](x)
        return x


if __name__ == "__main__":
    model = SpatialSoftmax().eval()
    if len(sys.argv) > 1:
        load_weights(model, sys.argv[1])
    with torch.no_grad():
        y = model(torch.zeros(1, *INPUT_SHAPE))
    ys = y if isinstance(y, tuple) else (y,)
    print(f"SpatialSoftmax: {sum(p.numel() for p in model.parameters()):,} parameters; output {', '.join(str(list(t.shape)) for t in ys)}")

# ----
"""Activations as a PyTorch module, exported by `cnn export` from test/export/zoo.cnn.

state_dict() keys are the names `cnn params` lists, in the same order.

    model = Activations().eval()
    load_weights(model, "weights.safetensors")   # weights with our names: cnn's, or save_weights(model, ...)
    y = model(torch.randn(1, *INPUT_SHAPE))

forward(x) takes [N, 4, 3, 3] and returns the output [N, 4, 3, 3].
Run this file to check it: python3 Activations.py [WEIGHTS.safetensors]
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


INPUT_SHAPE = (4, 3, 3)
OUTPUT_SHAPES = ((4, 3, 3),)


class Activations(Scope):
    def __init__(self):
        super().__init__()
        _attach(self, "0", nn.LeakyReLU(0.1))
        _attach(self, "1", nn.Sigmoid())
        _attach(self, "2", nn.Tanh())
        _attach(self, "3", nn.ReLU())

    def forward(self, x):
        x1 = self[0](x)
        x2 = self[1](x)
        x3 = self[2](x)
        x = self[3](x)
        x = x1 + x2 + x3 + x  # add
        return x


if __name__ == "__main__":
    model = Activations().eval()
    if len(sys.argv) > 1:
        load_weights(model, sys.argv[1])
    with torch.no_grad():
        y = model(torch.zeros(1, *INPUT_SHAPE))
    ys = y if isinstance(y, tuple) else (y,)
    print(f"Activations: {sum(p.numel() for p in model.parameters()):,} parameters; output {', '.join(str(list(t.shape)) for t in ys)}")

# ----
"""Flat as a PyTorch module, exported by `cnn export` from test/export/zoo.cnn.

state_dict() keys are the names `cnn params` lists, in the same order; the batch norms keep no
num_batches_tracked counter, and load_state_dict() ignores one, so state dicts with it load as well.

    model = Flat().eval()
    load_weights(model, "weights.safetensors")   # weights with our names: cnn's, or save_weights(model, ...)
    y = model(torch.randn(1, *INPUT_SHAPE))

forward(x) takes [N, 6] and returns the output [N, 3].
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


INPUT_SHAPE = (6,)
OUTPUT_SHAPES = ((3,),)


class Flat(Scope):
    def __init__(self):
        super().__init__()
        _attach(self, "fc", nn.Linear(6, 3))
        _attach(self, "1", BatchNorm1d(3))
        _attach(self, "2", nn.ReLU())
        _attach(self, "3", nn.Softmax(dim=1))

    def forward(self, x):
        x = self.fc(x)
        x = self[1](x)
        x = self[2](x)
        x = self[3](x)
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
"""Passthrough as a PyTorch module, exported by `cnn export` from test/export/zoo.cnn.

state_dict() keys are the names `cnn params` lists, in the same order.

    model = Passthrough().eval()
    load_weights(model, "weights.safetensors")   # weights with our names: cnn's, or save_weights(model, ...)
    y = model(torch.randn(1, *INPUT_SHAPE))

forward(x) takes [N, 2, 4, 4] and returns a tuple: the main output [N, 2, 4, 4], then the aux outputs (0) in written order.
Run this file to check it: python3 Passthrough.py [WEIGHTS.safetensors]
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


INPUT_SHAPE = (2, 4, 4)
OUTPUT_SHAPES = ((2, 4, 4), (2, 4, 4))


class Passthrough(Scope):
    def __init__(self):
        super().__init__()
        _attach(self, "0", nn.ReLU())

    def forward(self, x):
        x1 = self[0](x)
        return x, x1


if __name__ == "__main__":
    model = Passthrough().eval()
    if len(sys.argv) > 1:
        load_weights(model, sys.argv[1])
    with torch.no_grad():
        y = model(torch.zeros(1, *INPUT_SHAPE))
    ys = y if isinstance(y, tuple) else (y,)
    print(f"Passthrough: {sum(p.numel() for p in model.parameters()):,} parameters; output {', '.join(str(list(t.shape)) for t in ys)}")
