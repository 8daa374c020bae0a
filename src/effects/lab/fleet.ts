/**
 * A fleet of real clients for the scale bench: N network namespaces on a lab's bridge, each with its own kernel
 * (its own ARP cache), half of them stock and half dropping gratuitous ARP (`drop_gratuitous_arp=1`), each
 * pinging its VIP at a modest rate with the system's `ping` (no Node process per client). Fleet ports do not
 * get unknown unicast (`flood off`), so one client's traffic for a dead MAC is not copied to hundreds of others. Built with a few
 * `ip -batch` processes rather than five `ip` commands per client, torn down the same way (and by `lab down`,
 * which removes every namespace of the lab).
 *
 * The kernel's neighbour table is one table for all namespaces, and its garbage-collection thresholds are set in
 * the root namespace only (net.ipv4.neigh.default.gc_thresh1/2/3; a namespace has no such files): with
 * hundreds of clients the servers and clients together hold more entries than the default gc_thresh3 of 1024,
 * and the kernel then refuses new entries ("neighbour table overflow"). The fleet raises them for its life and
 * puts the machine's values back on `remove()` (and on Ctrl-C). Fleets of parallel runs share the limits: a
 * ledger file beside the labs (neigh-limits.json) keeps the values found before the first fleet and each live
 * fleet's need; the last fleet to go puts the originals back, and a ledger whose fleets all died (kill -9) is
 * read as the originals by the next fleet.
 */
import { readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { labsRoot } from './state.js';
import type { ChildProcess } from 'node:child_process';
import { runOk } from '../io/exec.js';
import { NETNS_PREFIX, LINK_PREFIX, alive, nsSpawn } from '../io/netns.js';
import { onCleanup } from '../io/cleanup.js';
import { intToIp, ipToInt, VIP_HOST } from './addressing.js';
import { usageError } from '../../core/errors.js';
import type { LabState } from './types.js';

const GC_THRESH = ['gc_thresh1', 'gc_thresh2', 'gc_thresh3'] as const;
const gcPath = (k: string) => `/proc/sys/net/ipv4/neigh/default/${k}`;
/** fleet clients start at this offset in the lab subnet (the lab's own hosts live in the first 256 addresses) … */
const FIRST_FLEET_OFFSET = 256;
/** … or after the lab's IPv4 VIPs when --vips pushes them past it (the next multiple of 256) */
export function firstFleetOffset(lab: Partial<Pick<LabState, 'vips'>>): number {
  const lastVip = VIP_HOST + (lab.vips?.filter((v) => v.family === 4).length ?? 1);
  return Math.max(FIRST_FLEET_OFFSET, Math.ceil(lastVip / 256) * 256);
}

type Limits = Record<(typeof GC_THRESH)[number], number>;

/** The shared ledger of the neighbour limits: the machine's values, and each live fleet (`pid:lab:n`) → its clients. */
export interface NeighLedger {
  original: Limits;
  fleets: Record<string, number>;
}

/** The limits every live fleet together needs: each client holds its VIP, each server may hold every client, twice that, plus the machine's own 1024. Pure. */
export function neighLimits(ledger: NeighLedger): Limits {
  if (!Object.keys(ledger.fleets).length) return { ...ledger.original };
  const need = 1024 + 4 * Object.values(ledger.fleets).reduce((a, b) => a + b, 0);
  const o = ledger.original;
  return { gc_thresh1: Math.max(o.gc_thresh1, Math.ceil(need / 4)), gc_thresh2: Math.max(o.gc_thresh2, Math.ceil(need / 2)), gc_thresh3: Math.max(o.gc_thresh3, need) };
}

/** Fleets whose process is gone are dropped from the ledger (a kill -9 never ran its remove()). */
export function liveFleets(ledger: NeighLedger, isAlive: (pid: number) => boolean): NeighLedger {
  return { original: ledger.original, fleets: Object.fromEntries(Object.entries(ledger.fleets).filter(([k]) => isAlive(Number(k.split(':')[0])))) };
}

let fleetsMade = 0;
const ledgerPath = (): string => join(dirname(labsRoot()), 'neigh-limits.json');

async function readLedger(): Promise<NeighLedger | undefined> {
  try {
    return JSON.parse(await readFile(ledgerPath(), 'utf8')) as NeighLedger;
  } catch {
    return undefined;
  }
}

async function writeLimits(l: Limits): Promise<void> {
  const now = Number((await readFile(gcPath('gc_thresh3'), 'utf8')).trim());
  // thresh3 ≥ thresh2 ≥ thresh1 must hold after each write: raising, the top first; lowering, the bottom first
  const order = l.gc_thresh3 >= now ? [...GC_THRESH].reverse() : [...GC_THRESH];
  for (const k of order) await writeFile(gcPath(k), String(l[k]));
}

export interface FleetClient {
  index: number;
  netns: string;
  address: string;
  mac: string;
  vip: string;
  dropsGratuitous: boolean;
}

export interface FleetOptions {
  count: number;
  /** the clients talk to these, round-robin (client i → vips[i % vips.length]) */
  vips: string[];
  /** ping interval of each client (ms, ≥ 10) */
  intervalMs?: number;
  /** the share of clients that drop gratuitous ARP (default 0.5: every second one) */
  dropGratuitousShare?: number;
  onProgress?: (text: string) => void;
}

export function fleetMac(i: number): string {
  return `02:48:46:00:${((i >> 8) & 0xff).toString(16).padStart(2, '0')}:${(i & 0xff).toString(16).padStart(2, '0')}`;
}

/** The fleet's addresses and names, checked against the lab's subnet. Pure. */
export function planFleet(lab: Pick<LabState, 'id' | 'subnet' | 'prefixLen'> & Partial<Pick<LabState, 'vips'>>, o: Pick<FleetOptions, 'count' | 'vips' | 'dropGratuitousShare'>): FleetClient[] {
  const size = 2 ** (32 - lab.prefixLen);
  const offset = firstFleetOffset(lab);
  const room = size - offset - 1;
  if (o.count > room) throw usageError(`${o.count} clients do not fit in ${lab.subnet} (room for ${Math.max(0, room)})`, '--clients', `use a wider lab subnet, e.g. 198.18.0.0/${Math.max(15, 32 - Math.ceil(Math.log2(o.count + offset + 2)))}`);
  const base = ipToInt(lab.subnet.split('/')[0]!);
  const share = o.dropGratuitousShare ?? 0.5;
  return Array.from({ length: o.count }, (_, i) => ({
    index: i,
    netns: `${NETNS_PREFIX}${lab.id}-f${i}`,
    address: intToIp(base + offset + i),
    mac: fleetMac(i),
    vip: o.vips[i % o.vips.length]!,
    dropsGratuitous: share > 0 && Math.floor((i + 1) * share) > Math.floor(i * share),
  }));
}

/** The ip commands that build the fleet: namespaces and veths (root), bridge ports (bridge namespace). Pure. */
export function fleetBatches(lab: Pick<LabState, 'id' | 'bridge' | 'bridgeNetns'>, clients: FleetClient[]): { root: string; bridge: string } {
  const root: string[] = [];
  const bridge: string[] = [];
  for (const c of clients) {
    const port = `${LINK_PREFIX}${lab.id}f${c.index}`;
    root.push(`netns add ${c.netns}`);
    root.push(`link add eth0 netns ${c.netns} address ${c.mac} type veth peer name ${port} netns ${lab.bridgeNetns}`);
    bridge.push(`link set ${port} master ${lab.bridge} up`);
    // no unknown-unicast flooding towards clients: after the holder's port goes down its MAC is unknown and
    // every client's traffic for it would be copied to every other client port (N² frames in software);
    // the servers' ports still get it, as on a switch. Broadcast (ARP) still reaches every client.
    bridge.push(`link set ${port} type bridge_slave flood off`);
  }
  return { root: root.join('\n') + '\n', bridge: bridge.join('\n') + '\n' };
}

async function currentLimits(): Promise<Limits> {
  const l = {} as Limits;
  for (const k of GC_THRESH) l[k] = Number((await readFile(gcPath(k), 'utf8')).trim());
  return l;
}

async function inBatches<T>(items: T[], width: number, fn: (t: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, async () => {
    while (next < items.length) await fn(items[next++]!);
  }));
}

