/** What compare-garp runs: rows (strategies for hadiag run-node, anchor managers), profiles, repetitions. Pure. */
import { usageError } from '../../core/errors.js';
import { parseStrategy } from '../strategy/language.js';
import { PROFILES, getProfile } from '../lab/profiles.js';
import { checkNodeStrategy } from '../strategy/node-check.js';

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

export interface MatrixOptions {
  strategies?: string[];
  profiles?: string[];
  managers?: string[];
  reps?: number;
  quick?: boolean;
}

export interface Matrix {
  rows: Row[];
  profiles: string[];
  reps: number;
  /** trials in run order: every row once per repetition (rep-major, so an interrupted run has every row) */
  trials: { row: Row; rep: number }[];
}

export function planMatrix(o: MatrixOptions): Matrix {
  const given = o.strategies?.filter((s) => s !== 'none');
  const strategies = given?.length || o.strategies?.includes('none') ? given! : o.quick ? QUICK_STRATEGIES : FULL_STRATEGIES;
  for (const s of strategies) checkNodeStrategy(parseStrategy(s, '--strategy'), '--strategy');
  const profiles = o.profiles?.length ? o.profiles : PROFILES.map((p) => p.name);
  profiles.forEach(getProfile);
  if (new Set(profiles).size !== profiles.length) throw usageError('a profile is given twice', '--profile', 'name each profile once');
  const managers = o.managers ?? [...DEFAULT_ANCHORS];
  const managerRows = [...new Set(managers)].map(parseManagerRow);
  if (!strategies.length && !managerRows.length) throw usageError('nothing to measure: --strategy none and --manager none', '--strategy', 'give a strategy or a manager row');
  const reps = o.reps ?? (o.quick ? 1 : 3);
  if (!Number.isInteger(reps) || reps < 1 || reps > 100) throw usageError(`--reps ${reps} is not 1–100`, '--reps', 'e.g. --reps 3');
  const rows: Row[] = [
    ...[...new Set(strategies)].map((s): Row => ({ kind: 'strategy', label: s, spec: s })),
    ...managerRows,
  ];
  const trials: Matrix['trials'] = [];
  for (let rep = 1; rep <= reps; rep++) for (const row of rows) trials.push({ row, rep });
  return { rows, profiles, reps, trials };
}

/** Remaining time from the trials done so far (ms), for the progress line. */
export function etaMs(doneDurationsMs: number[], remaining: number, concurrency: number): number | undefined {
  if (!doneDurationsMs.length) return undefined;
  const avg = doneDurationsMs.reduce((a, b) => a + b, 0) / doneDurationsMs.length;
  return (avg * remaining) / Math.max(1, concurrency);
}
