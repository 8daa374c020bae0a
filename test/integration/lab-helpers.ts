/** Helpers shared by the lab integration tests (not a test file itself). */
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { run } from '../../src/effects/io/exec.js';
import { sleep } from '../../src/core/clock.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');

/** The MAC a namespace's neighbour table has for `ip` (undefined when there is no usable entry). */
export async function neighMac(netns: string, ip: string): Promise<string | undefined> {
  const r = await run(['ip', '-n', netns, '-json', 'neigh', 'show', 'to', ip]);
  const e = (JSON.parse(r.stdout || '[]') as { lladdr?: string; state?: string[] }[])[0];
  if (!e?.lladdr || e.state?.includes('FAILED') || e.state?.includes('INCOMPLETE')) return undefined;
  return e.lladdr;
}

export async function waitFor<T>(fn: () => Promise<T | undefined | false>, timeoutMs: number, stepMs = 100): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const v = await fn();
    if (v) return v;
    await sleep(stepMs);
  }
  return undefined;
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Run the hadiag CLI from source (tsx), collecting output. */
export function cli(args: string[], opts: { env?: NodeJS.ProcessEnv } = {}): Promise<CliResult> {
  return cliChild(args, opts).done;
}

/** Start the CLI and get its child process too (to signal it mid-way). */
export function cliChild(args: string[], opts: { env?: NodeJS.ProcessEnv } = {}): { child: ReturnType<typeof spawn>; done: Promise<CliResult> } {
  let child!: ReturnType<typeof spawn>;
  const done = new Promise<CliResult>((resolve) => {
    child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'test/integration/lab-cli.ts'), ...args], {
      cwd: ROOT,
      env: { ...process.env, ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { child, done };
}

/** A process that exists and is not a zombie. */
export async function running(pid: number): Promise<boolean> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) [ZX]/.test(stat);
  } catch {
    return false;
  }
}

/** Send ARP from a namespace with iputils arping: 'request' = -U (gratuitous request), 'reply' = -A. */
export async function garp(netns: string, ifname: string, vip: string, form: 'request' | 'reply', count = 1): Promise<void> {
  const r = await run(['ip', 'netns', 'exec', netns, 'arping', '-q', form === 'request' ? '-U' : '-A', '-c', String(count), '-w', '2', '-I', ifname, vip]);
  if (r.code > 1) throw new Error(`arping failed: ${r.stderr}`);
}

/**
 * Takeover cases: each real manager takes over after server1's link goes down, measured by each client's
 * own ping -D, in two labs (one client each, so one client's ARP traffic cannot heal the other's entry).
 * A GARP-filtering client is out for (time left in its neighbour-entry cycle: reachable + delay) + 3 unicast
 * probes × retrans_time, or the takeover time if that is longer; a default client recovers at takeover.
 * Reachable time and probe delay are shrunk; retrans_time_ms is set per manager so that even the shortest
 * case (3 × retrans) stays clearly above the manager's takeover time on a loaded 2-core machine.
 */
export const TAKEOVER_CASES = {
  keepalived: { manager: 'keepalived', timers: 'fast', retransMs: 1000, maxTakeoverMs: 4000 },
  ucarp: { manager: 'ucarp', timers: 'classic', retransMs: 2500, maxTakeoverMs: 7000 },
  heartbeat: { manager: 'heartbeat', timers: 'fast', retransMs: 9000, maxTakeoverMs: 25_000 },
};
