// Parse + expand + analyse timings (issue 2's goals: ResNet-152 under 5 ms, a 10,000-line
// network under 100 ms on the development machine). Prints figures; asserts nothing.
// With --parsers, the two parsers' phases and error recovery instead (docs/parsers.md).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { analyzeText, ExpansionCache } from '../src/analysis';
import { chevrotainParse, parse } from '../src/language';
import { fastParse } from '../src/language/fast/parser';
import { lex } from '../src/language/lexer';
import { parseTokens } from '../src/language/parser';
import { LineIndex } from '../src/language/range';

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** CPU time of this process in ms (all its threads: the garbage collector's helpers count too). */
function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

function time(text: string, runs: number, options: Parameters<typeof analyzeText>[1] = {}): { median: number; p90: number; cpu: number; layers: number } {
  let layers = 0;
  for (let i = 0; i < 5; i++) analyzeText(text, options); // warm-up: JIT and the parser's caches
  const ms: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < runs; i++) {
    const c0 = cpuMs();
    const t0 = performance.now();
    const r = analyzeText(text, options);
    ms.push(performance.now() - t0);
    cpu.push(cpuMs() - c0);
    layers = r.networks[0]?.layers.length ?? 0;
  }
  ms.sort((a, b) => a - b);
  return { median: median(ms), p90: ms[Math.floor(ms.length * 0.9)], cpu: median(cpu), layers };
}

/** A plain network of `lines` layer lines, the kind a generator or a long hand-written file has. */
export function generatedNetwork(lines: number): string {
  const out = ['network Long {', '  input 16x32x32'];
  const body = ['  conv 16 k=3 p=1 bias=false', '  bn', '  relu'];
  for (let i = 0; out.length < lines - 1; i++) out.push(body[i % body.length]);
  out.push('}');
  return out.join('\n');
}

/**
 * Each phase once per round, in turn, so that the machine's load falls on all of them alike;
 * medians of the rounds.
 */
function phases(named: Record<string, () => unknown>, rounds: number): void {
  const wall: Record<string, number[]> = {};
  const cpu: Record<string, number[]> = {};
  for (const k in named) {
    wall[k] = [];
    cpu[k] = [];
    for (let i = 0; i < 5; i++) named[k]();
  }
  const keys = Object.keys(named);
  for (let r = 0; r < rounds; r++) {
    // Every other round backwards: the garbage one phase leaves is collected in the next.
    for (const k of r % 2 ? [...keys].reverse() : keys) {
      const c0 = cpuMs();
      const t0 = performance.now();
      named[k]();
      wall[k].push(performance.now() - t0);
      cpu[k].push(cpuMs() - c0);
    }
  }
  for (const k in named) console.log(`  ${k.padEnd(52)} median ${median(wall[k]).toFixed(1).padStart(7)} ms   CPU ${median(cpu[k]).toFixed(1).padStart(7)} ms`);
}

function parsers(): void {
  const text = generatedNetwork(10_000);
  const tokens = lex(text).tokens;
  console.log(`10,000-line network, ${rounds} rounds (wall; CPU of the process, GC threads included)`);
  phases(
    {
      'fast path (scan + parse + AST)': () => fastParse(text),
      'chevrotain: lexer alone': () => lex(text),
      'chevrotain: parser building the AST (tokens given)': () => parseTokens(tokens, new LineIndex(text)),
      'chevrotain: lex + parse + diagnostics': () => chevrotainParse(text),
    },
    rounds,
  );
  // What the editor parses while a line is half typed: one error, the whole file on chevrotain's path.
  const lines = text.split('\n');
  lines[5000] = '  conv 16 k=';
  const broken = lines.join('\n');
  console.log('the same with one error in the middle');
  phases({ 'parse (chevrotain path)': () => parse(broken), 'parse + expand + analyse': () => analyzeText(broken) }, rounds);
  console.log('error recovery: N lines of `conv 16 k=3 ) (`, one run each');
  for (const n of [2_000, 20_000, 100_000]) {
    const bad = `network A {\n  input 3x8x8\n${'  conv 16 k=3 ) (\n'.repeat(n)}}`;
    const c0 = cpuMs();
    const t0 = performance.now();
    const r = parse(bad);
    console.log(`  ${String(n).padStart(7)} lines   ${(performance.now() - t0).toFixed(0).padStart(6)} ms   CPU ${(cpuMs() - c0).toFixed(0).padStart(6)} ms   ${r.diagnostics.length} diagnostics`);
  }
}

const args = process.argv.slice(2);
const root = args.find((a) => !a.startsWith('--')) ?? process.cwd();
const rounds = 15;
if (args.includes('--parsers')) {
  parsers();
  process.exit(0);
}
const r152 = readFileSync(join(root, 'examples/resnet152.cnn'), 'utf8');
const cases: [string, string, number, Parameters<typeof analyzeText>[1]][] = [
  ['ResNet-152 (blocks)', r152, 200, {}],
  ['ResNet-50 (blocks)', readFileSync(join(root, 'examples/resnet50.cnn'), 'utf8'), 200, {}],
  ['10,000-line network', generatedNetwork(10_000), 30, {}],
  // What the language server does: one expansion cache per document (here a fresh one per run,
  // so only the calls repeated within the file are copied).
  ['ResNet-152, cache', r152, 200, { get cache() { return new ExpansionCache(); } }],
];
console.log('parse + expand + analyse, median of N runs after warm-up (wall; CPU of the process, GC threads included)');
for (const [name, text, runs, options] of cases) {
  const r = time(text, runs, options);
  console.log(`${name.padEnd(22)} ${String(text.split('\n').length).padStart(6)} lines ${String(r.layers).padStart(6)} layers   median ${r.median.toFixed(2).padStart(7)} ms   p90 ${r.p90.toFixed(2).padStart(7)} ms   CPU ${r.cpu.toFixed(2).padStart(7)} ms   (${runs} runs)`);
}
