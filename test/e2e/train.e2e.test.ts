/**
 * CNN: Train… end to end: code-server 4.100.3 with the packaged extension (its Node extension
 * host reads Debian's Fashion-MNIST and writes the weights), driven in headless chromium. The
 * Fashion-MNIST example trains for one epoch of 256 samples in the panel, the curves move, and
 * fashion.trained.safetensors appears beside fashion.cnn (fashion.safetensors untouched), which
 * Run then uses.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { analyzeText } from '../../src/analysis';
import { loadSafetensorsWeights } from '../../src/engine/weights/load';
import { FASHION_MNIST_FOLDER } from '../../webview/src/protocol';
import { BASE_ARGS, CHROMIUM, type CodeServer, describeE2E, editorLanguage, norm, openFromExplorer, openWorkbench, panel, runCommand, shot, startCodeServer, VERSION } from './code-server';

const ROOT = join(__dirname, '../..');
const haveFashion = existsSync(join(FASHION_MNIST_FOLDER, 'train-images-idx3-ubyte.gz'));

let server: CodeServer | undefined;
let browser: Browser | undefined;
let context: BrowserContext | undefined;
let page: Page;

describeE2E(`CNN: Train… in code-server ${VERSION}`, () => {
  beforeAll(async () => {
    // On a loaded machine code-server's start or the workbench's first load can time out once: try again.
    for (let attempt = 1; ; attempt++) {
      try {
        server = await startCodeServer({ restricted: true });
        browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: BASE_ARGS });
        ({ ctx: context, page } = await openWorkbench(server, browser));
        return;
      } catch (e) {
        await context?.close().catch(() => undefined);
        await browser?.close().catch(() => undefined);
        await server?.stop().catch(() => undefined);
        server = browser = context = undefined;
        if (attempt === 3) throw e;
      }
    }
  }, 600_000);

  afterAll(async () => {
    if (page) await shot(page, 'train-last');
    await context?.close().catch(() => undefined);
    await browser?.close().catch(() => undefined);
    await server?.stop();
  }, 30_000);

  it.runIf(haveFashion)('trains fashion.cnn for one epoch of 256 samples and writes fashion.trained.safetensors beside it', async () => {
    const ws = server!.ws;
    await openFromExplorer(page, 'fashion-mnist/fashion.cnn');
    // The extension is active once the file is the CNN language (hints may lag on a loaded machine).
    await expect.poll(() => editorLanguage(page), { timeout: 120_000 }).toBe('CNN');
    await runCommand(page, 'CNN: Train…');
    const view = panel(page);
    await view.locator('#view-train').waitFor({ state: 'visible', timeout: 60_000 });
    // The document arrives after the panel opens: the note follows it.
    await expect
      .poll(async () => norm(await view.locator('#train-note').textContent()), { timeout: 30_000 })
      .toMatch(/beside the file as fashion\.trained\.safetensors \(fashion\.safetensors is never replaced\)/);
    const set = (id: string, value: string) =>
      view.locator(`#${id}`).evaluate((d, v) => {
        (d as HTMLInputElement).value = v;
        d.dispatchEvent(new Event('change'));
      }, value);
    await set('train-limit', '256');
    await set('train-batch', '32');
    await set('train-epochs', '1');
    await view.locator('#train-start').click();

    const status = view.locator('#train-status');
    const steps = () => view.locator('#train-loss polyline[data-curve="first"]').getAttribute('data-count').then(Number).catch(() => 0);
    // The curves move: points arrive step by step (8 steps of 32), the status says the speed.
    await expect.poll(async () => `${await steps()} ${norm(await status.textContent())}`, { timeout: 120_000 }).toMatch(/^[1-9]\d* |failed/);
    expect(norm(await status.textContent())).not.toMatch(/failed/);
    const first = await steps();
    await expect.poll(steps, { timeout: 180_000 }).toBeGreaterThan(first);
    expect(norm(await status.textContent())).toMatch(/samples\/s|testing|saving|saved/);

    // The epoch ends, is tested, and the weights are written beside the file.
    await expect.poll(async () => norm(await status.textContent()), { timeout: 300_000 }).toMatch(/saved as|failed/);
    const done = norm(await status.textContent());
    const target = join(ws, 'fashion-mnist', 'fashion.trained.safetensors');
    expect(done).toBe(`The weights after 1 epoch: saved as ${target}. Run now uses fashion.trained.safetensors.`);
    expect(await steps()).toBe(8);
    expect(await view.locator('#train-accuracy polyline[data-curve="third"]').getAttribute('data-count')).toBe('1');
    expect(norm(await view.locator('#train-epochs-table').textContent())).toMatch(/^epoch.*samples\/s1\s*\d\.\d{4}/);
    await shot(page, 'train');

    const net = analyzeText(readFileSync(join(ws, 'fashion-mnist/fashion.cnn'), 'utf8')).networks[0];
    const bytes = new Uint8Array(readFileSync(target));
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true)))));
    expect(header.__metadata__).toMatchObject({ epochs: '1', seed: '0' });
    expect(loadSafetensorsWeights(bytes, net.tensors).size).toBe(net.tensors.length);
    // The shipped weights are untouched, and nothing half-written is left.
    expect(readFileSync(join(ws, 'fashion-mnist/fashion.safetensors')).equals(readFileSync(join(ROOT, 'examples/fashion-mnist/fashion.safetensors')))).toBe(true);
    expect(readdirSync(join(ws, 'fashion-mnist')).filter((f) => f.endsWith('.partial'))).toEqual([]);

    // Run uses the trained weights, and says so.
    await view.locator('#tab-run').click();
    await expect.poll(async () => norm(await view.locator('#weights-note').textContent()), { timeout: 30_000 }).toBe('Weights: fashion.trained.safetensors (trained in the Train tab).');
    await view.locator('#run-button').click();
    await expect.poll(async () => norm(await view.locator('#run-status').textContent()), { timeout: 60_000 }).toMatch(/forward pass.*weights fashion\.trained\.safetensors|failed/);
    expect(norm(await view.locator('#run-status').textContent())).toMatch(/weights fashion\.trained\.safetensors/);
  }, 600_000);
});