export class Fleet {
  private readonly pingers: ChildProcess[] = [];
  /** this fleet's key in the neighbour-limits ledger while it holds raised limits */
  private ledgerKey?: string;
  private unregister?: () => void;

  private constructor(
    readonly lab: LabState,
    readonly clients: FleetClient[],
    private readonly o: FleetOptions,
  ) {}

  static async add(lab: LabState, o: FleetOptions): Promise<Fleet> {
    const f = new Fleet(lab, planFleet(lab, o), o);
    f.unregister = onCleanup(`fleet of lab ${lab.id}`, () => f.remove());
    try {
      await f.raiseNeighLimits();
      await f.build();
    } catch (err) {
      await f.remove();
      throw err;
    }
    return f;
  }

  private async raiseNeighLimits(): Promise<void> {
    const found = await readLedger();
    const ledger = found ? liveFleets(found, alive) : { original: await currentLimits(), fleets: {} };
    this.ledgerKey = `${process.pid}:${this.lab.id}:${++fleetsMade}`;
    ledger.fleets[this.ledgerKey] = this.clients.length;
    mkdirSync(dirname(ledgerPath()), { recursive: true });
    await writeFile(ledgerPath(), JSON.stringify(ledger));
    await writeLimits(neighLimits(ledger));
  }

  /** This fleet leaves the ledger; the last one out puts the machine's values back. */
  private async releaseNeighLimits(): Promise<void> {
    const found = await readLedger();
    if (!found || !this.ledgerKey) return;
    const ledger = liveFleets(found, alive);
    delete ledger.fleets[this.ledgerKey];
    this.ledgerKey = undefined;
    if (Object.keys(ledger.fleets).length) {
      await writeFile(ledgerPath(), JSON.stringify(ledger));
      await writeLimits(neighLimits(ledger));
    } else {
      await writeLimits(ledger.original);
      await rm(ledgerPath(), { force: true });
    }
  }

  private async build(): Promise<void> {
    const progress = this.o.onProgress ?? (() => {});
    const { root, bridge } = fleetBatches(this.lab, this.clients);
    progress(`${this.clients.length} client namespaces`);
    await runOk(['ip', '-batch', '-'], { input: root, timeoutMs: 300_000 });
    await runOk(['ip', '-n', this.lab.bridgeNetns, '-batch', '-'], { input: bridge, timeoutMs: 300_000 });
    progress('addresses and neighbour settings');
    await inBatches(this.clients, 8, async (c) => {
      const lines = ['link set lo up', `addr add ${c.address}/${this.lab.prefixLen} dev eth0`, 'link set eth0 up'];
      await runOk(['ip', '-n', c.netns, '-batch', '-'], { input: lines.join('\n') + '\n' });
      if (c.dropsGratuitous) await runOk(['ip', 'netns', 'exec', c.netns, 'sysctl', '-qw', 'net.ipv4.conf.all.drop_gratuitous_arp=1', 'net.ipv4.conf.eth0.drop_gratuitous_arp=1']);
    });
  }

  /** Every client pings its VIP every intervalMs (ms) from now on. */
  startTraffic(): void {
    const interval = Math.max(10, this.o.intervalMs ?? 100) / 1000;
    for (const c of this.clients) {
      const p = nsSpawn(c.netns, ['ping', '-q', '-n', '-i', String(interval), c.vip], { stdio: 'ignore' });
      p.on('error', () => {});
      this.pingers.push(p);
    }
  }

  stopTraffic(): void {
    for (const p of this.pingers.splice(0)) if (p.pid && alive(p.pid)) p.kill('SIGKILL');
  }

  /** Stop the pings, delete the namespaces (their veths go with them), put the neighbour limits back. */
  async remove(): Promise<void> {
    this.stopTraffic();
    this.unregister?.();
    this.unregister = undefined;
    await runOk(['ip', '-force', '-batch', '-'], { input: this.clients.map((c) => `netns del ${c.netns}`).join('\n') + '\n', timeoutMs: 300_000 }).catch(() => {});
    await this.releaseNeighLimits().catch(() => {});
  }
}
