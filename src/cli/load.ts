/** Reading a network file (or standard input, for `-`) and picking the network a command is about. */
import { readFileSync } from 'node:fs';
import { analyzeText, type FileAnalysis, type NetworkAnalysis } from '../analysis';
import { diagnosticLine } from '../analysis/format';
import { DTYPE_BYTES, type DType } from '../analysis/types';
import { CliError, UsageError, type Io } from './command';

/** `-` stands for standard input, as in most Unix tools. */
export const STDIN = '-';

/** The name messages give a file: `<stdin>` for `-`. */
export function displayName(file: string): string {
  return file === STDIN ? '<stdin>' : file;
}

/** One line saying why a file cannot be read, from its errno code. */
export function readErrorReason(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EISDIR') return 'is a directory';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'ERR_FS_FILE_TOO_LARGE') return 'too large to read at once (over 2 GiB)';
  return `cannot read (${code ?? (e as Error).message?.split('\n')[0] ?? String(e)})`;
}

const WRITE_REASONS: Record<string, string> = {
  ENOENT: 'no such folder',
  ENOTDIR: 'a part of the path is not a folder',
  EISDIR: 'is a folder',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
};

/** One line saying why a file cannot be written, from its errno code. */
export function writeErrorReason(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code ?? '';
  return WRITE_REASONS[code] ?? (code || ((e as Error).message ?? String(e)).split('\n')[0]);
}

let stdinText: string | undefined;

/** The text of a network file; `-` reads standard input (once: a second `-` gets the same text). */
export function readSource(file: string, io?: Io): string {
  if (file === STDIN) {
    if (stdinText === undefined || io?.stdin) {
      try {
        stdinText = io?.stdin ? io.stdin() : readFileSync(0, 'utf8');
      } catch (e) {
        throw new CliError(`<stdin>: ${readErrorReason(e)}`);
      }
    }
    return stdinText;
  }
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw new CliError(`${file}: ${readErrorReason(e)}`);
  }
}

export function parseShape(text: string | undefined): number[] | undefined {
  if (text === undefined) return undefined;
  const parts = text.split(/[xX×,]/).map(Number);
  if (!(parts.length === 1 || parts.length === 3) || parts.some((p) => !Number.isInteger(p) || p < 1)) {
    throw new UsageError(`--shape ${text}: give C x H x W (like 3x224x224) or N`);
  }
  return parts;
}

export function parseDtype(text: string | undefined): DType | undefined {
  if (text === undefined) return undefined;
  if (!(text in DTYPE_BYTES)) throw new UsageError(`--dtype ${text}: choose one of ${Object.keys(DTYPE_BYTES).join(', ')}`);
  return text as DType;
}

/** Loads, analyses and picks the network the command is about (the first, unless --network). */
export function loadNetwork(file: string, values: Record<string, unknown>, io?: Io): { analysis: FileAnalysis; net: NetworkAnalysis } {
  const wanted = values.network as string | undefined;
  const inputShape = parseShape(values.shape as string | undefined);
  const dtype = parseDtype(values.dtype as string | undefined);
  const name = displayName(file);
  const analysis = analyzeText(readSource(file, io), { network: wanted, inputShape, dtype });
  if (analysis.networks.length === 0) {
    const errs = analysis.diagnostics.filter((d) => d.severity === 'error').map((d) => diagnosticLine(name, d));
    throw new CliError(errs.length ? errs.join('\n') : `${name}: no network in this file (write 'network Name { ... }')`);
  }
  const net = wanted === undefined ? analysis.networks[0] : analysis.networks.find((n) => n.graph.network === wanted);
  if (!net) {
    throw new CliError(`${name}: no network named '${wanted}'; the file has ${analysis.networks.map((n) => n.graph.network).join(', ')}`);
  }
  return { analysis, net };
}

export function hasErrors(a: FileAnalysis): boolean {
  return a.diagnostics.some((d) => d.severity === 'error');
}
