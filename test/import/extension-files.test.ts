/**
 * The files `CNN: Import ONNX Model…` writes (src/extension/import-files.ts) on a fake folder:
 * NET.cnn, NET.safetensors and labels.txt beside the model, weights before the network; one
 * question before replacing anything, and a no leaves the folder as it was; a failed write takes
 * back the files it created; an unreadable model is one line and writes nothing.
 */
import { describe, expect, it } from 'vitest';
import { analyzeText } from '../../src/analysis';
import { exportOnnx } from '../../src/export/onnx';
import { importBeside, type ImportHost } from '../../src/extension/import-files';
import { randomWeights, rng } from '../engine/helpers';
import { analysed, weightsOf } from './helpers';
import { buildModel, int } from './onnx-builder';

const TINY = 'network Tiny {\n  input 3x8x8\n  c1: conv 4 k=3 p=1\n  relu\n  gap\n  flatten\n  fc: linear 3\n}\n';
const net = analyzeText(TINY).networks[0];
const weights = randomWeights(net.tensors, rng(4));
const MODEL = exportOnnx(net, weights);

class FakeFolder implements ImportHost {
  files = new Map<string, Uint8Array>();
  log: string[] = [];
  questions: string[][] = [];
  constructor(
    private answer = true,
    private failOn?: string,
  ) {}
  async exists(name: string) {
    return this.files.has(name);
  }
  async write(name: string, data: Uint8Array) {
    if (name === this.failOn) throw new Error('disk full');
    this.log.push(`write ${name}`);
    this.files.set(name, data);
  }
  async remove(name: string) {
    this.log.push(`remove ${name}`);
    this.files.delete(name);
  }
  async confirmOverwrite(names: string[]) {
    this.questions.push(names);
    return this.answer;
  }
}

const text = (b: Uint8Array | undefined) => new TextDecoder().decode(b);

describe('the VS Code import command: its files', () => {
  it('writes tiny.safetensors, then tiny.cnn, beside the model; they analyse and load', async () => {
    const host = new FakeFolder();
    const r = await importBeside(host, 'tiny.onnx', MODEL);
    expect(r.t).toBe('written');
    expect(host.log).toEqual(['write tiny.safetensors', 'write tiny.cnn']);
    expect(host.questions).toEqual([]);
    const back = analysed(text(host.files.get('tiny.cnn')));
    expect(back.graph.network).toBe('Tiny');
    const w = weightsOf(back, host.files.get('tiny.safetensors')!);
    expect([...w.get('c1.weight')!]).toEqual([...weights.get('c1.weight')!]);
    if (r.t === 'written') expect(r.summary).toMatch(/^\d+ layers, 4 tensors, 127 parameters$/);
  });

  it('writes labels.txt when the model names its classes', async () => {
    const model = buildModel({
      input: ['N', 4],
      output: ['N', 3],
      metadata: { classes: JSON.stringify(['cat', 'dog', 'emu']) },
      nodes: [{ op: 'Gemm', inputs: ['input', 'fc.weight', 'fc.bias'], attrs: { transB: int(1) } }],
      inits: { 'fc.weight': { dims: [3, 4] }, 'fc.bias': { dims: [3] } },
    });
    const host = new FakeFolder();
    await importBeside(host, 'animals.onnx', model);
    expect(host.log).toEqual(['write animals.safetensors', 'write labels.txt', 'write animals.cnn']);
    expect(text(host.files.get('labels.txt'))).toBe('cat\ndog\nemu\n');
  });

  it('asks once before replacing files; no leaves them as they were, yes replaces them', async () => {
    const no = new FakeFolder(false);
    no.files.set('tiny.cnn', new TextEncoder().encode('mine'));
    no.files.set('tiny.safetensors', new Uint8Array([1]));
    expect(await importBeside(no, 'tiny.onnx', MODEL)).toEqual({ t: 'cancelled' });
    expect(no.questions).toEqual([['tiny.safetensors', 'tiny.cnn']]);
    expect(no.log).toEqual([]);
    expect(text(no.files.get('tiny.cnn'))).toBe('mine');

    const yes = new FakeFolder(true);
    yes.files.set('tiny.cnn', new TextEncoder().encode('mine'));
    expect((await importBeside(yes, 'tiny.onnx', MODEL)).t).toBe('written');
    expect(yes.questions).toEqual([['tiny.cnn']]);
    expect(text(yes.files.get('tiny.cnn'))).toMatch(/^\/\/ Imported from/);
  });

  it('a failed write removes what this import created, and keeps what was there', async () => {
    const host = new FakeFolder(true, 'tiny.cnn');
    const r = await importBeside(host, 'tiny.onnx', MODEL);
    expect(r).toEqual({ t: 'failed', message: 'writing tiny.cnn: disk full' });
    expect(host.log).toEqual(['write tiny.safetensors', 'remove tiny.safetensors']);
    expect(host.files.size).toBe(0);
  });

  it('a file that is not an ONNX model is one line naming it, and nothing is written', async () => {
    const host = new FakeFolder();
    const r = await importBeside(host, 'notes.onnx', new TextEncoder().encode('hello, this is text'));
    expect(r.t).toBe('failed');
    if (r.t === 'failed') {
      expect(r.message).toMatch(/^notes\.onnx: /);
      expect(r.message.split('\n')).toHaveLength(1);
    }
    expect(host.log).toEqual([]);
  });
});
