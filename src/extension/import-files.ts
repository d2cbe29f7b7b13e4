/**
 * What `CNN: Import ONNX Model…` writes, without vscode: beside MODEL.onnx, MODEL.cnn and
 * MODEL.safetensors (and labels.txt when the model names its classes), as `cnn import` does.
 * The host (src/extension/import.ts: workspace.fs and a modal question; a fake in tests) says
 * which files exist, asks before any is replaced, and writes. The weights and labels are written
 * before the network, so that a .cnn never stands without its weights; a failed write removes
 * the files this import created.
 */
import { importOnnx, ImportError, type ImportResult } from '../import';

/** File operations on names in the model's folder. */
export interface ImportHost {
  exists(name: string): Promise<boolean>;
  write(name: string, data: Uint8Array): Promise<void>;
  remove(name: string): Promise<void>;
  /** Asked once, naming every file that is there already; false leaves everything as it was. */
  confirmOverwrite(names: string[]): Promise<boolean>;
}

export type ImportOutcome =
  | { t: 'written'; network: string; files: string[]; summary: string; result: ImportResult }
  | { t: 'cancelled' }
  | { t: 'failed'; message: string };

/** `resnet18.onnx` → `resnet18`; another name keeps its whole self. */
export function baseName(modelName: string): string {
  return modelName.replace(/\.onnx$/i, '') || 'model';
}

const utf8 = (s: string) => new TextEncoder().encode(s);

export async function importBeside(host: ImportHost, modelName: string, bytes: Uint8Array): Promise<ImportOutcome> {
  const base = baseName(modelName);
  let result: ImportResult;
  try {
    result = importOnnx(bytes, { name: base, source: modelName });
  } catch (e) {
    if (e instanceof ImportError) return { t: 'failed', message: `${modelName}: ${e.message}` };
    throw e;
  }
  const files: [string, Uint8Array][] = [[`${base}.safetensors`, result.weights]];
  if (result.labels) files.push(['labels.txt', utf8(`${result.labels.join('\n')}\n`)]);
  files.push([`${base}.cnn`, utf8(result.text)]);

  const existing: string[] = [];
  for (const [name] of files) if (await host.exists(name)) existing.push(name);
  if (existing.length && !(await host.confirmOverwrite(existing))) return { t: 'cancelled' };

  const created: string[] = [];
  for (const [name, data] of files) {
    try {
      await host.write(name, data);
      if (!existing.includes(name)) created.push(name);
    } catch (e) {
      for (const c of created) await host.remove(c).catch(() => undefined);
      return { t: 'failed', message: `writing ${name}: ${e instanceof Error ? e.message : String(e)}` };
    }
  }
  const summary = `${result.layers} layers, ${result.tensors} tensors, ${result.params.toLocaleString('en-US')} parameters${result.labels ? `, ${result.labels.length} class names` : ''}`;
  return { t: 'written', network: result.network, files: files.map(([n]) => n), summary, result };
}
