/**
 * Writes webview/media/samples/: a few of scikit-image's sample photos (Debian's python3-skimage,
 * skimage/data/; public domain or CC0, see NOTICE) shrunk to at most 256 pixels a side, the
 * Fashion-MNIST test images of examples/fashion-mnist/images when they exist, and manifest.json.
 *   npx tsx webview/tools/make-samples.ts [/usr/lib/python3/dist-packages/skimage/data]
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { decodeImage } from '../../src/engine/input/decode-node';
import { resampleTaps } from '../../src/engine/input/preprocess';
import type { SampleImage } from '../src/protocol';

const SKIMAGE = process.argv[2] ?? '/usr/lib/python3/dist-packages/skimage/data';
const OUT = 'webview/media/samples';
const PHOTOS: [string, string, string][] = [
  ['chelsea.png', 'chelsea', 'Chelsea the cat (skimage)'],
  ['coffee.png', 'coffee', 'Coffee cup (skimage)'],
  ['astronaut.png', 'astronaut', 'Astronaut Eileen Collins (skimage)'],
  ['rocket.jpg', 'rocket', 'Falcon 9 rocket (skimage)'],
  ['camera.png', 'camera', 'Cameraman, grayscale (skimage)'],
];
const MAX = 256;

function shrink(px: { width: number; height: number; data: Uint8Array | Uint8ClampedArray }): PNG {
  const k = Math.min(1, MAX / Math.max(px.width, px.height));
  const w = Math.round(px.width * k);
  const hgt = Math.round(px.height * k);
  const cols = resampleTaps(px.width, w, 0, w, true);
  const rows = resampleTaps(px.height, hgt, 0, hgt, true);
  const png = new PNG({ width: w, height: hgt });
  for (let y = 0; y < hgt; y++) {
    for (let x = 0; x < w; x++) {
      for (let c = 0; c < 4; c++) {
        let s = 0;
        for (let a = 0; a < rows.count[y]; a++) {
          const yy = rows.first[y] + a;
          let r = 0;
          for (let b = 0; b < cols.count[x]; b++) r += cols.weights[x * cols.maxTaps + b] * px.data[4 * (yy * px.width + cols.first[x] + b) + c];
          s += rows.weights[y * rows.maxTaps + a] * r;
        }
        png.data[4 * (y * w + x) + c] = Math.max(0, Math.min(255, Math.round(s)));
      }
    }
  }
  return png;
}

mkdirSync(OUT, { recursive: true });
const manifest: SampleImage[] = [];
const fashion = 'examples/fashion-mnist/images';
if (existsSync(fashion)) {
  for (const f of readdirSync(fashion).filter((f) => f.endsWith('.png')).sort()) {
    copyFileSync(join(fashion, f), join(OUT, `fashion-${f}`));
    manifest.push({ id: `fashion-${f.replace(/\.png$/, '')}`, label: `Fashion-MNIST: ${f.replace(/\.png$/, '').replace(/^\d+-/, '')}`, file: `fashion-${f}` });
  }
}
for (const [file, id, label] of PHOTOS) {
  const src = join(SKIMAGE, file);
  if (!existsSync(src)) {
    console.warn(`missing ${src}`);
    continue;
  }
  const png = shrink(decodeImage(new Uint8Array(readFileSync(src))));
  writeFileSync(join(OUT, `${id}.png`), PNG.sync.write(png));
  manifest.push({ id, label, file: `${id}.png` });
}
writeFileSync(join(OUT, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
console.log(`${manifest.length} samples in ${OUT}`);
