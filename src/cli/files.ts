/**
 * Writing several files as one: each is written to a temporary file beside its target, and only
 * when all are written do they take their names. Without `force` a target that exists stops it
 * before anything is written, and a hard link claims each name (failing, atomically, when a file
 * appeared meanwhile); with it the old files step aside first and come back if a later step
 * fails. Either every file is there, new, or none has changed.
 */
import { existsSync, linkSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { CliError } from './command';
import { writeErrorReason } from './load';

export interface FileToWrite {
  path: string;
  data: string | Uint8Array;
  /** How the messages name it: `-o NET.cnn`, `NET.safetensors`. */
  what: string;
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function tempName(path: string, i: number): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}-${Date.now().toString(36)}-${i}.tmp`);
}

function quietUnlink(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Already gone: nothing to clean.
  }
}

/** Refuses, before anything is written, a target that exists (without force) or is a folder. */
export function checkTargets(files: readonly Omit<FileToWrite, 'data'>[], force: boolean): void {
  for (const f of files) {
    if (isDirectory(f.path)) throw new CliError(`${f.what}: cannot write (is a folder)`);
    if (!force && existsSync(f.path)) throw new CliError(`${f.what}: the file exists; add --force to overwrite it`);
  }
}

export function writeFilesTogether(files: readonly FileToWrite[], force: boolean): void {
  checkTargets(files, force);
  const temps: string[] = [];
  const placed: string[] = [];
  const asides: { path: string; aside: string }[] = [];
  const undo = () => {
    for (const p of placed) quietUnlink(p);
    for (const { path, aside } of asides) {
      try {
        renameSync(aside, path);
      } catch {
        // Nothing more can be done; the old file keeps its temporary name.
      }
    }
    for (const t of temps) quietUnlink(t);
  };
  try {
    files.forEach((f, i) => {
      const t = tempName(f.path, i);
      try {
        writeFileSync(t, f.data, { flag: 'wx' });
      } catch (e) {
        throw new CliError(`${f.what}: cannot write (${writeErrorReason(e)})`);
      }
      temps.push(t);
    });
    files.forEach((f, i) => {
      const t = temps[i];
      if (force && existsSync(f.path)) {
        const aside = `${t}.old`;
        renameSync(f.path, aside);
        asides.push({ path: f.path, aside });
      }
      try {
        linkSync(t, f.path);
        unlinkSync(t);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'EEXIST') throw new CliError(`${f.what}: the file appeared meanwhile; add --force to overwrite it`);
        // A file system without hard links: claim the name by renaming (the check above stands in for the atomic one).
        if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'EXDEV') throw new CliError(`${f.what}: cannot write (${writeErrorReason(e)})`);
        if (existsSync(f.path)) throw new CliError(`${f.what}: the file appeared meanwhile; add --force to overwrite it`);
        renameSync(t, f.path);
      }
      placed.push(f.path);
    });
  } catch (e) {
    undo();
    if (e instanceof CliError) throw e;
    throw new CliError(`cannot write (${writeErrorReason(e)})`);
  }
  for (const { aside } of asides) quietUnlink(aside);
}
