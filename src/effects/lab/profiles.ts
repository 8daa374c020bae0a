/** Applying a client profile (models/lab/profiles.ts) inside a client's namespace, and reading it back. */
import { run, runOk } from '../io/exec.js';
import { profileNftScript, profileSysctls, type ClientProfile, type NeighOverrides } from '../../models/lab/profiles.js';

/** Apply a profile to a client namespace. */
export async function applyProfile(netns: string, ifname: string, vip: string, p: ClientProfile, overrides: NeighOverrides = {}): Promise<void> {
  for (const [k, v] of Object.entries(profileSysctls(p, ifname, overrides))) {
    await runOk(['ip', 'netns', 'exec', netns, 'sysctl', '-q', '-w', `${k}=${v}`]);
  }
  const nft = profileNftScript(p, vip);
  if (nft) await runOk(['ip', 'netns', 'exec', netns, 'nft', '-f', '-'], { input: nft });
  if (p.noEntry) await run(['ip', '-n', netns, 'neigh', 'flush', 'to', vip]);
}

/** Read back one sysctl inside a namespace. */
export async function readSysctl(netns: string, key: string): Promise<string> {
  return (await runOk(['ip', 'netns', 'exec', netns, 'sysctl', '-n', key])).trim();
}
