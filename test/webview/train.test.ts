/**
 * The Train tab in headless chromium (the harness stands in for the extension): Fashion-MNIST's
 * first samples as the extension reads them, trained in the training worker; the curves' points
 * move, pause holds them, stop keeps the last finished epoch, and the weights posted to the
 * extension are those `Trainer` gives in Node for the same samples and seed. With SwiftShader's
 * WebGPU: Auto keeps to the CPU engine (a software adapter) and says so, an explicit WebGPU trains
 * on it with Trainer's weights, and a kind WebGPU cannot train yet is one line. Needs `npm run build`.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { analyzeText } from '../../src/analysis';
import { loadInput } from '../../src/engine/input/load-input';
import { arrayDataset, byteImageDataset, parseIdx } from '../../src/engine/train/dataset';
import { Trainer } from '../../src/engine/train/loop';
import { initWeights } from '../../src/engine/weights/init';
import { loadSafetensorsWeights } from '../../src/engine/weights/load';
import { type IdxData, readIdxFolder } from '../../src/extension/train-data';
import { FASHION_MNIST_FOLDER, type FromWebview } from '../../webview/src/protocol';
import { choose, example, type Harness, launch, openDocument, openPanel, posted, problems, ROOT, send, serve, takeOpened } from './harness';

const FASHION = 'fashion-mnist/fashion.cnn';
const haveFashion = existsSync(join(FASHION_MNIST_FOLDER, 'train-images-idx3-ubyte.gz'));

let server: Harness;
let browser: Browser;

beforeAll(async () => {
  mkdirSync(join(ROOT, 'test-results/webview'), { recursive: true });
  server = await serve();
  browser = await launch(false);
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

afterEach(() => {
  for (const page of takeOpened()) expect(problems(page), 'console errors and CSP violations in the panel').toEqual([]);
});

const read = async (name: string) => {
  const f = join(FASHION_MNIST_FOLDER, name);
  return existsSync(f) ? new Uint8Array(readFileSync(f)) : undefined;
};

/** Answers the page's next `trainData` request as the extension would (its reader, Node's fs). */
async function answerData(page: Page, limit: number): Promise<IdxData> {
  await expect.poll(async () => (await posted(page)).filter((m) => m.type === 'trainData').length, { timeout: 20_000 }).toBeGreaterThan(0);
  const req = (await posted(page)).filter((m): m is Extract<FromWebview, { type: 'trainData' }> => m.type === 'trainData').pop()!;
  expect(req.limit).toBe(limit);
  const data = await readIdxFolder(read, FASHION_MNIST_FOLDER, req.limit);
  const plain = (p: { images: Uint8Array; labels: Uint8Array }) => ({ images: Array.from(p.images), labels: Array.from(p.labels) });
  await page.evaluate(
    ({ id, train, test, source }) => {
      const pair = (p: { images: number[]; labels: number[] }) => ({ images: Uint8Array.from(p.images), labels: Uint8Array.from(p.labels) });
      window.postMessage({ type: 'trainData', id, data: { kind: 'idx', source, train: pair(train), test: test && pair(test) } }, '*');
    },
    { id: req.id, train: plain(data.train), test: data.test && plain(data.test), source: data.source },
  );
  return data;
}

/** What `saveTrained` carried: the harness records messages through JSON, which turns bytes into an object of numbers. */
function savedBytes(m: Extract<FromWebview, { type: 'saveTrained' }>): Uint8Array {
  return Uint8Array.from(Object.values(m.bytes as unknown as Record<string, number>));
}

const count = (page: Page, chart: string, curve = 'first') => page.evaluate(([c, k]) => Number(document.querySelector(`#${c} polyline[data-curve="${k}"]`)?.getAttribute('data-count') ?? -1), [chart, curve] as const);
const status = (page: Page) => page.evaluate(() => document.getElementById('train-status')!.textContent ?? '');
const saves = async (page: Page) => (await posted(page)).filter((m): m is Extract<FromWebview, { type: 'saveTrained' }> => m.type === 'saveTrained');

async function openTrain(on = browser): Promise<Page> {
  const page = await openPanel(on, server.url);
  await openDocument(page, FASHION, undefined, { weights: [{ uri: `${server.url}/examples/fashion-mnist/fashion.safetensors`, name: 'fashion.safetensors' }] });
  await page.click('#tab-train');
  await page.waitForSelector('#view-train', { state: 'visible' });
  return page;
}

