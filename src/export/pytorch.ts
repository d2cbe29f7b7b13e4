/**
 * The network as a self-contained Python file: an `nn.Module` subclass whose `state_dict()` keys
 * are our parameter names, in definition order, with helpers that read and write safetensors
 * files without the `safetensors` package. See docs/export.md.
 *
 * Every layer is a registered submodule at its path (containers named `Scope` stand for the
 * prefixes, so `layer1.0.conv1.weight` exists), except `scale`, a bare parameter of the Scope
 * its prefix names (torchvision's `layer_scale`); merges are expressions in `forward`.
 */
import type { NetworkAnalysis } from '../analysis';
import type { GraphNode } from '../graph/types';
import { dispatch, isPointwise, type KindTable, type LayerAttrs } from '../layers';
import { ExportError, knownShapes } from './common';

export interface PytorchExportOptions {
  /** The .cnn file, named in the docstring. */
  source?: string;
}

const PY_KEYWORDS = new Set(
  'False None True and as assert async await break class continue def del elif else except finally for from global if import in is lambda nonlocal not or pass raise return try while with yield'.split(' '),
);

/**
 * Attribute names of torch.nn.Module (torch 1.13 to 2.x): `add_module` refuses a child of such a
 * name, so a label like `train` or `forward` cannot become a submodule.
 */
const MODULE_ATTRIBUTES = new Set(
  ('add_module apply bfloat16 buffers call_super_init children compile cpu cuda double dump_patches eval extra_repr float forward ' +
    'get_buffer get_extra_state get_parameter get_submodule half ipu load_state_dict modules mtia named_buffers named_children ' +
    'named_modules named_parameters parameters register_backward_hook register_buffer register_forward_hook ' +
    'register_forward_pre_hook register_full_backward_hook register_full_backward_pre_hook register_load_state_dict_post_hook ' +
    'register_load_state_dict_pre_hook register_module register_parameter register_state_dict_post_hook register_state_dict_pre_hook ' +
    'requires_grad_ set_extra_state set_submodule share_memory state_dict to to_empty train training type xpu zero_grad T_destination').split(' '),
);

/** Names the generated file defines at top level; a network class may not take one. */
const FILE_NAMES = new Set([
  ...['Scope', 'BatchNorm1d', 'BatchNorm2d', 'load_safetensors', 'save_safetensors', 'load_weights', 'save_weights', 'INPUT_SHAPE', 'OUTPUT_SHAPES', 'json', 'struct', 'sys', 'torch', 'nn'],
  ...['LayerNorm2d', 'ChannelShuffle', 'ChannelSlice', 'PointwiseLinear'],
]);

const isIdentifier = (s: string) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(s) && !PY_KEYWORDS.has(s);

/** A Python number literal; JavaScript's shortest round-trip form is valid Python (`0.001`, `1e-7`). */
function num(v: number): string {
  if (!Number.isFinite(v)) throw new ExportError(`cannot write ${v} as a Python number`);
  return String(v);
}

/** A Python float literal: torch.full takes its dtype from the value, and an int would make an int64 tensor. */
function float(v: number): string {
  const s = num(v);
  return /[.e]/.test(s) ? s : `${s}.0`;
}

const pair = (p: readonly number[]) => `(${p[0]}, ${p[1]})`;
const pyString = (s: string) => JSON.stringify(s);

/** The Python expression for the submodule at `path`: `self.layer1[0].conv1`. */
function moduleRef(path: string): string {
  let expr = 'self';
  for (const seg of path.split('.')) expr += isIdentifier(seg) ? `.${seg}` : /^\d+$/.test(seg) ? `[${seg}]` : `[${pyString(seg)}]`;
  return expr;
}

/** The Python expression for the bare parameter at `path`: `self.features[1][0].layer_scale`. */
function parameterRef(path: string): string {
  const dot = path.lastIndexOf('.');
  const parent = dot < 0 ? 'self' : moduleRef(path.slice(0, dot));
  const name = path.slice(dot + 1);
  return isIdentifier(name) ? `${parent}.${name}` : `getattr(${parent}, ${pyString(name)})`;
}

