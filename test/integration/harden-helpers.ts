/**
 * Helpers of the hardening tests: run the forged-traffic generator (src/forge) inside a lab namespace,
 * capture genuine heartbeat packets there for replays, and read a node's counters.
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { runOk } from '../../src/effects/io/exec.js';
import { nsSpawn, killPid, type Topology } from '../../src/effects/io/netns.js';
import { sleep } from '../../src/core/clock.js';
import { REPO } from './node-helpers.js';

const TSX = pathToFileURL(join(REPO, 'node_modules/tsx/dist/loader.mjs')).href;
export const LAB_BROADCAST = '198.18.0.255';

export interface ForgeResult {
  kind: string;
  sent: number;
  errors: number;
  durationMs: number;
  rate: number;
}

/** Send forged traffic from `host` (default: the client, an attacker on the LAN) to the heartbeat port. */
export async function forge(topo: Topology, args: string[], host = 'client'): Promise<ForgeResult> {
  const out = await runOk(
    ['ip', 'netns', 'exec', topo.host(host).netns, process.execPath, '--import', TSX, join(REPO, 'src/effects/forge/main.ts'), '--to', LAB_BROADCAST, '--broadcast', '--port', '694', ...args],
    { timeoutMs: 60_000 },
  );
  return JSON.parse(out.trim().split('\n').pop()!) as ForgeResult;
}

/** Capture heartbeat datagrams from `srcIp` on `host` for `ms` (tcpdump, not the code under test). */
export async function captureGenuine(topo: Topology, host: string, srcIp: string, file: string, ms: number): Promise<void> {
  const h = topo.host(host);
  const child = nsSpawn(h.netns, ['tcpdump', '-i', h.ifname, '-n', '-U', '-w', file, `udp and dst port 694 and src host ${srcIp}`], { stdio: 'ignore' });
  await sleep(ms);
  await killPid(child.pid!, 1000);
}

/** Machine and daemon counters merged (what `hadiag node status` prints). */
export function counters(status: Record<string, any>): Record<string, number> {
  return { ...status.counters, ...status.daemon };
}

export function delta(after: Record<string, number>, before: Record<string, number>, key: string): number {
  return (after[key] ?? 0) - (before[key] ?? 0);
}
