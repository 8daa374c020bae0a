/**
 * run-node's default announcement for an IPv6 VIP, by name (compare-garp --family 6 names the default's row
 * with it). Written once, with why, in language.ts (DEFAULT_STRATEGY); run-node's `--garp default` resolves to it
 * for an IPv6 VIP.
 */
import { DEFAULT_STRATEGY } from './language.js';

export const DEFAULT_GARP6 = DEFAULT_STRATEGY[6];
