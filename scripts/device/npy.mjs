// Tiny .npy helpers for the device checks: `node npy.mjs make OUT.npy [seed]` writes a
// 1x3x224x224 float32 array of fixed pseudo-random values in [-1, 1);
// `node npy.mjs diff A.npy B.npy` prints the max absolute and max relative difference.
import { readFileSync, writeFileSync } from 'node:fs';

function readNpy(path) {
  const b = readFileSync(path);
  if (b.toString('latin1', 1, 6) !== 'NUMPY') throw new Error(`${path}: not .npy`);
  const major = b[6];
  const hlen = major === 1 ? b.readUInt16LE(8) : b.readUInt32LE(8);
  const off = (major === 1 ? 10 : 12) + hlen;
  const header = b.toString('latin1', major === 1 ? 10 : 12, off);
  if (!/'descr':\s*'<f4'/.test(header)) throw new Error(`${path}: not little-endian float32: ${header}`);
  const shape = header.match(/'shape':\s*\(([^)]*)\)/)[1];
  const ab = b.buffer.slice(b.byteOffset + off, b.byteOffset + b.length);
  return { data: new Float32Array(ab), shape };
}

function writeNpy(path, data, shape) {
  let h = `{'descr': '<f4', 'fortran_order': False, 'shape': (${shape.join(', ')}), }`;
  const pad = 64 - ((10 + h.length + 1) % 64);
  h = h + ' '.repeat(pad % 64) + '\n';
  const head = Buffer.alloc(10);
  head.write('\x93NUMPY', 0, 'latin1');
  head[6] = 1; head[7] = 0;
  head.writeUInt16LE(h.length, 8);
  writeFileSync(path, Buffer.concat([head, Buffer.from(h, 'latin1'), Buffer.from(data.buffer)]));
}

const [cmd, a, b] = process.argv.slice(2);
if (cmd === 'make') {
  const shape = [1, 3, 224, 224];
  const n = shape.reduce((x, y) => x * y, 1);
  const data = new Float32Array(n);
  let s = (Number(b ?? 12345) >>> 0) || 1;
  for (let i = 0; i < n; i++) { // xorshift32
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    data[i] = (s / 4294967296) * 2 - 1;
  }
  writeNpy(a, data, shape);
  console.log(`wrote ${a}: shape (${shape.join(', ')}) float32`);
} else if (cmd === 'diff') {
  const x = readNpy(a), y = readNpy(b);
  if (x.data.length !== y.data.length) { console.log(`length differs: ${x.shape} vs ${y.shape}`); process.exit(1); }
  let maxAbs = 0, maxRel = 0, maxRef = 0, argAbs = -1, nan = 0;
  for (let i = 0; i < x.data.length; i++) {
    const p = x.data[i], q = y.data[i];
    if (!Number.isFinite(p) || !Number.isFinite(q)) { nan++; continue; }
    const d = Math.abs(p - q);
    if (d > maxAbs) { maxAbs = d; argAbs = i; }
    maxRef = Math.max(maxRef, Math.abs(q));
    const r = d / Math.max(Math.abs(q), 1e-6);
    if (Math.abs(q) > 1e-3 && r > maxRel) maxRel = r;
  }
  const argmax = (v) => { let k = 0; for (let i = 1; i < v.length; i++) if (v[i] > v[k]) k = i; return k; };
  console.log(`shape (${x.shape}) n=${x.data.length} maxAbs=${maxAbs.toExponential(3)} at ${argAbs} ` +
    `maxRel(|ref|>1e-3)=${maxRel.toExponential(3)} maxAbs/max|ref|=${(maxAbs / (maxRef || 1)).toExponential(3)} ` +
    `max|ref|=${maxRef.toPrecision(4)} nonFinite=${nan} argmax ${argmax(x.data)} vs ${argmax(y.data)}`);
} else {
  console.error('usage: node npy.mjs make OUT.npy [seed] | diff A.npy B.npy');
  process.exit(2);
}
