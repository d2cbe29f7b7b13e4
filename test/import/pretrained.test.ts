/**
 * scripts/torchvision_to_safetensors.py: its file, with random weights (nothing can be
 * downloaded here) and random batch-norm statistics, loads into torchvision's own model by its
 * names (strict, but for the num_batches_tracked counters it leaves out), and `cnn run
 * examples/resnet18.cnn --weights` on it gives PyTorch's output within 1e-3. The examples written
 * after torchvision models have its state_dict names, shapes and order (those that do not are
 * listed in docs/import.md).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyzeText } from '../../src/analysis';
import { readNpy } from '../../src/engine/input/npy';
import { relativeError, ROOT, torchPython } from '../export/helpers';
import { cli } from '../helpers';

const py = torchPython();
const dir = mkdtempSync(join(tmpdir(), 'cnn-pretrained-'));
const SCRIPT = join(ROOT, 'scripts', 'torchvision_to_safetensors.py');

/** Examples whose names are torchvision's, with the builder's keyword arguments. */
const SAME_NAMES: Record<string, Record<string, unknown>> = {
  resnet18: {},
  resnet50: {},
  resnet101: {},
  resnet152: {},
  resnext50_32x4d: {},
  googlenet: { aux_logits: false, init_weights: false },
};

function python(code: string, ...args: string[]): string {
  const r = spawnSync(py!, ['-c', code, ...args], { encoding: 'utf8', cwd: ROOT, maxBuffer: 1 << 24 });
  if (r.status !== 0) throw new Error(`python failed: ${r.stderr.split('\n').slice(-6).join('\n')}`);
  return r.stdout;
}

// Reads the script's file with nothing but json and struct, loads it into a fresh torchvision
// model (strictly, by name), and writes an input and PyTorch's output for it.
const CHECK = `
import json, struct, sys, warnings
import numpy as np, torch, torchvision
warnings.filterwarnings("ignore")
path, x_path, y_path = sys.argv[1:4]
raw = open(path, "rb").read()
(n,) = struct.unpack("<Q", raw[:8])
header = json.loads(raw[8:8 + n])
meta = header.pop("__metadata__")
state = {}
for name, info in header.items():
    b, e = info["data_offsets"]
    assert info["dtype"] == "F32"
    state[name] = torch.from_numpy(np.frombuffer(raw[8 + n + b:8 + n + e], dtype="<f4").reshape(info["shape"]).copy())
model = torchvision.models.resnet18().eval()
r = model.load_state_dict(state, strict=False)
assert not r.unexpected_keys and all(k.endswith("num_batches_tracked") for k in r.missing_keys), r
torch.manual_seed(7)
x = torch.rand(3, 224, 224) * 2 - 1
np.save(x_path, x.numpy())
with torch.no_grad():
    y = model(x[None])[0]
y.numpy().astype("<f4").tofile(y_path)
print(json.dumps({"meta": meta, "names": list(header), "bn_var_min": min(float(v.min()) for k, v in state.items() if k.endswith("running_var"))}))
`;

describe.skipIf(!py)('torchvision_to_safetensors.py', () => {
  it("writes a file that cnn run reads on examples/resnet18.cnn, giving PyTorch's output within 1e-3", async () => {
    const weights = join(dir, 'resnet18.safetensors');
    const w = spawnSync(py!, [SCRIPT, '--model', 'resnet18', '--seed', '3', '--randomize-bn', '--out', weights], { encoding: 'utf8' });
    expect(w.status, w.stderr).toBe(0);
    expect(w.stdout).toMatch(/102 tensors, 11,699,112 values from torchvision\.models\.resnet18 \(random weights, seed 3\)/);
    const info = JSON.parse(python(CHECK, weights, join(dir, 'x.npy'), join(dir, 'y.bin'))) as { meta: Record<string, string>; names: string[]; bn_var_min: number };
    expect(info.meta).toEqual({ format: 'pt', source: 'torchvision.models.resnet18', weights: 'random (seed 3)' });
    expect(info.bn_var_min).toBeGreaterThan(0.4);
    // The file's names are the example's parameter names, in the same order.
    const net = analyzeText(readFileSync(join(ROOT, 'examples/resnet18.cnn'), 'utf8')).networks[0];
    expect(info.names).toEqual(net.tensors.map((t) => t.name));

    const r = await cli('run', join(ROOT, 'examples/resnet18.cnn'), '--input', join(dir, 'x.npy'), '--weights', weights, '--out', join(dir, 'out.npy'));
    expect(r.code, r.err).toBe(0);
    const got = readNpy(readFileSync(join(dir, 'out.npy')));
    expect(got.shape).toEqual([1, 1000]);
    const b = readFileSync(join(dir, 'y.bin'));
    const want = new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
    expect(relativeError(got.data, want).rel).toBeLessThan(1e-3);
  }, 300_000);

  it('says in one line why it cannot build a model or its weights (exit 1)', () => {
    for (const [args, re] of [
      [['--model', 'resnet_nope'], /^error: torchvision has no model 'resnet_nope'/],
      [['--model', 'resnet18', '--weights', 'BOGUS'], /^error: cannot build resnet18 with weights BOGUS: /],
      [['--model', 'resnet18', '--kwargs', '[1]'], /^error: --kwargs is not a JSON object/],
    ] as const) {
      const r = spawnSync(py!, [SCRIPT, ...args, '--out', join(dir, 'never.safetensors')], { encoding: 'utf8' });
      expect(r.status).toBe(1);
      expect(r.stderr.trim()).toMatch(re);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
  }, 120_000);

  it("the examples written after torchvision models have its state_dict's names, shapes and order", () => {
    const out = python(
      `
import json, sys, warnings, torchvision
warnings.filterwarnings("ignore")
jobs = json.loads(sys.argv[1])
print(json.dumps({m: [[k, list(v.shape)] for k, v in getattr(torchvision.models, m)(**kw).state_dict().items() if v.is_floating_point()] for m, kw in jobs.items()}))
`,
      JSON.stringify(SAME_NAMES),
    );
    const torch = JSON.parse(out) as Record<string, [string, number[]][]>;
    for (const m of Object.keys(SAME_NAMES)) {
      const net = analyzeText(readFileSync(join(ROOT, `examples/${m}.cnn`), 'utf8')).networks[0];
      expect(net.tensors.map((t) => [t.name, t.shape]), m).toEqual(torch[m]);
    }
  }, 300_000);
});