function checkPath(node: GraphNode): void {
  for (const seg of node.path.split('.')) {
    if (seg === '') throw new ExportError(`layer path '${node.path}' has an empty segment`);
    if (MODULE_ATTRIBUTES.has(seg) || seg.startsWith('_')) {
      throw new ExportError(`'${node.path}': '${seg}' is an attribute of torch.nn.Module, so PyTorch cannot name a submodule so; rename the label`);
    }
  }
}

/**
 * Each kind in PyTorch: the constructor of its submodule (from its input's shape), or, for
 * merges and the input, an expression of its inputs' variables in `forward` (null: no code).
 * Complete by type.
 */
type PytorchEntry = (
  attrs: LayerAttrs,
  inShape: number[],
) => { module: string; needs?: PreludeClass } | { forward: (args: string[]) => string | null } | { parameter: string; forward: (args: string[], parameter: string) => string };

const mod = (module: string, needs?: PreludeClass) => (needs ? { module, needs } : { module });

const PYTORCH_MODULES = {
  input: () => ({ forward: () => null }),
  add: () => ({ forward: (args: string[]) => args.join(' + ') }),
  mul: () => ({ forward: (args: string[]) => args.join(' * ') }),
  concat: () => ({ forward: (args: string[]) => `torch.cat([${args.join(', ')}], 1)` }),
  conv(a, inShape) {
    const args = [`${inShape[0]}`, `${a.out}`, `kernel_size=${pair(a.kernel)}`, `stride=${pair(a.stride)}`, `padding=${pair(a.padding)}`];
    if (a.dilation[0] !== 1 || a.dilation[1] !== 1) args.push(`dilation=${pair(a.dilation)}`);
    if (a.groups !== 1) args.push(`groups=${a.groups}`);
    if (!a.bias) args.push('bias=False');
    return mod(`nn.Conv2d(${args.join(', ')})`);
  },
  linear: (a, inShape) =>
    isPointwise(a, inShape)
      ? mod(`PointwiseLinear(${inShape[0]}, ${a.out}${a.bias ? '' : ', bias=False'})`, 'PointwiseLinear')
      : mod(`nn.Linear(${inShape.reduce((x, y) => x * y, 1)}, ${a.out}${a.bias ? '' : ', bias=False'})`),
  bn: (a, inShape) => mod(`BatchNorm${inShape.length === 3 ? '2d' : '1d'}(${inShape[0]}${a.eps === 1e-5 ? '' : `, eps=${num(a.eps)}`})`),
  relu: () => mod('nn.ReLU()'),
  sigmoid: () => mod('nn.Sigmoid()'),
  tanh: () => mod('nn.Tanh()'),
  leakyrelu: (a) => mod(`nn.LeakyReLU(${num(a.slope)})`),
  softmax: () => mod('nn.Softmax(dim=1)'),
  // AvgPool2d counts padding by default (count_include_pad=True), as the language does.
  maxpool: (a) => mod(`nn.MaxPool2d(${poolArgs(a)})`),
  avgpool: (a) => mod(`nn.AvgPool2d(${poolArgs(a)})`),
  gap: () => mod('nn.AdaptiveAvgPool2d((1, 1))'),
  adaptiveavgpool: (a) => mod(`nn.AdaptiveAvgPool2d(${pair(a.size)})`),
  lrn: (a) => mod(`nn.LocalResponseNorm(${a.size}, alpha=${num(a.alpha)}, beta=${num(a.beta)}, k=${num(a.k)})`),
  dropout: (a) => mod(`nn.Dropout(${num(a.p)})`),
  flatten: () => mod('nn.Flatten(1)'),
  layernorm: (a, inShape) => {
    const eps = a.eps === 1e-5 ? '' : `, eps=${num(a.eps)}`;
    return inShape.length === 3 ? mod(`LayerNorm2d(${inShape[0]}${eps})`, 'LayerNorm2d') : mod(`nn.LayerNorm(${inShape[0]}${eps})`);
  },
  groupnorm: (a, inShape) => mod(`nn.GroupNorm(${a.groups}, ${inShape[0]}${a.eps === 1e-5 ? '' : `, eps=${num(a.eps)}`})`),
  // A bare parameter of the enclosing module, as torchvision's CNBlock.layer_scale.
  scale: (a, inShape) => ({
    parameter: `nn.Parameter(torch.full(${inShape.length === 3 ? `(${inShape[0]}, 1, 1)` : `(${inShape[0]},)`}, ${float(a.init)}))`,
    forward: (args, parameter) => `${args[0]} * ${parameter}`,
  }),
  shuffle: (a) => mod(`ChannelShuffle(${a.groups})`, 'ChannelShuffle'),
  slice: (a, inShape) => mod(`ChannelSlice(${a.start}, ${a.end ?? inShape[0]})`, 'ChannelSlice'),
  relu6: () => mod('nn.ReLU6()'),
  hardswish: () => mod('nn.Hardswish()'),
  hardsigmoid: () => mod('nn.Hardsigmoid()'),
  silu: () => mod('nn.SiLU()'),
  gelu: (a) => mod(a.approximate === 'tanh' ? "nn.GELU(approximate='tanh')" : 'nn.GELU()'),
  identity: () => mod('nn.Identity()'),
  upsample(a) {
    // A float factor, as nn.Upsample documents it; PyTorch then computes with 1/factor, as the engines do.
    const args = [a.scale ? `scale_factor=(${a.scale[0]}.0, ${a.scale[1]}.0)` : `size=${pair(a.size!)}`, `mode=${pyString(a.mode)}`];
    if (a.mode === 'bilinear') args.push(`align_corners=${a.alignCorners ? 'True' : 'False'}`);
    return mod(`nn.Upsample(${args.join(', ')})`);
  },
  convtranspose(a, inShape) {
    const args = [`${inShape[0]}`, `${a.out}`, `kernel_size=${pair(a.kernel)}`, `stride=${pair(a.stride)}`, `padding=${pair(a.padding)}`];
    if (a.outputPadding[0] || a.outputPadding[1]) args.push(`output_padding=${pair(a.outputPadding)}`);
    if (a.groups !== 1) args.push(`groups=${a.groups}`);
    if (!a.bias) args.push('bias=False');
    if (a.dilation[0] !== 1 || a.dilation[1] !== 1) args.push(`dilation=${pair(a.dilation)}`);
    return mod(`nn.ConvTranspose2d(${args.join(', ')})`);
  },
} satisfies KindTable<PytorchEntry>;

