/**
 * The fast CPU engine: the network compiled once per (model, batch) onto WebAssembly SIMD kernels
 * (kernels.c) in one linear memory. Browser-safe (Node, browsers, web workers, the VS Code webview).
 *
 * At creation: the engines' shared execution plan (batch norms folded into their conv or linear,
 * residual adds and activations fused into the producer, producers writing straight into their
 * concat's buffer), each step prepared by its kind's builder (steps.ts), weights packed for the
 * kernels, and every activation buffer placed in one arena (arena.ts). A run then only copies
 * the input in, calls one kernel per step and copies the output out. Kinds without a builder run
 * the JavaScript reference on views of the same memory, so every network the reference runs, runs.
 */
import { isActivation } from '../../layers';
import { gatherLayerWeights } from '../params';
import { type Place, planExecution, type Step } from '../plan';
import type { InferenceSession, LayerTime, Model } from '../inference';
import { numel, type Tensor } from '../tensor';
import { align, Layout, lifetimes, MAX_BYTES, PAGE, placeActivations } from './arena';
import { type Kernels, kernelsModule, warmUp } from './module';
import { buildStep, type FastConvAlgorithm, prepareStep, wasmEpilogue } from './steps';

export { WasmUnavailableError } from './module';
export type { FastConvAlgorithm } from './steps';

export interface FastCpuOptions {
  /** Shown as the session's adapter. */
  adapter?: string;
  /**
   * Keep every node's output readable after a run (feature maps): nothing is fused and no buffer
   * is shared. Slower and larger; off by default.
   */
  keepAll?: boolean;
  /** Force one conv algorithm everywhere (tests); by default grouped convs with narrow groups run direct, the rest GEMM. */
  convAlgorithm?: FastConvAlgorithm;
}

export interface FastCpuSession extends InferenceSession {
  /** Whether `readNode(id)` has the node's output (with keepAll every node; else the tails of steps). */
  hasOutput(id: number): boolean;
  /** Node `id`'s output from the last run, `[batch, ...shape]`, copied out. */
  readNode(id: number): Float32Array;
  /** Bytes of linear memory the session holds. */
  readonly memoryBytes: number;
  /**
   * One forward pass step by step, for a caller that acts between steps (the panel times each,
   * yields to its event loop so that a Cancel gets through, and may stop): writes the input, then
   * `run(i)` runs step i (steps in order), `output()` reads the result.
   */
  stepwise(input: Float32Array): { steps: readonly { path: string; nodes: number[] }[]; run(i: number): void; output(): Float32Array };
}

interface PlannedStep {
  step: Step;
  path: string;
  nodes: number[];
  run: () => void;
}

