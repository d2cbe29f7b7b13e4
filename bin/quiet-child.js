// `cnn run` and `cnn bench` may load a GPU driver, and Vulkan drivers and Dawn print from native
// code to file descriptor 2 ("Warning: Vulkan shaderUniform*ArrayDynamicIndexing required",
// Wayland probes); no portable way silences native writes inside one Node process. So those
// commands run in a child whose fd 2 is read and dropped, while our own lines come back on fd 3
// (CNN_STDERR_FD, which the bundle's processIo writes to). Plain JavaScript in bin/, so that
// the parent starts the child without loading the bundle itself.
import { spawn } from 'node:child_process';
import { writeSync } from 'node:fs';
import { constants } from 'node:os';
import { isatty } from 'node:tty';

/** Backends that never load the GPU driver, so need no quiet child. */
const DRIVERLESS = new Set(['cpu', 'reference']);

/** run and bench probe WebGPU adapters unless told to use the CPU; the other commands never load a driver. */
export function needsQuietChild(argv, env) {
  if (env.CNN_STDERR_FD || env.CNN_DEBUG) return false;
  if (argv[0] !== 'run' && argv[0] !== 'bench') return false;
  if (argv.includes('--help') || argv.includes('-h')) return false;
  for (let i = 1; i < argv.length; i++) {
    if (argv[i] === '--') break;
    const m = /^--backend(?:=(.*))?$/.exec(argv[i]);
    if (m) return !DRIVERLESS.has(m[1] ?? argv[i + 1] ?? '');
  }
  return true;
}

const pause = new Int32Array(new SharedArrayBuffer(4));

/** Our stderr, dropping what a closed reader can no longer take (EPIPE); a full non-blocking pipe (EAGAIN) is waited for. */
function stderrWriter() {
  let closed = false;
  return (text) => {
    if (closed) return;
    const buf = Buffer.from(text);
    let at = 0;
    while (at < buf.length) {
      try {
        at += writeSync(2, buf, at);
      } catch (e) {
        if (e.code === 'EAGAIN') {
          Atomics.wait(pause, 0, 0, 1);
          continue;
        }
        closed = true;
        return;
      }
    }
  };
}

const TAIL_BYTES = 16 * 1024;

/** Runs `node script ...argv` quietly; resolves to its exit status. What it printed on fd 2 is shown only when it dies abnormally. */
export function runQuietChild(script, argv) {
  const err = stderrWriter();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...process.execArgv, script, ...argv], {
      stdio: ['inherit', 'inherit', 'pipe', 'pipe'],
      env: { ...process.env, CNN_STDERR_FD: '3', CNN_STDERR_TTY: isatty(2) ? '1' : '' },
    });
    let tail = '';
    child.stdio[2].setEncoding('utf8').on('data', (s) => {
      tail = (tail + s).slice(-TAIL_BYTES);
    });
    child.stdio[3].on('data', (b) => err(b.toString('utf8')));
    // Signals go on to the child, and the parent waits for it to end: a terminal's Ctrl-C reaches both anyway.
    const handlers = ['SIGINT', 'SIGTERM', 'SIGHUP'].map((sig) => [sig, () => child.kill(sig)]);
    for (const [sig, h] of handlers) process.on(sig, h);
    child.on('error', (e) => {
      err(`cnn ${argv[0]}: cannot start: ${e.message}\n`);
      resolve(1);
    });
    child.on('close', (code, signal) => {
      for (const [sig, h] of handlers) process.off(sig, h);
      if (code === 0 || code === 1 || code === 2) return resolve(code);
      if (signal === 'SIGINT') return resolve(130);
      // A crash's last words may say why; after a signal someone sent, they are only the drivers' chatter.
      const sent = signal === 'SIGTERM' || signal === 'SIGHUP' || signal === 'SIGKILL';
      const last = sent
        ? undefined
        : tail
            .split('\n')
            .map((l) => l.trim())
            .filter(Boolean)
            .at(-1);
      const how = signal ? `was killed by ${signal}` : `exited with status ${code}`;
      err(`cnn ${argv[0]}: the process ${how}${last ? `; its last message: ${last.slice(0, 300)}` : ''}\n`);
      resolve(signal ? 128 + (constants.signals[signal] ?? 0) : (code ?? 1));
    });
  });
}
