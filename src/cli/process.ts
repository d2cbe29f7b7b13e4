/**
 * The `cnn` process around runCli: writes that survive a closed pipe (`cnn params ... | head`),
 * and our stderr on the descriptor the quiet child was given (bin/quiet-child.js starts it for
 * the commands that may load a GPU driver, whose native output it drops).
 */
import { writeSync } from 'node:fs';
import { isatty } from 'node:tty';
import type { Io } from './command';

type RunCli = (argv: string[], io: Io) => Promise<number>;

/** Set in the quiet child: the descriptor that carries our own stderr lines to the parent. */
const STDERR_FD_ENV = 'CNN_STDERR_FD';
/** Set in the quiet child when the parent's stderr is a terminal (the child's is a pipe). */
const STDERR_TTY_ENV = 'CNN_STDERR_TTY';

const pause = new Int32Array(new SharedArrayBuffer(4));

/**
 * A synchronous writer to a file descriptor. Once the reader has gone (EPIPE: `| head` has
 * seen enough) it drops everything quietly, and the command ends with its own status. A pipe
 * a parent left non-blocking answers EAGAIN when full: wait a millisecond and go on.
 */
export function fdWriter(fd: number): (text: string) => void {
  let closed = false;
  return (text) => {
    if (closed) return;
    const buf = Buffer.from(text);
    let at = 0;
    while (at < buf.length) {
      try {
        at += writeSync(fd, buf, at);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'EAGAIN') {
          Atomics.wait(pause, 0, 0, 1);
          continue;
        }
        // EPIPE, or a descriptor that was closed or never open: nobody is reading.
        closed = true;
        return;
      }
    }
  };
}

/** The Io of a real process: stdout on fd 1, our stderr on fd 2 (or the quiet child's pipe). */
export function processIo(): Io {
  const errFd = Number(process.env[STDERR_FD_ENV]) || 2;
  const out = fdWriter(1);
  const err = fdWriter(errFd);
  return {
    out: (t) => out(`${t}\n`),
    err: (t) => err(`${t}\n`),
    errRaw: err,
    tty: errFd === 2 ? isatty(2) : process.env[STDERR_TTY_ENV] === '1',
  };
}

/** The process entry: bin/cnn.js (and its quiet child, `node dist/cli.cjs`) call it. */
export function main(argv: string[], runCli: RunCli): void {
  runCli(argv, processIo()).then((code) => {
    process.exitCode = code;
  });
}
