import { hostname } from 'node:os';
import { checkConfigAgainstHost, type CheckConfigReport } from '../../models/config/check.js';
import { gatherHostFacts } from './host-facts.js';
import type { HostFacts } from '../../models/config/host.js';
import { analyzeConfigDir } from './load.js';

export interface LintOptions {
  /** This node's name; default `uname -n` (os.hostname()) when the host is checked. */
  node?: string;
  /** false: check the files only (no interfaces, ports or VIP subnets; node name only when given). */
  host?: boolean;
  /** Host facts to use instead of reading this host's (tests). */
  facts?: HostFacts;
}

/**
 * check-config's library function: read the directory, look at this host (its interfaces via `ip -json addr`
 * and its UDP ports, in the current network namespace) and compare. Throws a HadiagError (exit 2) only when the
 * directory or a required file cannot be read.
 */
export async function lintConfigDir(dir: string, opts: LintOptions = {}): Promise<CheckConfigReport> {
  const analysis = await analyzeConfigDir(dir);
  if (opts.host === false) return checkConfigAgainstHost(dir, analysis, undefined, opts.node);
  const node = opts.node ?? hostname();
  const facts = opts.facts ?? (await gatherHostFacts(node, analysis.hacf.media.map((m) => m.port)));
  return checkConfigAgainstHost(dir, analysis, facts, node);
}
