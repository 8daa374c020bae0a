import { hostname } from 'node:os';
import { checkConfigAgainstHost, type CheckConfigReport } from './check.js';
import { gatherHostFacts, type HostFacts } from './host.js';
import { analyzeConfigDir } from './load.js';

/**
 * check-config's library function: read the directory, look at this host (its interfaces via `ip -json addr`
 * and its UDP ports, in the current network namespace) and compare. Throws a HadiagError (exit 2) only when the
 * directory or a required file cannot be read.
 */
export async function lintConfigDir(dir: string, opts: { node?: string; facts?: HostFacts } = {}): Promise<CheckConfigReport> {
  const analysis = await analyzeConfigDir(dir);
  const node = opts.node ?? hostname();
  const facts = opts.facts ?? (await gatherHostFacts(node, analysis.hacf.media.map((m) => m.port)));
  return checkConfigAgainstHost(dir, analysis, facts, node);
}
