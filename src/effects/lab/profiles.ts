/** Applying a client profile (models/lab/profiles.ts) inside a client's namespace, and reading it back. */
import { existsSync } from 'node:fs';
import { run, runOk } from '../io/exec.js';
import { envError } from '../../core/errors.js';
import { profileNftScript, profileSysctls, type ClientProfile, type ClientProfiles, type NeighOverrides } from '../../models/lab/profiles.js';

/** Apply a profile to a client namespace (`vip`: the address its nftables rule or entry flush names). */
export async function applyProfile(netns: string, ifname: string, vip: string, p: ClientProfile, overrides: NeighOverrides = {}): Promise<void> {
  const sysctls = profileSysctls(p, ifname, overrides);
  if (p.family === 6 && 'accept_untracked_na' in (p.conf ?? {}) && !existsSync('/proc/sys/net/ipv6/conf/all/accept_untracked_na')) {
    throw envError(`client profile ${p.name} needs net.ipv6.conf.*.accept_untracked_na (Linux ≥ 5.18); this kernel has none`, '--client-profile', 'use linux-default or drop-unsolicited-na on this kernel');
  }
  for (const [k, v] of Object.entries(sysctls)) {
    await runOk(['ip', 'netns', 'exec', netns, 'sysctl', '-q', '-w', `${k}=${v}`]);
  }
  const nft = profileNftScript(p, vip);
  if (nft) await runOk(['ip', 'netns', 'exec', netns, 'nft', '-f', '-'], { input: nft });
  if (p.noEntry) await run(['ip', '-n', netns, 'neigh', 'flush', 'to', vip]);
}

/** A client's profiles, one per family, each with the client's VIP of that family. */
export async function applyClientProfiles(netns: string, ifname: string, vips: string[], ps: ClientProfiles, overrides: NeighOverrides = {}): Promise<void> {
  const v4 = vips.find((v) => !v.includes(':'));
  const v6 = vips.find((v) => v.includes(':'));
  if (ps.v4 && v4) await applyProfile(netns, ifname, v4, ps.v4, overrides);
  if (ps.v6 && v6) await applyProfile(netns, ifname, v6, ps.v6, overrides);
}

/** Read back one sysctl inside a namespace. */
export async function readSysctl(netns: string, key: string): Promise<string> {
  return (await runOk(['ip', 'netns', 'exec', netns, 'sysctl', '-n', key])).trim();
}