/** Classes and helpers the generated file defines only where a layer needs them. */
type PreludeClass = 'LayerNorm2d' | 'ChannelShuffle' | 'ChannelSlice' | 'PointwiseLinear' | '_attach_parameter';

const PRELUDE_CLASSES: Record<PreludeClass, string> = {
  LayerNorm2d: String.raw`

class LayerNorm2d(nn.LayerNorm):
    """torchvision's LayerNorm2d (ConvNeXt): nn.LayerNorm over the channels at each position of an
    [N, C, H, W] tensor, so that its state_dict (weight, bias) loads here."""

    def forward(self, x):
        return super().forward(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)
`,
  PointwiseLinear: String.raw`

class PointwiseLinear(nn.Linear):
    """nn.Linear over the channels at each position of an [N, C, H, W] tensor, as torchvision's ConvNeXt
    applies it between its Permutes, so that its state_dict (weight [out, C], bias) loads here."""

    def forward(self, x):
        return super().forward(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)
`,
  ChannelShuffle: String.raw`

class ChannelShuffle(nn.Module):
    """ShuffleNet's channel shuffle, as torchvision's channel_shuffle: C channels viewed as groups x C/groups,
    transposed. (nn.ChannelShuffle gives the same values but has no backward in torch 1.13, nor a CUDA kernel.)"""

    def __init__(self, groups):
        super().__init__()
        self.groups = groups

    def forward(self, x):
        n, c = x.shape[:2]
        return x.reshape(n, self.groups, c // self.groups, *x.shape[2:]).transpose(1, 2).reshape(x.shape)

    def extra_repr(self):
        return f"groups={self.groups}"
`,
  ChannelSlice: String.raw`

class ChannelSlice(nn.Module):
    """Channels start to end - 1, as x[:, start:end]."""

    def __init__(self, start, end):
        super().__init__()
        self.start = start
        self.end = end

    def forward(self, x):
        return x[:, self.start : self.end]

    def extra_repr(self):
        return f"start={self.start}, end={self.end}"
`,
  _attach_parameter: String.raw`

def _attach_parameter(root, path, parameter):
    """Registers a bare parameter (a layer scale) at a dotted path: on the Scope its prefix names, whose
    state_dict() lists it before the Scope's children, as PyTorch lists any module's own parameters."""
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
    parent.register_parameter(name, parameter)
`,
};

