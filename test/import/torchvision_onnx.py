"""Exports torchvision models (random weights, never downloaded) to ONNX for test/import.

Reads a JSON list of jobs on stdin: {"id", "model", "kwargs", "size", "opset", "batch",
"randomize_bn", "seed", "dir"}; for each writes DIR/ID.onnx, DIR/ID.input.bin and
DIR/ID.output.bin (float32, C order, [batch, ...]) and prints one JSON object per job:
{"id", "macs", "params", "output_shape", "keys"} (the state_dict's keys, in order). MACs count conv and linear multiply-accumulates with
forward hooks at the export's input size, the convention torchvision publishes.
"""
import json
import sys
import warnings

import torch
import torchvision

warnings.filterwarnings("ignore")


def count_macs(model, x):
    total = [0]

    def conv_hook(m, inp, out):
        k = m.kernel_size[0] * m.kernel_size[1]
        total[0] += out[0].numel() * (m.in_channels // m.groups) * k

    def linear_hook(m, inp, out):
        # At every position it runs at (ConvNeXt's nn.Linear on channels-last maps), as a 1x1 conv counts.
        total[0] += out[0].numel() * m.in_features

    hooks = []
    for m in model.modules():
        if isinstance(m, torch.nn.Conv2d):
            hooks.append(m.register_forward_hook(conv_hook))
        elif isinstance(m, torch.nn.Linear):
            hooks.append(m.register_forward_hook(linear_hook))
    with torch.no_grad():
        model(x[:1])
    for h in hooks:
        h.remove()
    return total[0]


def main():
    jobs = json.load(sys.stdin)
    for job in jobs:
        torch.manual_seed(job.get("seed", 0))
        model = getattr(torchvision.models, job["model"])(**job.get("kwargs", {}))
        if job.get("randomize_bn", True):
            # Trained-looking statistics, so that folded and kept batch norms both matter.
            with torch.no_grad():
                for m in model.modules():
                    if isinstance(m, torch.nn.BatchNorm2d):
                        m.weight.uniform_(0.5, 1.5)
                        m.bias.normal_(0, 0.2)
                        m.running_mean.normal_(0, 0.2)
                        m.running_var.uniform_(0.5, 1.5)
        model.eval()
        size = job["size"]
        x = torch.rand(job.get("batch", 2), 3, size, size) * 2 - 1
        path = f"{job['dir']}/{job['id']}"
        torch.onnx.export(
            model,
            x,
            f"{path}.onnx",
            opset_version=job.get("opset", 17),
            input_names=["input"],
            output_names=["output"],
            dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}},
        )
        with torch.no_grad():
            y = model(x)
        x.numpy().astype("<f4").tofile(f"{path}.input.bin")
        y.numpy().astype("<f4").tofile(f"{path}.output.bin")
        print(
            json.dumps(
                {
                    "id": job["id"],
                    "macs": count_macs(model, x),
                    "params": sum(p.numel() for p in model.parameters()),
                    "output_shape": list(y.shape[1:]),
                    "keys": list(model.state_dict().keys()),
                }
            ),
            flush=True,
        )


if __name__ == "__main__":
    main()