/** The largest difference of each tensor, relative to the largest magnitude of Node's. */
function expectWeightsClose(got: Map<string, Float32Array>, want: Map<string, Float32Array>, names: string[], tolerance: number): void {
  for (const name of names) {
    const a = got.get(name)!;
    const b = want.get(name)!;
    const scale = Math.max(1e-6, ...Array.from(b, Math.abs));
    let err = 0;
    for (let i = 0; i < a.length; i++) err = Math.max(err, Math.abs(a[i] - b[i]));
    expect(err / scale, name).toBeLessThan(tolerance);
  }
}

const engineLine = (page: Page) => page.evaluate(() => document.getElementById('train-engine')!.textContent ?? '');

describe.runIf(haveFashion)('the Train tab', () => {
  it('without WebGPU, Auto trains on the CPU engine and says why', async () => {
    const page = await openTrain();
    expect(await page.inputValue('#train-backend')).toBe('auto');
    await choose(page, 'train-limit', '8');
    await choose(page, 'train-batch', '4');
    await page.click('#train-start');
    await answerData(page, 8);
    await expect.poll(() => engineLine(page), { timeout: 60_000 }).toMatch(/^Training on the CPU engine: no hardware WebGPU adapter \(.+\)\.$/);
    await expect.poll(async () => (await saves(page)).length, { timeout: 120_000 }).toBe(1);
  }, 180_000);

  it('trains 600 samples: the curves move, pause holds them, stop keeps epoch 1, and its weights are Trainer’s', async () => {
    const page = await openTrain();
    expect(await page.textContent('#train-note')).toMatch(/beside the file as fashion\.trained\.safetensors \(fashion\.safetensors is never replaced\); Run then uses them/);
    // 75 steps an epoch: enough that pause and stop land inside the run, however fast the engine.
    await choose(page, 'train-limit', '600');
    await choose(page, 'train-batch', '8');
    await choose(page, 'train-epochs', '3');
    await choose(page, 'train-optimizer', 'sgd');
    // The rate follows the optimiser's default.
    expect(await page.inputValue('#train-lr')).toBe('0.01');
    await page.click('#train-start');
    const data = await answerData(page, 600);

    // Steps arrive: the per-step loss curve grows, point by point.
    await expect.poll(() => count(page, 'train-loss'), { timeout: 120_000 }).toBeGreaterThanOrEqual(2);
    const before = await page.getAttribute('#train-loss polyline[data-curve="first"]', 'points');
    await expect.poll(() => count(page, 'train-loss'), { timeout: 120_000 }).toBeGreaterThanOrEqual(4);
    expect(await page.getAttribute('#train-loss polyline[data-curve="first"]', 'points')).not.toBe(before);
    expect(await count(page, 'train-accuracy')).toBeGreaterThanOrEqual(4);
    // On an idle machine the epoch may already be at its test pass.
    expect(await status(page)).toMatch(/Epoch \d\/3(, batch \d+\/75: loss \d\.\d{4}, accuracy \d+\.\d%, \d+\.\d samples\/s|: testing…)/);

    // Epoch 1 ends: its mean loss, train and test accuracy are points, and a row of the table.
    await expect.poll(() => count(page, 'train-loss', 'second'), { timeout: 120_000 }).toBe(1);
    expect(await count(page, 'train-accuracy', 'third')).toBe(1);
    expect(await page.textContent('#train-epochs-table')).toMatch(/epoch.*loss.*train accuracy.*test accuracy/);

    // Pause: the steps stop (the batch under way ends first), and resume goes on.
    await page.click('#train-pause');
    await expect.poll(() => status(page), { timeout: 60_000 }).toMatch(/^Paused at epoch \d, batch \d+\/75/);
    expect(await page.textContent('#train-pause')).toBe('Resume');
    const held = await count(page, 'train-loss');
    await page.waitForTimeout(1500);
    expect(await count(page, 'train-loss')).toBe(held);
    await page.click('#train-pause');
    await expect.poll(() => count(page, 'train-loss'), { timeout: 60_000 }).toBeGreaterThan(held);

    // Stop in epoch 2 or 3: the epochs finished are saved, the one under way dropped.
    await page.click('#train-stop');
    await expect.poll(async () => (await saves(page)).length, { timeout: 120_000 }).toBe(1);
    const save = (await saves(page))[0];
    expect(save).toMatchObject({ uri: 'file:///work/examples/fashion-mnist/fashion.cnn', network: 'FashionNet' });
    const epochs = save.epochs;
    expect(epochs).toBeGreaterThanOrEqual(1);
    expect(await status(page)).toMatch(new RegExp(`^Stopped in epoch \\d at batch \\d+/75: the epoch under way is dropped, as cnn train does; the weights of epoch ${epochs}: saving fashion\\.trained\\.safetensors`));

    // The same run in Node: Trainer, the same samples, seed 0, SGD with momentum 0.9 at 0.01.
    const net = analyzeText(example(FASHION)).networks[0];
    const shape = net.input!;
    const train = byteImageDataset(parseIdx(data.train.images), parseIdx(data.train.labels), shape, 10);
    const test = byteImageDataset(parseIdx(data.test!.images), parseIdx(data.test!.labels), shape, 10);
    const weights = initWeights(net.tensors, 0);
    const trainer = new Trainer(net.graph, net.tensors, weights, { epochs: 3, batch: 8, optimizer: { kind: 'sgd', lr: 0.01, momentum: 0.9 }, schedule: { kind: 'constant' }, seed: 0 });
    for (let e = 0; e < epochs; e++) await trainer.epoch(train, test);
    const got = loadSafetensorsWeights(savedBytes(save), net.tensors);
    const seeded = initWeights(net.tensors, 0);
    let moved = 0;
    for (const t of net.tensors) {
      const a = got.get(t.name)!;
      const b = weights.get(t.name)!;
      const scale = Math.max(1e-6, ...Array.from(b, Math.abs));
      let err = 0;
      for (let i = 0; i < a.length; i++) err = Math.max(err, Math.abs(a[i] - b[i]));
      expect(err / scale, t.name).toBeLessThan(1e-4);
      const s = seeded.get(t.name)!;
      for (let i = 0; i < a.length; i++) moved = Math.max(moved, Math.abs(a[i] - s[i]));
    }
    expect(moved).toBeGreaterThan(1e-3);

    // The extension answers where it wrote them: Run uses them, and says so.
    await send(page, { type: 'trained', uri: save.uri, network: 'FashionNet', file: { uri: `${server.url}/examples/fashion-mnist/fashion.safetensors`, name: 'fashion.trained.safetensors' }, path: '/work/examples/fashion-mnist/fashion.trained.safetensors' });
    await expect.poll(() => status(page), { timeout: 10_000 }).toMatch(/saved as \/work\/examples\/fashion-mnist\/fashion\.trained\.safetensors\. Run now uses fashion\.trained\.safetensors\./);
    expect(await page.inputValue('#weights-picker')).toBe('trained');
    expect(await page.textContent('#weights-note')).toBe('Weights: fashion.trained.safetensors (trained in the Train tab).');
    // The shipped file stays a choice.
    expect(await page.$$eval('#weights-picker option', (o) => o.map((x) => (x as HTMLOptionElement).value))).toEqual(['beside', 'trained', 'seeded']);
    await page.click('#tab-train');
    await page.locator('#view-train').screenshot({ path: join(ROOT, 'test-results/webview/train-dark.png') });
  }, 400_000);

  it('stopped before the first epoch ends, nothing is saved until asked; then the weights as they are now', async () => {
    const page = await openTrain();
    // 80 steps: the stop lands inside the first epoch, however fast the engine.
    await choose(page, 'train-limit', '640');
    await choose(page, 'train-batch', '8');
    await page.click('#train-start');
    await answerData(page, 640);
    await expect.poll(() => count(page, 'train-loss'), { timeout: 120_000 }).toBeGreaterThanOrEqual(1);
    await page.click('#train-stop');
    await expect.poll(() => status(page), { timeout: 60_000 }).toMatch(/^Stopped in epoch 1 at batch \d+\/80 before the first epoch finished: nothing saved \(as cnn train\)\.$/);
    expect(await saves(page)).toEqual([]);
    expect(await page.isVisible('#train-save-current')).toBe(true);
    await page.click('#train-save-current');
    await expect.poll(async () => (await saves(page)).length, { timeout: 30_000 }).toBe(1);
    const bytes = savedBytes((await saves(page))[0]);
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + Number(new DataView(bytes.buffer).getBigUint64(0, true)))));
    expect(header.__metadata__).toMatchObject({ epochs: '0', midEpoch: expect.stringMatching(/^1:\d+$/) });
    expect(await status(page)).toMatch(/^The weights as they were at epoch 1, batch \d+ \(mid-epoch\): saving fashion\.trained\.safetensors/);
    // A failed write: one line, in the status and the messages.
    await send(page, { type: 'trained', uri: 'file:///work/examples/fashion-mnist/fashion.cnn', network: 'FashionNet', error: 'cannot write fashion.trained.safetensors: permission denied' });
    await expect.poll(() => status(page), { timeout: 10_000 }).toMatch(/^Training failed: the weights as they were at epoch 1, batch \d+ \(mid-epoch\): cannot write fashion\.trained\.safetensors: permission denied$/);
    expect(await page.textContent('#messages')).toMatch(/Training failed/);
    await page.click('#messages .dismiss');
  }, 300_000);

  it('trains on an image folder (train/CLASS/*.png): the worker decodes the images as Node does, and the weights are Trainer’s', async () => {
    const page = await openTrain();
    await choose(page, 'train-batch', '5');
    await choose(page, 'train-optimizer', 'adamw');
    expect(await page.inputValue('#train-lr')).toBe('0.001');
    // A picked folder (the extension's answer to pickTrainFolder).
    await page.selectOption('#train-data', '__pick');
    await expect.poll(async () => (await posted(page)).some((m) => m.type === 'pickTrainFolder'), { timeout: 10_000 }).toBe(true);
    await send(page, { type: 'trainFolder', uri: 'file:///data/fashion-folder', name: 'fashion-folder' });
    await expect.poll(() => page.inputValue('#train-data'), { timeout: 10_000 }).toBe('folder');
    await page.click('#train-start');
    await expect.poll(async () => (await posted(page)).some((m) => m.type === 'trainData'), { timeout: 20_000 }).toBe(true);
    const req = (await posted(page)).find((m): m is Extract<FromWebview, { type: 'trainData' }> => m.type === 'trainData')!;
    expect(req.folder).toBe('file:///data/fashion-folder');
    // Ten classes, one image each (the bundled samples), the same ten as the validation split.
    const dir = join(ROOT, 'examples/fashion-mnist/images');
    const files = readdirSync(dir).sort();
    const classes = files.map((f) => `c${f[0]}`);
    const samples = files.map((f, label) => ({ name: `train/${classes[label]}/${f}`, label, bytes: Array.from(readFileSync(join(dir, f))) }));
    await page.evaluate(
      ({ id, classes, samples }) => {
        const list = samples.map((s) => ({ ...s, bytes: Uint8Array.from(s.bytes) }));
        window.postMessage({ type: 'trainData', id, data: { kind: 'images', source: '/data/fashion-folder', classes, train: list, test: list } }, '*');
      },
      { id: req.id, classes, samples },
    );
    await expect.poll(async () => (await saves(page)).length, { timeout: 180_000 }).toBe(1);
    expect(await count(page, 'train-loss')).toBe(2);
    expect(await count(page, 'train-accuracy', 'third')).toBe(1);

    const net = analyzeText(example(FASHION)).networks[0];
    const shape = net.input!;
    const size = shape.reduce((a, d) => a * d, 1);
    const data = new Float32Array(files.length * size);
    files.forEach((f, i) => data.set(loadInput(new Uint8Array(readFileSync(join(dir, f))), shape).data, i * size));
    const set = arrayDataset(data, files.map((_, i) => i), shape, 10);
    const weights = initWeights(net.tensors, 0);
    await new Trainer(net.graph, net.tensors, weights, { epochs: 1, batch: 5, optimizer: { kind: 'adamw', lr: 1e-3 }, schedule: { kind: 'constant' }, seed: 0 }).epoch(set, set);
    const got = loadSafetensorsWeights(savedBytes((await saves(page))[0]), net.tensors);
    for (const t of net.tensors) {
      const a = got.get(t.name)!;
      const b = weights.get(t.name)!;
      const scale = Math.max(1e-6, ...Array.from(b, Math.abs));
      let err = 0;
      for (let i = 0; i < a.length; i++) err = Math.max(err, Math.abs(a[i] - b[i]));
      expect(err / scale, t.name).toBeLessThan(1e-4);
    }
  }, 300_000);

  it('an image folder whose classes do not match the output is one line', async () => {
    const page = await openTrain();
    await page.selectOption('#train-data', '__pick');
    await send(page, { type: 'trainFolder', uri: 'file:///data/two', name: 'two' });
    await expect.poll(() => page.inputValue('#train-data'), { timeout: 10_000 }).toBe('folder');
    await page.click('#train-start');
    await expect.poll(async () => (await posted(page)).some((m) => m.type === 'trainData'), { timeout: 20_000 }).toBe(true);
    const req = (await posted(page)).find((m): m is Extract<FromWebview, { type: 'trainData' }> => m.type === 'trainData')!;
    const png = Array.from(readFileSync(join(ROOT, 'examples/fashion-mnist/images/6-shirt.png')));
    await page.evaluate(
      ({ id, png }) => {
        const s = (label: number) => ({ name: `train/${label}/x.png`, label, bytes: Uint8Array.from(png) });
        window.postMessage({ type: 'trainData', id, data: { kind: 'images', source: '/data/two', classes: ['a', 'b'], train: [s(0), s(1)] } }, '*');
      },
      { id: req.id, png },
    );
    await expect.poll(() => status(page), { timeout: 60_000 }).toBe("Training failed: /data/two: train/ has 2 class folders; the network's output has 10 classes");
    await page.click('#messages .dismiss');
  }, 120_000);

  it('a missing dataset is one line', async () => {
    const page = await openTrain();
    await page.click('#train-start');
    await expect.poll(async () => (await posted(page)).some((m) => m.type === 'trainData'), { timeout: 20_000 }).toBe(true);
    const req = (await posted(page)).find((m): m is Extract<FromWebview, { type: 'trainData' }> => m.type === 'trainData')!;
    expect(req).toMatchObject({ limit: 0 });
    expect(req.folder).toBeUndefined();
    await send(page, { type: 'trainData', id: req.id, error: "/usr/share/datasets/fashion-mnist: no train-images-idx3-ubyte[.gz] there; install Debian's dataset-fashion-mnist" });
    await expect.poll(() => status(page), { timeout: 10_000 }).toBe("Training failed: /usr/share/datasets/fashion-mnist: no train-images-idx3-ubyte[.gz] there; install Debian's dataset-fashion-mnist");
    expect(await page.isDisabled('#train-start')).toBe(false);
    await page.click('#messages .dismiss');
  }, 120_000);
});

