/** `cnn bench`: timing of forward passes, in total and per layer. */
import { metric, table } from '../../analysis/format';
import { mulberry32 } from '../../engine/weights/init';
import { inputShapeOf, type LayerTime } from '../../engine/session';
import { numel } from '../../engine/tensor';
import { CliError, onlyFile, UsageError, type Command, type Io } from '../command';
import { STDIN } from '../load';
import { backendOptions, checkBackendLimits, chooseBackend, openSession, requestedBackend } from './backend';
import { loadWeights, modelOptions, planModel } from './model';
import { intOption } from './options';

/** Passes profiled per layer on WebGPU, after the timed runs (on the CPU every timed run is profiled, at the cost of a clock read per step). */
const GPU_PROFILE_PASSES = 5;

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Nearest-rank percentile. */
export function percentile(xs: readonly number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((q / 100) * s.length) - 1))];
}

/** Per-layer medians over passes that list the same layers in the same order. */
function layerMedians(passes: LayerTime[][]): { path: string; msMedian: number }[] {
  if (passes.length === 0) return [];
  return passes[0].map((l, i) => ({ path: l.path, msMedian: round(median(passes.map((p) => p[i].ms))) }));
}

const round = (x: number) => Number(x.toFixed(4));

export interface ProgressOptions {
  /** Nothing is shown before this many milliseconds: short benchmarks need no progress. */
  delayMs?: number;
  /** At most one update per this many milliseconds (a terminal; without one, 10 times as long). */
  intervalMs?: number;
  now?: () => number;
}

/**
 * Progress on stderr: on a terminal one line, rewritten in place with \r and cleared at the
 * end; elsewhere (only with --progress) a plain line at most every second. Never on stdout, so
 * --json output stays one JSON document.
 */
export function progressReporter(io: Io, forced: boolean, opts: ProgressOptions = {}): { update(text: string): void; done(): void } {
  const tty = Boolean(io.tty && io.errRaw);
  if (!tty && !forced) return { update() {}, done() {} };
  const now = opts.now ?? (() => performance.now());
  const delay = opts.delayMs ?? 1000;
  const interval = (opts.intervalMs ?? 100) * (tty ? 1 : 10);
  const start = now();
  let last = -Infinity;
  let shown = false;
  return {
    update(text) {
      const t = now();
      if (t - start < delay || t - last < interval) return;
      last = t;
      shown = true;
      if (tty) io.errRaw!(`\r\x1b[K${text}`);
      else io.err(text);
    },
    done() {
      if (tty && shown) io.errRaw!('\r\x1b[K');
    },
  };
}

export const benchCommand: Command = {
  summary: 'timing of forward passes',
  usage: 'cnn bench FILE [--backend cpu|webgpu|reference] [--runs N] [--warmup N] [--batch B] [--json] [--progress] [--weights W.safetensors] [--seed N] [--network NAME] [--shape CxHxW] [--memory-limit SIZE]',
  options: {
    ...modelOptions,
    ...backendOptions,
    runs: { type: 'string', value: 'N', help: 'timed passes (default 10)' },
    warmup: { type: 'string', value: 'N', help: 'untimed passes first (default 1)' },
    batch: { type: 'string', value: 'B', help: 'images per pass (default 1)' },
    json: { type: 'boolean', help: 'print JSON (see CLI.md) instead of the summary' },
    progress: { type: 'boolean', help: 'report progress on stderr even when it is not a terminal (on one, it shows after a second anyway)' },
  },
  async run({ values, positionals }, io) {
    const file = onlyFile(positionals, 'bench', benchCommand.usage, 'one network file');
    const runs = intOption(values, 'runs', 10, 1);
    const warmup = intOption(values, 'warmup', 1, 0);
    const batch = intOption(values, 'batch', 1, 1);
    requestedBackend(values.backend);
    if (file === STDIN) throw new UsageError('bench reads the network from a file; - (standard input) is for check, analyze and params');
    const plan = planModel(file, values, 'bench', batch, io);
    const { net } = plan;
    const choice = await chooseBackend(values.backend);
    checkBackendLimits(choice, plan.needs);
    const { model } = loadWeights(plan, values);
    const inShape = inputShapeOf(model);
    // Values do not change the timing; seeded noise keeps runs reproducible.
    const rand = mulberry32(1);
    const input = new Float32Array(batch * numel(inShape));
    for (let i = 0; i < input.length; i++) input[i] = 2 * rand() - 1;

    const backend = await openSession(choice, model, batch);
    if (!values.json) io.err(backend.note);
    const s = backend.session;
    const progress = progressReporter(io, Boolean(values.progress));
    const times: number[] = [];
    const passes: LayerTime[][] = [];
    try {
      for (let i = 0; i < warmup; i++) {
        progress.update(`bench: warm-up ${i + 1}/${warmup}`);
        await s.run(input);
      }
      for (let i = 0; i < runs; i++) {
        progress.update(`bench: run ${i + 1}/${runs}${times.length ? `, median so far ${median(times).toFixed(1)} ms` : ''}`);
        const t0 = performance.now();
        if (s.backend === 'cpu') passes.push(await s.profile(input));
        else await s.run(input);
        times.push(performance.now() - t0);
      }
      if (s.backend !== 'cpu') {
        const n = Math.min(runs, GPU_PROFILE_PASSES);
        for (let i = 0; i < n; i++) {
          progress.update(`bench: per-layer profile ${i + 1}/${n}`);
          passes.push(await s.profile(input));
        }
      }
    } catch (e) {
      throw new CliError(`${s.backend}: ${(e as Error).message.split('\n')[0]}`);
    } finally {
      progress.done();
      backend.close();
    }

    const msMedian = median(times);
    const msP90 = percentile(times, 90);
    const macs = net.totals.macs;
    const gflops = (2 * macs * batch) / (msMedian / 1000) / 1e9;
    const layers = layerMedians(passes);
    if (values.json) {
      io.out(
        JSON.stringify({
          backend: s.backend,
          adapter: s.adapter,
          runs,
          warmup,
          batch,
          msMedian: round(msMedian),
          msP90: round(msP90),
          msMin: round(Math.min(...times)),
          gflops: round(gflops),
          macs,
          input: inShape,
          layers,
        }),
      );
      return 0;
    }
    io.out(`${net.graph.network} [${inShape.join('x')}], batch ${batch}, on ${s.backend} (${s.adapter})`);
    io.out(
      `median ${msMedian.toFixed(2)} ms, p90 ${msP90.toFixed(2)} ms over ${runs} run${runs > 1 ? 's' : ''} (${warmup} warm-up); ` +
        `${gflops.toFixed(2)} GFLOP/s at ${metric(macs)}MACs per image`,
    );
    const total = layers.reduce((a, l) => a + l.msMedian, 0);
    const slowest = layers
      .map((l, i) => ({ ...l, i }))
      .sort((a, b) => b.msMedian - a.msMedian)
      .slice(0, 10);
    if (slowest.length && total > 0) {
      const fused = passes[0]?.some((l) => l.nodes.length > 1);
      io.out(`slowest layers (per-layer medians${fused ? ', fused steps named by their first layer' : ''}):`);
      io.out(
        table(
          [
            { header: 'layer', align: 'left' },
            { header: 'ms', align: 'right' },
            { header: 'share', align: 'right' },
          ],
          slowest.map((l) => [l.path || `#${l.i}`, l.msMedian.toFixed(3), `${((100 * l.msMedian) / total).toFixed(1)}%`]),
        ),
      );
    }
    return 0;
  },
};
