import { spawn } from 'node:child_process';
import { openSync, closeSync, readFileSync } from 'node:fs';
import { alive, netnsPids } from '../../io/netns.js';
import { sleep } from '../../../core/clock.js';
import { envError } from '../../../core/errors.js';
import type { LabHost } from '../types.js';
import type { StopHow } from './types.js';

/**
 * Start a daemon inside a namespace, detached from us (it outlives `hadiag lab up`), stdout+stderr
 * appended to `logFile`. `ip netns exec` execs the program, so the PID is the daemon's own.
 */
export function spawnDetached(netns: string, argv: string[], logFile: string): number {
  const fd = openSync(logFile, 'a');
  try {
    const child = spawn('ip', ['netns', 'exec', netns, ...argv], { detached: true, stdio: ['ignore', fd, fd] });
    child.on('error', () => {});
    child.unref();
    if (!child.pid) throw envError(`could not start ${argv[0]}`, netns, 'is it installed? (npm run setup)');
    return child.pid;
  } finally {
    closeSync(fd);
  }
}

export function readPidFile(file: string | undefined): number | undefined {
  if (!file) return undefined;
  try {
    const n = Number(readFileSync(file, 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(n) && n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}

/** The manager's main PID now (daemons may fork: the pid file wins when it names a live process). */
export function mainPid(host: LabHost): number | undefined {
  const run = host.manager;
  if (!run) return undefined;
  const fromFile = readPidFile(run.pidFile);
  if (fromFile && alive(fromFile)) return fromFile;
  return alive(run.pid) ? run.pid : undefined;
}

export async function waitForPidFile(file: string, timeoutMs: number): Promise<number | undefined> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const pid = readPidFile(file);
    if (pid && alive(pid)) return pid;
    await sleep(50);
  }
  return undefined;
}

/**
 * Stop a server's manager: 'term' signals the main process; 'kill' SIGKILLs every process in the server's
 * namespace (only the manager and its helpers live there; all were started by the lab).
 */
export async function signalManager(host: LabHost, how: StopHow): Promise<number[]> {
  if (how === 'term') {
    const pid = mainPid(host);
    if (!pid) return [];
    process.kill(pid, 'SIGTERM');
    return [pid];
  }
  // Freeze them all first, then kill: a manager whose child dies first may react in the gap (keepalived's
  // parent respawns its VRRP child, which removes the VIP) — seen under load, when the gap grows.
  const pids = await netnsPids(host.netns);
  for (const signal of ['SIGSTOP', 'SIGKILL'] as const) {
    for (const pid of pids) {
      try {
        process.kill(pid, signal);
      } catch {
        /* gone already */
      }
    }
  }
  return pids;
}

export const secondsText = (ms: number): string => `${+(ms / 1000).toFixed(3)} s`;
