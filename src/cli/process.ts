/**
 * The `cnn` process around runCli: writes that survive a closed pipe (`cnn params ... | head`),
 * standard input for `-`, and, for the commands that may load a GPU driver, a child process
 * whose driver chatter is kept off the user's terminal.
 */
import { spawn } from 'node:child_process';
import { writeSync } from 'node:fs';
import { constants } from 'node:os';
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

/** Backends that never load the GPU driver, so need no quiet child. */
const DRIVERLESS = new Set(['cpu', 'reference']);

/** `run` and `bench` probe WebGPU adapters unless told to use the CPU; the rest never load a driver. */
export function mayLoadGpuDriver(argv: readonly string[]): boolean {
  if (argv[0] !== 'run' && argv[0] !== 'bench') return false;
  if (argv.includes('--help') || argv.includes('-h')) return false;
  for (let i = 1; i < argv.length; i++) {
    if (argv[i] === '--') break;
    const m = /^--backend(?:=(.*))?$/.exec(argv[i]);
    if (m) return !DRIVERLESS.has(m[1] ?? argv[i + 1] ?? '');
  }
  return true;
}

const TAIL_BYTES = 16 * 1024;

/**
 * Runs the command in a child whose file descriptor 2, where Vulkan drivers and Dawn print
 * from native code ("Warning: Vulkan shaderUniform*ArrayDynamicIndexing required", Wayland
 * probes), is read and dropped, while our own lines come back on descriptor 3. There is no
 * portable way to silence native writes to fd 2 inside one Node process. What the child
 * printed there is shown only when it dies abnormally, as the reason.
 */
function runQuietChild(argv: string[], script: string): Promise<number> {
  const err = fdWriter(2);
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...process.execArgv, script, ...argv], {
      stdio: ['inherit', 'inherit', 'pipe', 'pipe'],
      env: { ...process.env, [STDERR_FD_ENV]: '3', [STDERR_TTY_ENV]: isatty(2) ? '1' : '' },
    });
    let tail = '';
    child.stdio[2]!.setEncoding('utf8').on('data', (s: string) => {
      tail = (tail + s).slice(-TAIL_BYTES);
    });
    child.stdio[3]!.on('data', (b: Buffer) => err(b.toString('utf8')));
    // Signals go on to the child, and the parent waits for it to end: a terminal's Ctrl-C reaches both anyway.
    const forward = (sig: NodeJS.Signals) => () => child.kill(sig);
    const onInt = forward('SIGINT');
    const onTerm = forward('SIGTERM');
    const onHup = forward('SIGHUP');
    process.on('SIGINT', onInt);
    process.on('SIGTERM', onTerm);
    process.on('SIGHUP', onHup);
    child.on('error', (e) => {
      err(`cnn ${argv[0]}: cannot start: ${e.message}\n`);
      resolve(1);
    });
    child.on('close', (code, signal) => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      process.off('SIGHUP', onHup);
      if (code === 0 || code === 1 || code === 2) return resolve(code);
      const last = tail
        .split('\n')
        .map((l) => l.trim())
        .filter(Boolean)
        .at(-1);
      if (signal === 'SIGINT') return resolve(130);
      const how = signal ? `was killed by ${signal}` : `exited with status ${code}`;
      err(`cnn ${argv[0]}: the process ${how}${last ? `; its last message: ${last.slice(0, 300)}` : ''}\n`);
      resolve(signal ? 128 + (constants.signals[signal] ?? 0) : (code ?? 1));
    });
  });
}

/** The process entry: bin/cnn.js and `node dist/cli.cjs` call it. */
export function main(argv: string[], runCli: RunCli): void {
  const quiet = !process.env[STDERR_FD_ENV] && !process.env.CNN_DEBUG && mayLoadGpuDriver(argv) && typeof __filename === 'string' && __filename.endsWith('.cjs');
  const done = quiet ? runQuietChild(argv, __filename) : runCli(argv, processIo());
  done.then((code) => {
    process.exitCode = code;
  });
}