/** Creates the fast CPU engine for a model and batch size (WebAssembly SIMD, one thread). */
export async function createFastCpuSession(model: Model, batch: number, opts: FastCpuOptions = {}): Promise<FastCpuSession> {
  if (!Number.isInteger(batch) || batch < 1) throw new Error(`batch must be a positive integer, got ${batch}`);
  const { graph, shapes } = model;
  if (shapes.length !== graph.nodes.length) throw new Error(`got ${shapes.length} shapes for ${graph.nodes.length} nodes`);
  const module = await kernelsModule();
  const keepAll = opts.keepAll ?? false;
  const plan = planExecution(graph, shapes, { fuse: !keepAll, concatInPlace: !keepAll });
  const byNode = gatherLayerWeights(model.tensors, model.weights);
  const inputs = graph.nodes.filter((n) => n.attrs.kind === 'input');
  if (inputs.length !== 1) throw new Error(`expected one input layer, found ${inputs.length}`);
  const inputNode = inputs[0].id;

  // A probe instance tells where free memory starts (after its stack and data) and how much scratch each kernel needs.
  const probeMemory = new WebAssembly.Memory({ initial: 2 });
  const probe = new WebAssembly.Instance(module, { env: { memory: probeMemory } }).exports as unknown as Kernels;
  const heapBase = (probe.__heap_base.value as number) >>> 0;

  const per = (id: number) => numel(shapes[id]);
  const hwOf = (id: number) => numel(shapes[id].slice(1));
  const place = (id: number): Place => {
    const p = plan.places[id];
    if (!p) throw new Error(`${graph.nodes[id].path} was fused into another layer and has no output of its own`);
    return p;
  };

  const steps = plan.steps;
  const life = lifetimes(graph, plan, place, inputNode);

  // --- Weights, packed, and descriptors: fixed sizes first, then the arena. ---
  const prepared = steps.map((step) =>
    prepareStep({ graph, shapes, batch, step, head: graph.nodes[step.head], weights: byNode, probe, probeMemory, heapBase, convAlgorithm: opts.convAlgorithm }),
  );
  const layout = new Layout(heapBase);
  // One descriptor per step: 32 words, or the list of input addresses of an add.
  const descAt = steps.map((s) => layout.take(Math.max(32, graph.nodes[s.head].inputs.length) * 4));
  const tensorAt = prepared.map((p) => {
    const at: Record<string, number> = {};
    for (const [k, t] of Object.entries(p.tensors)) at[k] = layout.take(t.byteLength);
    if (p.weight) at.weight = layout.take(p.weight.floats * 4);
    return at;
  });
  const scratchFloats = Math.max(0, ...prepared.map((p) => p.scratch));
  const scratchAt = layout.take(scratchFloats * 4);

  const placedActivations = placeActivations(plan.roots, (r) => align(batch * per(r) * 4), life, keepAll);
  const placedAt = placedActivations.at;
  // Before the first run the arena stages each conv weight (and its scale) for packing: at least that big.
  const stagingBytes = Math.max(0, ...prepared.map((p) => (p.weight ? (p.algo ? align(p.weight.data.byteLength) : 0) + align((p.weight.scale?.length ?? 0) * 4) : 0)));
  const arenaBytes = Math.max(stagingBytes, placedActivations.bytes);
  const arenaAt = layout.take(arenaBytes);
  // Slack: strided packing may read one vector past a buffer's last value.
  const totalBytes = layout.take(256) + 256;
  if (totalBytes > MAX_BYTES) {
    throw new Error(`the network needs ${(totalBytes / 2 ** 30).toFixed(2)} GiB of WebAssembly memory at batch ${batch}, more than its 4 GiB${batch > 1 ? '; use a smaller batch' : ''}`);
  }
  const pages = Math.ceil(totalBytes / PAGE);
  let memory: WebAssembly.Memory;
  try {
    memory = new WebAssembly.Memory({ initial: pages, maximum: pages });
  } catch (e) {
    throw new Error(`cannot allocate ${(totalBytes / 2 ** 20).toFixed(0)} MiB of WebAssembly memory for the CPU engine: ${(e as Error).message}`);
  }
  const instance = new WebAssembly.Instance(module, { env: { memory } });
  const k = instance.exports as unknown as Kernels;
  const f32 = new Float32Array(memory.buffer);
  const i32 = new Int32Array(memory.buffer);

  prepared.forEach((p, i) => {
    for (const [name, t] of Object.entries(p.tensors)) f32.set(t, tensorAt[i][name] / 4);
    const w = p.weight;
    if (!w) return;
    const head = graph.nodes[steps[i].head];
    const out = (head.attrs as { out: number }).out;
    if (p.algo === undefined) {
      // A dense weight (linear): copied as stored, rows scaled by a folded batch norm.
      f32.set(w.data, tensorAt[i].weight / 4);
      if (w.scale) {
        f32.set(w.scale, arenaAt / 4);
        k.scale_rows(tensorAt[i].weight, out, w.data.length / out, arenaAt);
      }
    } else {
      // A conv weight: staged in the (still unused) arena, then packed into place.
      // A pointwise linear runs as a 1×1 convolution, of one group.
      const groups = (head.attrs as { groups?: number }).groups ?? 1;
      const scaleAt = arenaAt + align(w.data.byteLength);
      f32.set(w.data, arenaAt / 4);
      if (w.scale) f32.set(w.scale, scaleAt / 4);
      k.pack_weights(arenaAt, tensorAt[i].weight, out, groups, w.data.length / out, w.scale ? scaleAt : 0, p.algo === 'direct' ? 1 : 0);
    }
  });

  /** Byte address of node `id`'s first value in image 0, and the floats between images. */
  const addr = (id: number) => {
    const p = place(id);
    return { at: arenaAt + placedAt.get(p.root)! + p.channelOffset * hwOf(id) * 4, bstride: per(p.root) };
  };
  const dense = (id: number): number => {
    const p = place(id);
    if (p.channelOffset !== 0 || per(p.root) !== per(id)) throw new Error(`internal: ${graph.nodes[id].path} is read whole but lives in a slice of another buffer`);
    return arenaAt + placedAt.get(p.root)!;
  };
  /** A view of a dense node's values, `[batch, ...shape]` (valid while the memory lives: it never grows). */
  const view = (id: number): Tensor => ({ shape: [batch, ...shapes[id]], data: f32.subarray(dense(id) / 4, dense(id) / 4 + batch * per(id)) });
  /** Writes `[batch, ...shape]` values to node `id`'s place (a slice of a concat's buffer, maybe). */
  const store = (id: number, data: Float32Array) => {
    const { at, bstride } = addr(id);
    const n = per(id);
    for (let b = 0; b < batch; b++) f32.set(data.subarray(b * n, (b + 1) * n), at / 4 + b * bstride);
  };
  /** Applies an activation kernels.c lacks, in place, on node `id`'s place. */
  const after = (id: number, f: (v: number) => number) => {
    const { at, bstride } = addr(id);
    const n = per(id);
    for (let b = 0; b < batch; b++) {
      const from = at / 4 + b * bstride;
      for (let j = from; j < from + n; j++) f32[j] = f(f32[j]);
    }
  };

  const planned: PlannedStep[] = steps.map((s, i) => {
    const head = graph.nodes[s.head];
    const actAttrs = s.act !== undefined ? graph.nodes[s.act].attrs : undefined;
    if (actAttrs && !isActivation(actAttrs)) throw new Error(`internal: ${graph.nodes[s.act!].path} fused as an activation`);
    const epilogue = wasmEpilogue(actAttrs);
    const nodes = [s.head, s.bn, s.add?.node, s.act].filter((n): n is number => n !== undefined);
    const body = buildStep(
      {
        k, f32, i32, batch, shapes, step: s, head, prepared: prepared[i], desc: descAt[i], tensorAt: tensorAt[i], scratchAt,
        out: addr(s.tail), epilogue, addr, dense, placeOf: place, per, hw: hwOf, view, store,
      },
      byNode.get(head.id),
    );
    const f = epilogue.after;
    return { step: s, path: head.path, nodes, run: f ? () => (body(), after(s.tail, f)) : body };
  });

  warmUp(k, i32, f32, arenaAt, arenaBytes, scratchAt, scratchFloats);

  // The input's buffer is written by run(); aliases (flatten, dropout) need no step.
  const inAt = dense(inputNode) / 4;
  const inCount = batch * per(inputNode);
  const outNode = graph.output;
  const load = (input: Float32Array) => {
    if (input.length !== inCount) throw new Error(`input has ${input.length} values, expected [${[batch, ...shapes[inputNode]].join(', ')}] = ${inCount}`);
    f32.set(input, inAt);
  };
  const read = (id: number): Float32Array => {
    const { at, bstride } = addr(id);
    const n = per(id);
    const outArr = new Float32Array(batch * n);
    for (let b = 0; b < batch; b++) outArr.set(f32.subarray(at / 4 + b * bstride, at / 4 + b * bstride + n), b * n);
    return outArr;
  };
  let destroyed = false;
  const alive = () => {
    if (destroyed) throw new Error('the CPU session was destroyed');
  };
  const readable = new Set<number>();
  if (keepAll) graph.nodes.forEach((n) => plan.places[n.id] && readable.add(n.id));
  else for (const o of [outNode, ...graph.auxOutputs]) readable.add(o);

  return {
    backend: 'cpu',
    adapter: opts.adapter ?? 'CPU: WebAssembly SIMD',
    batch,
    memoryBytes: pages * PAGE,
    async run(input) {
      alive();
      load(input);
      for (const p of planned) p.run();
      return read(outNode);
    },
    async profile(input) {
      alive();
      load(input);
      const times: LayerTime[] = [];
      for (const p of planned) {
        const t0 = performance.now();
        p.run();
        times.push({ path: p.path, nodes: p.nodes, ms: performance.now() - t0 });
      }
      return times;
    },
    stepwise(input) {
      alive();
      load(input);
      return {
        steps: planned,
        run: (i) => {
          alive();
          planned[i].run();
        },
        output: () => read(outNode),
      };
    },
    hasOutput: (id) => readable.has(id),
    readNode(id) {
      alive();
      if (!readable.has(id)) throw new Error(`${graph.nodes[id]?.path ?? `node ${id}`} has no readable output in this CPU session${keepAll ? '' : ' (create it with keepAll)'}`);
      return read(id);
    },
    destroy() {
      destroyed = true;
    },
  };
}
