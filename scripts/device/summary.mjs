// Prints one line of figures and the slowest layers of a `cnn bench --json` file.
import { readFileSync } from 'node:fs';
const [file, top = '5'] = process.argv.slice(2);
let d;
try { d = JSON.parse(readFileSync(file, 'utf8')); } catch (e) { console.log(`${file}: unreadable (${e.message.split('\n')[0]})`); process.exit(0); }
const f = (x) => (typeof x === 'number' ? x.toFixed(3) : String(x));
console.log(`${file.split('/').pop()}: backend=${d.backend} adapter="${d.adapter}" runs=${d.runs} warmup=${d.warmup} ` +
  `msMedian=${f(d.msMedian)} msP90=${f(d.msP90)} msMin=${f(d.msMin)} GFLOP/s=${d.gflops} MACs=${d.macs}`);
const layers = [...(d.layers ?? [])].sort((a, b) => b.msMedian - a.msMedian).slice(0, Number(top));
const sum = (d.layers ?? []).reduce((s, l) => s + (l.msMedian ?? 0), 0);
console.log(`  layers: ${d.layers?.length ?? 0}, sum of per-layer medians ${sum.toFixed(3)} ms; slowest ${top}:`);
for (const l of layers) console.log(`    ${l.path.padEnd(28)} ${f(l.msMedian)} ms${Object.keys(l).filter((k) => k !== 'path' && k !== 'msMedian').map((k) => ` ${k}=${JSON.stringify(l[k])}`).join('')}`);