function poolArgs(a: { kernel: readonly number[]; stride: readonly number[]; padding: readonly number[]; ceil: boolean }): string {
  const args = [`kernel_size=${pair(a.kernel)}`, `stride=${pair(a.stride)}`, `padding=${pair(a.padding)}`];
  if (a.ceil) args.push('ceil_mode=True');
  return args.join(', ');
}

function pytorchOf(node: GraphNode, inShape: number[]): ReturnType<PytorchEntry> {
  return dispatch<PytorchEntry>(PYTORCH_MODULES, node.attrs, inShape);
}

/** A Python class name for the network: its own name where that is a free identifier. */
export function pythonClassName(network: string): string {
  let name = network.replace(/[^A-Za-z0-9_]/g, '_');
  if (!/^[A-Za-z_]/.test(name)) name = `Net_${name}`;
  if (PY_KEYWORDS.has(name) || FILE_NAMES.has(name)) name = `${name}Net`;
  return name;
}

const PRELUDE = String.raw`import json
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
`;

/** The Python source of the module. Throws ExportError (one line) where PyTorch cannot express the network. */
export function exportPytorch(net: NetworkAnalysis, opts: PytorchExportOptions = {}): string {
  const g = net.graph;
  const shapes = knownShapes(net);
  const cls = pythonClassName(g.network);
  const inputNode = g.nodes.find((n) => n.attrs.kind === 'input');
  if (!inputNode) throw new ExportError('the network has no input');
  const outputs = [g.output, ...g.auxOutputs];

  // __init__: one module per layer, in execution order, which is definition order: state_dict() follows it.
  const init: string[] = [];
  const needs = new Set<PreludeClass>();
  const layerPaths = new Set<string>();
  const parameters: GraphNode[] = [];
  for (const node of g.nodes) {
    const entry = pytorchOf(node, shapes[node.inputs[0]] ?? []);
    if ('module' in entry) {
      checkPath(node);
      layerPaths.add(node.path);
      if (entry.needs) needs.add(entry.needs);
      init.push(`        _attach(self, ${pyString(node.path)}, ${entry.module})`);
    } else if ('parameter' in entry) {
      checkPath(node);
      needs.add('_attach_parameter');
      parameters.push(node);
      init.push(`        _attach_parameter(self, ${pyString(node.path)}, ${entry.parameter})`);
    }
  }
  for (const { path } of parameters) {
    for (let i = path.indexOf('.'); i >= 0; i = path.indexOf('.', i + 1)) {
      const owner = path.slice(0, i);
      if (layerPaths.has(owner)) throw new ExportError(`'${path}': its parameter would belong to the layer '${owner}', which is not a prefix; label one of them differently`);
    }
  }

  // forward: values in variables x, x1, x2, ..., a variable reused once its value's last user has run.
  const last = g.nodes.map((n) => n.id);
  for (const n of g.nodes) for (const i of n.inputs) last[i] = Math.max(last[i], n.id);
  for (const o of outputs) last[o] = g.nodes.length;
  const varName = (slot: number) => (slot === 0 ? 'x' : `x${slot}`);
  const slotOf = new Map<number, number>();
  const free: number[] = [];
  let slots = 0;
  const take = (): number => {
    if (free.length) {
      free.sort((a, b) => a - b);
      return free.shift()!;
    }
    return slots++;
  };
  slotOf.set(inputNode.id, take());
  const body: string[] = [];
  for (const node of g.nodes) {
    if (node === inputNode) continue;
    const args = node.inputs.map((i) => varName(slotOf.get(i)!));
    for (const i of new Set(node.inputs)) if (last[i] === node.id) free.push(slotOf.get(i)!);
    const slot = take();
    slotOf.set(node.id, slot);
    const y = varName(slot);
    const entry = pytorchOf(node, shapes[node.inputs[0]] ?? []);
    const expr = 'module' in entry ? `${moduleRef(node.path)}(${args[0]})` : 'parameter' in entry ? entry.forward(args, parameterRef(node.path)) : entry.forward(args);
    if (expr !== null) body.push(`        ${y} = ${expr}${'module' in entry ? '' : `  # ${node.path}`}`);
  }
  const results = outputs.map((o) => varName(slotOf.get(o)!));
  body.push(`        return ${results.length === 1 ? results[0] : results.join(', ')}`);

  const inShape = shapes[inputNode.id];
  const outShapes = outputs.map((o) => shapes[o]);
  const tuple = (s: number[]) => (s.length === 1 ? `(${s[0]},)` : `(${s.join(', ')})`);
  const returns =
    outputs.length === 1
      ? `the output [N, ${outShapes[0].join(', ')}]`
      : `a tuple: the main output [N, ${outShapes[0].join(', ')}], then the aux outputs (${g.auxOutputs.map((o) => g.nodes[o].path).join(', ')}) in written order`;
  const bn = net.tensors.some((t) => t.role === 'running_mean');

  const source = opts.source?.replace(/\\/g, '/').replace(/"/g, "'");
  return `"""${g.network} as a PyTorch module, exported by \`cnn export\`${source ? ` from ${source}` : ''}.

state_dict() keys are the names \`cnn params\` lists, in the same order${bn ? `; the batch norms keep no
num_batches_tracked counter, and load_state_dict() ignores one, so state dicts with it load as well` : ''}.

    model = ${cls}().eval()
    load_weights(model, "weights.safetensors")   # weights with our names: cnn's, or save_weights(model, ...)
    y = model(torch.randn(1, *INPUT_SHAPE))

forward(x) takes [N, ${inShape.join(', ')}] and returns ${returns}.
Run this file to check it: python3 ${cls}.py [WEIGHTS.safetensors]
"""

${PRELUDE}${[...needs].sort().map((n) => PRELUDE_CLASSES[n]).join('')}

INPUT_SHAPE = ${tuple(inShape)}
OUTPUT_SHAPES = (${outShapes.map(tuple).join(', ')}${outShapes.length === 1 ? ',' : ''})


class ${cls}(Scope):
    def __init__(self):
        super().__init__()
${init.length ? init.join('\n') : '        pass'}

    def forward(self, x):
${body.join('\n')}


if __name__ == "__main__":
    model = ${cls}().eval()
    if len(sys.argv) > 1:
        load_weights(model, sys.argv[1])
    with torch.no_grad():
        y = model(torch.zeros(1, *INPUT_SHAPE))
    ys = y if isinstance(y, tuple) else (y,)
    print(f"${cls}: {sum(p.numel() for p in model.parameters()):,} parameters; output {', '.join(str(list(t.shape)) for t in ys)}")
`;
}
