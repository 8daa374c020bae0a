import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { run, runOk, type ExecResult } from './exec.js';
import { onCleanup } from './cleanup.js';
import { usageError } from '../../core/errors.js';
import { sleep } from '../../core/clock.js';

/** Every namespace hadiag creates starts with this; `lab down --all` removes exactly these. */
export const NETNS_PREFIX = 'hadiag-';
/** Link names carry this plus the run id (Linux allows 15 characters per interface name). */
export const LINK_PREFIX = 'hd';

/** A short random id (5 base-36 characters) so parallel runs never collide. */
export function newRunId(): string {
  const n = randomBytes(4).readUInt32BE(0);
  return n.toString(36).padStart(7, '0').slice(-5);
}

export function assertRunId(id: string): void {
  if (!/^[a-z0-9]{1,6}$/.test(id)) throw usageError(`run id "${id}" is not valid`, '--name', 'use 1–6 lowercase letters or digits');
}

export interface HostSpec {
  name: string; // logical name, e.g. "server1"
  addresses: string[]; // CIDR, e.g. "198.18.0.11/24" (a broadcast address is derived)
  mac: string;
}

export interface Host {
  name: string;
  netns: string;
  ifname: string; // the host's interface inside its namespace
  bridgePort: string; // its peer on the bridge, inside the bridge namespace
  mac: string;
  addresses: string[];
}

/** Run a command inside a namespace (argv form, no shell). */
export function nsRun(netns: string, argv: string[], opts: SpawnOptions & { input?: string; timeoutMs?: number } = {}): Promise<ExecResult> {
  return run(['ip', 'netns', 'exec', netns, ...argv], opts);
}

export function nsRunOk(netns: string, argv: string[], opts: SpawnOptions & { input?: string; timeoutMs?: number } = {}): Promise<string> {
  return runOk(['ip', 'netns', 'exec', netns, ...argv], opts);
}

/** Start a long-running process inside a namespace. The caller owns the returned child (kill it by PID). */
export function nsSpawn(netns: string, argv: string[], opts: SpawnOptions = {}): ChildProcess {
  return spawn('ip', ['netns', 'exec', netns, ...argv], opts);
}

export async function listNetns(): Promise<string[]> {
  const r = await run(['ip', '-json', 'netns', 'list']);
  if (r.code !== 0 || !r.stdout.trim()) return [];
  return (JSON.parse(r.stdout) as { name: string }[]).map((n) => n.name);
}

/** PIDs of every process living in a namespace. */
export async function netnsPids(netns: string): Promise<number[]> {
  const r = await run(['ip', 'netns', 'pids', netns]);
  if (r.code !== 0) return [];
  return r.stdout.split(/\s+/).filter(Boolean).map(Number);
}

/** Kill one PID we started: SIGTERM, then SIGKILL after `graceMs`. Resolves when it is gone. */
export async function killPid(pid: number, graceMs = 2000): Promise<void> {
  if (!alive(pid)) return;
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!alive(pid)) return;
    await sleep(20);
  }
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    /* already gone */
  }
  for (let i = 0; i < 50 && alive(pid); i++) await sleep(20);
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}


/** Kill every process inside a namespace of ours (they were started by us, by construction), then delete it. */
export async function deleteNetns(netns: string): Promise<void> {
  if (!netns.startsWith(NETNS_PREFIX)) throw new Error(`refusing to delete foreign namespace ${netns}`);
  for (const pid of await netnsPids(netns)) await killPid(pid, 1000);
  await run(['ip', 'netns', 'del', netns]);
}

/**
 * A set of hosts, each in its own namespace with one veth to a Linux bridge that lives in its own namespace.
 * Nothing is left in the root namespace. Created with `Topology.create`, removed with `teardown()` (also
 * registered as a cleanup for Ctrl-C and errors).
 */
export class Topology {
  readonly runId: string;
  readonly bridgeNetns: string;
  readonly bridge: string;
  readonly hosts = new Map<string, Host>();
  private unregister: () => void = () => {};
  private torn = false;

  private constructor(runId: string) {
    this.runId = runId;
    this.bridgeNetns = `${NETNS_PREFIX}${runId}-br`;
    this.bridge = `${LINK_PREFIX}${runId}-br`;
  }

  static nsName(runId: string, host: string): string {
    return `${NETNS_PREFIX}${runId}-${host}`;
  }

