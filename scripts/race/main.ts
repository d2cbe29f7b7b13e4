/**
 * `npm run bench:race [-- options]`: our WebGPU engine against ONNX Runtime Web's WebGPU
 * provider, and our CPU engine against its wasm provider, in headless chromium. Progress on
 * stderr, the table on stdout, everything in JSON (default bench-results/race.json).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULTS, formatTable, NETWORKS, race, type RaceOptions } from './harness';

const USAGE = `npm run bench:race -- [--networks LIST | --gpu-networks LIST --cpu-networks LIST] [--only gpu|cpu]
  [--size N | --gpu-size N --cpu-size N] [--runs N] [--warmup N] [--threads N] [--ort-gpu webgpu|jsep]
  [--conv cli|auto|direct|gemm] [--profile] [--json OUT.json]
networks: ${NETWORKS.map((n) => n.key).join(',')} (or all)
defaults: --gpu-networks ${DEFAULTS.gpuNetworks.join(',')} --cpu-networks all --gpu-size ${DEFAULTS.gpuSize} --cpu-size ${DEFAULTS.cpuSize} --runs ${DEFAULTS.runs} --warmup ${DEFAULTS.warmup} --threads ${DEFAULTS.threads} --ort-gpu ${DEFAULTS.ortGpuBuild} --json bench-results/race.json`;

function int(values: Record<string, unknown>, name: string, min: number): number | undefined {
  const v = values[name];
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name} ${String(v)}: give an integer >= ${min}`);
  return n;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      networks: { type: 'string' },
      'gpu-networks': { type: 'string' },
      'cpu-networks': { type: 'string' },
      only: { type: 'string' },
      size: { type: 'string' },
      'gpu-size': { type: 'string' },
      'cpu-size': { type: 'string' },
      runs: { type: 'string' },
      warmup: { type: 'string' },
      threads: { type: 'string' },
      'ort-gpu': { type: 'string' },
      conv: { type: 'string' },
      profile: { type: 'boolean' },
      json: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const opts: Partial<RaceOptions> = {};
  const list = (v: string | undefined) => (v === undefined ? undefined : v.trim() === 'all' ? NETWORKS.map((n) => n.key) : v.split(',').map((s) => s.trim()).filter(Boolean));
  opts.gpuNetworks = list(values['gpu-networks']) ?? list(values.networks) ?? DEFAULTS.gpuNetworks;
  opts.cpuNetworks = list(values['cpu-networks']) ?? list(values.networks) ?? DEFAULTS.cpuNetworks;
  if (values.only) {
    if (values.only !== 'gpu' && values.only !== 'cpu') throw new Error(`--only ${values.only}: choose gpu or cpu`);
    opts.sides = [values.only];
  }
  const size = int(values, 'size', 8);
  opts.gpuSize = int(values, 'gpu-size', 8) ?? size ?? DEFAULTS.gpuSize;
  opts.cpuSize = int(values, 'cpu-size', 8) ?? size ?? DEFAULTS.cpuSize;
  opts.runs = int(values, 'runs', 1) ?? DEFAULTS.runs;
  opts.warmup = int(values, 'warmup', 0) ?? DEFAULTS.warmup;
  opts.threads = int(values, 'threads', 1) ?? DEFAULTS.threads;
  if (values['ort-gpu']) {
    if (values['ort-gpu'] !== 'webgpu' && values['ort-gpu'] !== 'jsep') throw new Error(`--ort-gpu ${values['ort-gpu']}: choose webgpu or jsep`);
    opts.ortGpuBuild = values['ort-gpu'];
  }
  if (values.conv) {
    const convs = ['cli', 'auto', 'direct', 'gemm'] as const;
    if (!(convs as readonly string[]).includes(values.conv)) throw new Error(`--conv ${values.conv}: choose ${convs.join(', ')}`);
    opts.conv = values.conv as RaceOptions['conv'];
  }
  opts.profile = Boolean(values.profile);
  const out = values.json ?? 'bench-results/race.json';

  const result = await race(opts, (line) => process.stderr.write(`${line}\n`));
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
  const a = result.adapter;
  console.log(`\n${result.machine.cpu}, ${result.machine.cores} cores; ${result.browser}; WebGPU adapter: ${a ? [a.vendor, a.architecture, a.device, a.description].filter(Boolean).join(' / ') : 'n/a'}; ORT-web ${result.ort.version}, wasm threads ${result.ort.threads} (cross-origin isolated: ${result.ort.crossOriginIsolated})\n`);
  console.log(formatTable(result));
  console.log(`wrote ${out} (${result.wallS.toFixed(0)} s)`);
  return result.rows.some((r) => r.error || r.ours.error || r.ort.error) ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    console.error(`bench:race: ${(e as Error).message}`);
    process.exit(2);
  },
);
