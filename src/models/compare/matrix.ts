/** What compare-garp runs: rows (strategies for hadiag run-node, anchor managers), profiles, repetitions. Pure. */
import { usageError } from '../../core/errors.js';
import { DEFAULT_STRATEGY, parseStrategy } from '../strategy/language.js';
import { PROFILES, PROFILES6 } from '../lab/profiles.js';
import { checkNodeStrategy } from '../strategy/node-check.js';
import type { Family } from '../strategy/spec-language.js';

export const ANCHORS = ['heartbeat', 'keepalived', 'ucarp', 'pacemaker'] as const;
export type Anchor = (typeof ANCHORS)[number];
/** the anchors of a run that names none (Pacemaker settles in 11–17 s: named, not in the quick matrix) */
export const DEFAULT_ANCHORS: readonly Anchor[] = ['heartbeat', 'keepalived', 'ucarp'];

export interface Row {
  /** strategy: hadiag run-node --garp SPEC; anchor: a manager alone; announce: a manager + the hadiag announce sidecar */
  kind: 'strategy' | 'anchor' | 'announce';
  /** table label: the spec, the anchor's name, or NAME+announce[=SPEC] */
  label: string;
  /** strategy rows: run-node's spec; announce rows: the sidecar's spec ('default' = its default) */
  spec?: string;
  /** anchor and announce rows: heartbeat | keepalived | ucarp | pacemaker */
  manager?: string;
}

/** `keepalived`, `keepalived+announce`, `pacemaker+announce=directed:refresh=2s` → a row. */
export function parseManagerRow(text: string): Row {
  const m = /^([a-z]+)(\+announce(?:=(.+))?)?$/.exec(text.trim());
  const name = m?.[1] ?? text;
  if (!m || !(ANCHORS as readonly string[]).includes(name)) {
    throw usageError(`unknown anchor manager "${text}"`, '--manager', `use one of: ${ANCHORS.join(', ')}, each optionally with +announce (the hadiag announce sidecar next to it), e.g. keepalived+announce`);
  }
  if (!m[2]) return { kind: 'anchor', label: name, manager: name };
  const spec = m[3] ?? 'default';
  if (spec !== 'default') parseStrategy(spec, '--manager');
  return { kind: 'announce', label: text.trim(), manager: name, spec };
}

/** Plain GARP as Heartbeat's IPaddr sends it: run-node's former default, the baseline row. */
export const PLAIN_GARP = 'both:count=10,interval=250ms';
export const QUICK_STRATEGIES = [PLAIN_GARP, 'directed', 'unicast-reply', 'answer-probes', 'vmac'];
export const FULL_STRATEGIES = [
  ...QUICK_STRATEGIES,
  'request:count=5+5@5s,target=bcast',
  'reply',
  'arping:U',
  'arping:A',
  'send_arp:count=5,interval=200ms',
  'directed:refresh=2s',
];

/** The IPv6 forms of hadiag's strategies (docs/ipv6.md); the run-node default is put first by planMatrix. */
export const QUICK_STRATEGIES_V6 = ['na', 'directed', 'unicast-reply'];
export const FULL_STRATEGIES_V6 = [...QUICK_STRATEGIES_V6, 'answer-probes', 'directed:via=na', 'na:override=off'];
/** the managers the lab runs with an IPv6 VIP: Heartbeat's IPv6addr (send_ua) and keepalived (VRRPv3) */
export const IPV6_ANCHORS: readonly Anchor[] = ['heartbeat', 'keepalived'];

export interface MatrixOptions {
  /** the VIP's family (default 4) */
  family?: Family;
  /** family 6: run-node's default IPv6 strategy, measured as its own row (first); DEFAULT_STRATEGY[6] when unset */
  defaultSpec?: string;
  strategies?: string[];
  profiles?: string[];
  managers?: string[];
  reps?: number;
  quick?: boolean;
}

export interface Matrix {
  family: Family;
  /** family 6: run-node's default IPv6 strategy (its row's label) */
  defaultSpec?: string;
  rows: Row[];
  profiles: string[];
  reps: number;
  /** trials in run order: every row once per repetition (rep-major, so an interrupted run has every row) */
  trials: { row: Row; rep: number }[];
}