  /** Build the bridge and the given hosts. On any failure everything built so far is removed. */
  static async create(opts: { runId?: string; hosts: HostSpec[]; stp?: boolean }): Promise<Topology> {
    const t = new Topology(opts.runId ?? newRunId());
    assertRunId(t.runId);
    t.unregister = onCleanup(`namespaces of run ${t.runId}`, () => t.teardown());
    try {
      await runOk(['ip', 'netns', 'add', t.bridgeNetns]);
      const b = ['ip', '-n', t.bridgeNetns];
      await runOk([...b, 'link', 'set', 'lo', 'up']);
      await runOk([...b, 'link', 'add', t.bridge, 'type', 'bridge', 'stp_state', opts.stp ? '1' : '0', 'mcast_snooping', '0']);
      await runOk([...b, 'link', 'set', t.bridge, 'type', 'bridge', 'forward_delay', '0']).catch(() => '');
      await runOk([...b, 'link', 'set', t.bridge, 'up']);
      for (const spec of opts.hosts) await t.addHost(spec);
      return t;
    } catch (err) {
      await t.teardown();
      throw err;
    }
  }

  /** Add one more host on the bridge (e.g. a fresh client for a new trial). */
  async addHost(spec: HostSpec): Promise<Host> {
    if (this.hosts.has(spec.name)) throw new Error(`host ${spec.name} exists`);
    const idx = this.hosts.size + 1;
    const netns = Topology.nsName(this.runId, spec.name);
    const ifname = `${LINK_PREFIX}${this.runId}-eth0`;
    const bridgePort = `${LINK_PREFIX}${this.runId}-p${idx}`;
    const tmpA = `${LINK_PREFIX}${this.runId}t${idx}a`;
    const tmpB = `${LINK_PREFIX}${this.runId}t${idx}b`;
    const host: Host = { name: spec.name, netns, ifname, bridgePort, mac: spec.mac.toLowerCase(), addresses: spec.addresses };
    await runOk(['ip', 'netns', 'add', netns]);
    this.hosts.set(spec.name, host);
    await runOk(['ip', 'link', 'add', tmpA, 'type', 'veth', 'peer', 'name', tmpB]);
    await runOk(['ip', 'link', 'set', tmpA, 'netns', netns]);
    await runOk(['ip', 'link', 'set', tmpB, 'netns', this.bridgeNetns]);
    const h = ['ip', '-n', netns];
    const b = ['ip', '-n', this.bridgeNetns];
    await runOk([...h, 'link', 'set', tmpA, 'name', ifname, 'address', host.mac]);
    await runOk([...b, 'link', 'set', tmpB, 'name', bridgePort]);
    await runOk([...b, 'link', 'set', bridgePort, 'master', this.bridge, 'up']);
    await runOk([...h, 'link', 'set', 'lo', 'up']);
    for (const a of spec.addresses) await runOk([...h, 'addr', 'add', a, 'brd', '+', 'dev', ifname]);
    await runOk([...h, 'link', 'set', ifname, 'up']);
    return host;
  }

  /**
   * Keep the topology after this process exits (e.g. `hadiag lab up`): drop its Ctrl-C/exit cleanup.
   * The caller becomes responsible for tearing it down (by namespace prefix).
   */
  persist(): void {
    this.unregister();
    this.unregister = () => {};
  }

  host(name: string): Host {
    const h = this.hosts.get(name);
    if (!h) throw new Error(`no host ${name} in run ${this.runId}`);
    return h;
  }

  /** Remove a host (its processes, its namespace and so its veth pair). */
  async removeHost(name: string): Promise<void> {
    const h = this.hosts.get(name);
    if (!h) return;
    this.hosts.delete(name);
    await deleteNetns(h.netns);
  }

  exec(host: string, argv: string[], opts: SpawnOptions & { input?: string; timeoutMs?: number } = {}): Promise<ExecResult> {
    return nsRun(this.host(host).netns, argv, opts);
  }

  async teardown(): Promise<void> {
    if (this.torn) return;
    this.torn = true;
    this.unregister();
    for (const name of [...this.hosts.keys()]) await this.removeHost(name);
    const all = await listNetns();
    for (const ns of all.filter((n) => n.startsWith(`${NETNS_PREFIX}${this.runId}-`))) await deleteNetns(ns);
  }
}

/** Deterministic lab MAC for host index i: locally administered, unicast (02:48:44:00:00:ii — "HD"). */
export function labMac(i: number): string {
  return `02:48:44:00:${((i >> 8) & 0xff).toString(16).padStart(2, '0')}:${(i & 0xff).toString(16).padStart(2, '0')}`;
}
