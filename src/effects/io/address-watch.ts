/**
 * This host's address changes as they happen: one long-running `ip -o -ts monitor address` child started at
 * start-up (Node has no netlink socket; iproute2 6.1's `monitor` has no JSON output), its lines parsed by
 * models/announce/address-event.ts. `present()` lists what an interface holds now (`ip -json addr`), to
 * reconcile what happened before the monitor was listening or while it was being restarted.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { nowMs } from '../../core/clock.js';
import { envError } from '../../core/errors.js';
import { run } from './exec.js';
import { parseAddressEvent, type AddressEvent } from '../../models/announce/address-event.js';

export interface ReceivedAddressEvent extends AddressEvent {
  /** epoch ms this process read the line */
  receivedMs: number;
}

export interface AddressWatchOptions {
  onEvent: (e: ReceivedAddressEvent) => void;
  /** the monitor died and was started again (its events in between are lost: reconcile with present()) */
  onRestart?: (detail: string) => void;
}

/** How long the monitor is given to subscribe before start() resolves. */
const SUBSCRIBE_MS = 100;

export class AddressWatch {
  private child?: ChildProcess;
  private closed = false;

  constructor(private readonly opts: AddressWatchOptions) {}

  /** Start the monitor; resolves once it runs (throws an environment error when `ip` cannot be started). */
  async start(): Promise<void> {
    const child = spawn('ip', ['-o', '-ts', 'monitor', 'address'], { stdio: ['ignore', 'pipe', 'ignore'] });
    this.child = child;
    await new Promise<void>((res, rej) => {
      child.once('spawn', () => res());
      child.once('error', (err) => rej(envError('cannot watch addresses', `ip monitor: ${err.message}`, 'is iproute2 installed?')));
    });
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const receivedMs = nowMs();
      const e = parseAddressEvent(line);
      if (e) this.opts.onEvent({ ...e, receivedMs });
    });
    child.once('exit', (code, signal) => {
      if (this.closed || this.child !== child) return;
      this.opts.onRestart?.(`ip monitor exited (${signal ?? code})`);
      setTimeout(() => void this.start().catch(() => {}), 200).unref();
    });
    await new Promise((r) => setTimeout(r, SUBSCRIBE_MS));
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Stop the monitor and wait until it has exited (SIGKILL after 2 s): nothing of ours outlives the sidecar. */
  async close(): Promise<void> {
    this.closed = true;
    const c = this.child;
    this.child = undefined;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise<void>((res) => c.once('exit', () => res()));
    c.kill('SIGTERM');
    const timer = setTimeout(() => c.kill('SIGKILL'), 2000);
    await exited;
    clearTimeout(timer);
  }
}

/** The IPv4 addresses `iface` holds now. */
export async function presentIpv4(iface: string): Promise<Set<string>> {
  const r = await run(['ip', '-json', '-4', 'addr', 'show', 'dev', iface]);
  if (r.code !== 0) throw envError(`no interface ${iface}`, r.stderr.trim() || 'ip addr show', 'give an interface of this host (ip link)');
  const links = JSON.parse(r.stdout || '[]') as { addr_info?: { local?: string }[] }[];
  return new Set(links.flatMap((l) => (l.addr_info ?? []).map((a) => a.local ?? '')).filter(Boolean));
}
