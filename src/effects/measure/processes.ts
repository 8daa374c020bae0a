/** The helper processes of a live measurement (tcpdump, ip monitor, ping, the trigger, arping): start, wait, stop by PID. */
import { spawn, type ChildProcess } from 'node:child_process';
import { envError } from '../../core/errors.js';
import { nowMs } from '../../core/clock.js';

export interface TriggerRun {
  command: string;
  tsMs: number;
  exitCode?: number;
  output: string;
}

export function spawnChecked(argv: string[], env?: NodeJS.ProcessEnv): ChildProcess {
  // detached: our own process group, so a terminal Ctrl-C reaches hadiag (which then stops these by PID).
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], detached: true, env: { ...process.env, LC_ALL: 'C', ...env } });
  return child;
}

export function stopChild(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return resolve();
    const t = setTimeout(() => {
      try {
        process.kill(child.pid!, 'SIGKILL');
      } catch {
        /* gone */
      }
    }, 2000);
    child.once('close', () => {
      clearTimeout(t);
      resolve();
    });
    try {
      process.kill(child.pid, signal);
    } catch {
      clearTimeout(t);
      resolve();
    }
  });
}

export const waitFor = (child: ChildProcess, pattern: RegExp, timeoutMs: number, what: string): Promise<void> =>
  new Promise((resolve, reject) => {
    let err = '';
    const t = setTimeout(() => reject(envError(`${what} did not start`, err.trim().split('\n')[0] || 'no output', 'is it installed, and are you root?')), timeoutMs);
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      err += d;
      if (pattern.test(err)) {
        clearTimeout(t);
        resolve();
      }
    });
    child.once('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(t);
      reject(e.code === 'ENOENT' ? envError(`${what} not found`, 'PATH', 'install it (npm run setup)') : e);
    });
    child.once('close', (code) => {
      clearTimeout(t);
      reject(envError(`${what} exited (code ${code})`, err.trim().split('\n').at(-1) || 'no output', 'check the interface and that you are root'));
    });
  });

/** Run the trigger through sh at a marked t0 (the timestamp is taken right before the spawn). */
export function runTrigger(command: string): Promise<TriggerRun> {
  return new Promise((resolve) => {
    const tsMs = nowMs();
    const child = spawn('sh', ['-c', command], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (output += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (output += d));
    child.on('close', (code) => resolve({ command, tsMs, ...(code !== null ? { exitCode: code } : {}), output: output.slice(0, 2000) }));
    child.on('error', (e) => resolve({ command, tsMs, output: String(e.message) }));
  });
}

/** `arping -D -c 2 -w 3 -I IFACE VIP`; its exit code does not matter, the capture records the answers. */
export function runArpingDad(iface: string, vip: string): Promise<void> {
  return new Promise((resolve) => {
    const child = spawn('arping', ['-D', '-c', '2', '-w', '3', '-I', iface, vip], { stdio: 'ignore' });
    const t = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.on('error', () => {
      clearTimeout(t);
      resolve();
    });
    child.on('close', () => {
      clearTimeout(t);
      resolve();
    });
  });
}
