"""ResNet18 as a PyTorch module, exported by `cnn export` from examples/resnet18.cnn.

state_dict() keys are the names `cnn params` lists, in the same order; the batch norms keep no
num_batches_tracked counter, and load_state_dict() ignores one, so state dicts with it load as well.

    model = ResNet18().eval()
    load_weights(model, "weights.safetensors")   # weights with our names: cnn's, or save_weights(model, ...)
    y = model(torch.randn(1, *INPUT_SHAPE))

forward(x) takes [N, 3, 224, 224] and returns the output [N, 1000].
Run this file to check it: python3 ResNet18.py [WEIGHTS.safetensors]
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


class ResNet18(Scope):
    def __init__(self):
        super().__init__()
        _attach(self, "conv1", nn.Conv2d(3, 64, kernel_size=(7, 7), stride=(2, 2), padding=(3, 3), bias=False))
        _attach(self, "bn1", BatchNorm2d(64))
        _attach(self, "2", nn.ReLU())
        _attach(self, "maxpool", nn.MaxPool2d(kernel_size=(3, 3), stride=(2, 2), padding=(1, 1)))
        _attach(self, "layer1.0.conv1", nn.Conv2d(64, 64, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1), bias=False))
        _attach(self, "layer1.0.bn1", BatchNorm2d(64))
        _attach(self, "layer1.0.2", nn.ReLU())
        _attach(self, "layer1.0.conv2", nn.Conv2d(64, 64, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1), bias=False))
        _attach(self, "layer1.0.bn2", BatchNorm2d(64))
        _attach(self, "layer1.0.5", nn.ReLU())
        _attach(self, "layer1.1.conv1", nn.Conv2d(64, 64, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1), bias=False))
        _attach(self, "layer1.1.bn1", BatchNorm2d(64))
        _attach(self, "layer1.1.2", nn.ReLU())
        _attach(self, "layer1.1.conv2", nn.Conv2d(64, 64, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1), bias=False))
        _attach(self, "layer1.1.bn2", BatchNorm2d(64))
        _attach(self, "layer1.1.5", nn.ReLU())
        _attach(self, "layer2.0.conv1", nn.Conv2d(64, 128, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1), bias=False))
        _attach(self, "layer2.0.bn1", BatchNorm2d(128))
        _attach(self, "layer2.0.2", nn.ReLU())
        _attach(self, "layer2.0.conv2", nn.Conv2d(128, 128, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1), bias=False))
        _attach(self, "layer2.0.bn2", BatchNorm2d(128))
        _attach(self, "layer2.0.downsample.0", nn.Conv2d(64, 128, kernel_size=(1, 1), stride=(2, 2), padding=(0, 0), bias=False))
        _attach(self, "layer2.0.downsample.1", BatchNorm2d(128))
        _attach(self, "layer2.0.5", nn.ReLU())
        _attach(self, "layer2.1.conv1", nn.Conv2d(128, 128, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1), bias=False))
        _attach(self, "layer2.1.bn1", BatchNorm2d(128))
        _attach(self, "layer2.1.2", nn.ReLU())
        _attach(self, "layer2.1.conv2", nn.Conv2d(128, 128, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1), bias=False))
        _attach(self, "layer2.1.bn2", BatchNorm2d(128))
        _attach(self, "layer2.1.5", nn.ReLU())
        _attach(self, "layer3.0.conv1", nn.Conv2d(128, 256, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1), bias=False))
        _attach(self, "layer3.0.bn1", BatchNorm2d(256))
        _attach(self, "layer3.0.2", nn.ReLU())
        _attach(self, "layer3.0.conv2", nn.Conv2d(256, 256, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1), bias=False))
        _attach(self, "layer3.0.bn2", BatchNorm2d(256))
        _attach(self, "layer3.0.downsample.0", nn.Conv2d(128, 256, kernel_size=(1, 1), stride=(2, 2), padding=(0, 0), bias=False))
        _attach(self, "layer3.0.downsample.1", BatchNorm2d(256))
        _attach(self, "layer3.0.5", nn.ReLU())
        _attach(self, "layer3.1.conv1", nn.Conv2d(256, 256, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1), bias=False))
        _attach(self, "layer3.1.bn1", BatchNorm2d(256))
        _attach(self, "layer3.1.2", nn.ReLU())
        _attach(self, "layer3.1.conv2", nn.Conv2d(256, 256, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1), bias=False))
        _attach(self, "layer3.1.bn2", BatchNorm2d(256))
        _attach(self, "layer3.1.5", nn.ReLU())
        _attach(self, "layer4.0.conv1", nn.Conv2d(256, 512, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1), bias=False))
        _attach(self, "layer4.0.bn1", BatchNorm2d(512))
        _attach(self, "layer4.0.2", nn.ReLU())
        _attach(self, "layer4.0.conv2", nn.Conv2d(512, 512, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1), bias=False))
        _attach(self, "layer4.0.bn2", BatchNorm2d(512))
        _attach(self, "layer4.0.downsample.0", nn.Conv2d(256, 512, kernel_size=(1, 1), stride=(2, 2), padding=(0, 0), bias=False))
        _attach(self, "layer4.0.downsample.1", BatchNorm2d(512))
        _attach(self, "layer4.0.5", nn.ReLU())
        _attach(self, "layer4.1.conv1", nn.Conv2d(512, 512, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1), bias=False))
        _attach(self, "layer4.1.bn1", BatchNorm2d(512))
        _attach(self, "layer4.1.2", nn.ReLU())
        _attach(self, "layer4.1.conv2", nn.Conv2d(512, 512, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1), bias=False))
        _attach(self, "layer4.1.bn2", BatchNorm2d(512))
        _attach(self, "layer4.1.5", nn.ReLU())
        _attach(self, "avgpool", nn.AdaptiveAvgPool2d((1, 1)))
        _attach(self, "5", nn.Flatten(1))
        _attach(self, "fc", nn.Linear(512, 1000))

    def forward(self, x):
        x = self.conv1(x)
        x = self.bn1(x)
        x = self[2](x)
        x = self.maxpool(x)
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
        x1 = self.layer3[0].conv1(x)
        x1 = self.layer3[0].bn1(x1)
        x1 = self.layer3[0][2](x1)
        x1 = self.layer3[0].conv2(x1)
        x1 = self.layer3[0].bn2(x1)
        x = self.layer3[0].downsample[0](x)
        x = self.layer3[0].downsample[1](x)
        x = x1 + x  # layer3.0.add
        x = self.layer3[0][5](x)
        x1 = self.layer3[1].conv1(x)
        x1 = self.layer3[1].bn1(x1)
        x1 = self.layer3[1][2](x1)
        x1 = self.layer3[1].conv2(x1)
        x1 = self.layer3[1].bn2(x1)
        x = x1 + x  # layer3.1.add
        x = self.layer3[1][5](x)
        x1 = self.layer4[0].conv1(x)
        x1 = self.layer4[0].bn1(x1)
        x1 = self.layer4[0][2](x1)
        x1 = self.layer4[0].conv2(x1)
        x1 = self.layer4[0].bn2(x1)
        x = self.layer4[0].downsample[0](x)
        x = self.layer4[0].downsample[1](x)
        x = x1 + x  # layer4.0.add
        x = self.layer4[0][5](x)
        x1 = self.layer4[1].conv1(x)
        x1 = self.layer4[1].bn1(x1)
        x1 = self.layer4[1][2](x1)
        x1 = self.layer4[1].conv2(x1)
        x1 = self.layer4[1].bn2(x1)
        x = x1 + x  # layer4.1.add
        x = self.layer4[1][5](x)
        x = self.avgpool(x)
        x = self[5](x)
        x = self.fc(x)
        return x


if __name__ == "__main__":
    model = ResNet18().eval()
    if len(sys.argv) > 1:
        load_weights(model, sys.argv[1])
    with torch.no_grad():
        y = model(torch.zeros(1, *INPUT_SHAPE))
    ys = y if isinstance(y, tuple) else (y,)
    print(f"ResNet18: {sum(p.numel() for p in model.parameters()):,} parameters; output {', '.join(str(list(t.shape)) for t in ys)}")