export function planMatrix(o: MatrixOptions): Matrix {
  const family = o.family ?? 4;
  const defaultSpec = family === 6 ? (o.defaultSpec ?? DEFAULT_STRATEGY[6]) : undefined;
  const given = o.strategies?.filter((s) => s !== 'none');
  const defaults = family === 6 ? withDefault(o.quick ? QUICK_STRATEGIES_V6 : FULL_STRATEGIES_V6, defaultSpec) : o.quick ? QUICK_STRATEGIES : FULL_STRATEGIES;
  // `default` is run-node's own default for the family: the row carries its spec (the label the JSON names)
  const strategies = (given?.length || o.strategies?.includes('none') ? given! : defaults).map((s) => (s === 'default' ? (defaultSpec ?? DEFAULT_STRATEGY[family]) : s));
  for (const s of strategies) checkNodeStrategy(parseStrategy(s, '--strategy'), '--strategy', family);
  const profiles = o.profiles?.length ? o.profiles : (family === 6 ? PROFILES6 : PROFILES).map((p) => p.name);
  const known = (family === 6 ? PROFILES6 : PROFILES).map((p) => p.name);
  for (const p of profiles) {
    if (known.includes(p)) continue;
    const other = (family === 6 ? PROFILES : PROFILES6).some((x) => x.name === p) ? ` ("${p}" is an IPv${family === 6 ? 4 : 6} profile: ${family === 6 ? 'drop --family 6' : 'add --family 6'})` : '';
    throw usageError(`unknown ${family === 6 ? 'IPv6 ' : ''}client profile "${p}"`, '--profile', `use one of: ${known.join(', ')}${other}`);
  }
  if (new Set(profiles).size !== profiles.length) throw usageError('a profile is given twice', '--profile', 'name each profile once');
  const managers = o.managers ?? [...(family === 6 ? IPV6_ANCHORS : DEFAULT_ANCHORS)];
  const managerRows = [...new Set(managers)].map(parseManagerRow);
  if (family === 6) for (const r of managerRows) checkIpv6Row(r);
  if (!strategies.length && !managerRows.length) throw usageError('nothing to measure: --strategy none and --manager none', '--strategy', 'give a strategy or a manager row');
  const reps = o.reps ?? (o.quick ? 1 : 3);
  if (!Number.isInteger(reps) || reps < 1 || reps > 100) throw usageError(`--reps ${reps} is not 1–100`, '--reps', 'e.g. --reps 3');
  const rows: Row[] = [
    ...[...new Set(strategies)].map((s): Row => ({ kind: 'strategy', label: s, spec: s })),
    ...managerRows,
  ];
  const trials: Matrix['trials'] = [];
  for (let rep = 1; rep <= reps; rep++) for (const row of rows) trials.push({ row, rep });
  return { family, ...(defaultSpec ? { defaultSpec } : {}), rows, profiles, reps, trials };
}

const withDefault = (list: string[], def: string | undefined): string[] => (def ? [def, ...list.filter((s) => s !== def)] : list);

function checkIpv6Row(r: Row): void {
  if (r.kind === 'announce') throw usageError(`${r.label}: the announce sidecar rows are IPv4 only in compare-garp`, '--manager', `measure ${r.manager} alone with --family 6, or drop --family 6`);
  if (!IPV6_ANCHORS.includes(r.manager as Anchor)) throw usageError(`${r.label} has no IPv6 VIP in the lab`, '--manager', `with --family 6 use one of: ${IPV6_ANCHORS.join(', ')}`);
}

/** Remaining time from the trials done so far (ms), for the progress line. */
export function etaMs(doneDurationsMs: number[], remaining: number, concurrency: number): number | undefined {
  if (!doneDurationsMs.length) return undefined;
  const avg = doneDurationsMs.reduce((a, b) => a + b, 0) / doneDurationsMs.length;
  return (avg * remaining) / Math.max(1, concurrency);
}