describe.runIf(haveFashion)('the Train tab on SwiftShader’s WebGPU (a software adapter)', () => {
  let gpuBrowser: Browser;
  beforeAll(async () => {
    gpuBrowser = await launch(true);
  });
  afterAll(async () => {
    await gpuBrowser?.close();
  });

  it('Auto keeps to the CPU engine and says that SwiftShader is a software adapter', async () => {
    const page = await openTrain(gpuBrowser);
    await choose(page, 'train-limit', '8');
    await choose(page, 'train-batch', '4');
    await page.click('#train-start');
    await answerData(page, 8);
    await expect.poll(() => engineLine(page), { timeout: 60_000 }).toMatch(/^Training on the CPU engine: no hardware WebGPU adapter \(.*swiftshader.* is a software adapter, slower than the CPU engine; choose WebGPU to use it anyway\)\.$/i);
    await expect.poll(async () => (await saves(page)).length, { timeout: 120_000 }).toBe(1);
  }, 180_000);

  it('WebGPU chosen trains 32 samples on SwiftShader: its weights are the CPU Trainer’s', async () => {
    const page = await openTrain(gpuBrowser);
    await choose(page, 'train-backend', 'webgpu');
    await choose(page, 'train-limit', '32');
    await choose(page, 'train-batch', '16');
    await choose(page, 'train-optimizer', 'sgd');
    await page.click('#train-start');
    const data = await answerData(page, 32);
    await expect.poll(() => engineLine(page), { timeout: 60_000 }).toMatch(/^Training on WebGPU \(.*swiftshader.*\): a software adapter, much slower than the CPU engine\.$/i);
    await expect.poll(async () => (await saves(page)).length, { timeout: 500_000, interval: 1000 }).toBe(1);
    expect(await count(page, 'train-loss')).toBe(2);

    const net = analyzeText(example(FASHION)).networks[0];
    const shape = net.input!;
    const train = byteImageDataset(parseIdx(data.train.images), parseIdx(data.train.labels), shape, 10);
    const test = byteImageDataset(parseIdx(data.test!.images), parseIdx(data.test!.labels), shape, 10);
    const weights = initWeights(net.tensors, 0);
    await new Trainer(net.graph, net.tensors, weights, { epochs: 1, batch: 16, optimizer: { kind: 'sgd', lr: 0.01, momentum: 0.9 }, schedule: { kind: 'constant' }, seed: 0 }).epoch(train, test);
    const got = loadSafetensorsWeights(savedBytes((await saves(page))[0]), net.tensors);
    expectWeightsClose(got, weights, net.tensors.map((t) => t.name), 1e-3);
  }, 600_000);
});
