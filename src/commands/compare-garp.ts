import type { CommandModule } from 'yargs';
import { writeFileSync } from 'node:fs';
import { EXIT_HEALTHY, EXIT_PROBLEM, usageError } from '../core/errors.js';
import { interactive, printJson } from './output.js';
import { parseNeighOverride, type NeighOverrides } from '../models/lab/profiles.js';
import { runCompare, type Progress } from '../effects/compare/run.js';
import { renderMatrix, renderRecommendations, renderSidecars, renderTable, secs } from './render/compare.js';
import { renderCompareSvg } from './render/compare-svg.js';
import { QUICK_STRATEGIES, ANCHORS, DEFAULT_ANCHORS } from '../models/compare/matrix.js';

interface Args {
  family?: number[];
  strategy?: string[];
  profile?: string[];
  manager?: string[];
  reps?: number;
  timers: string;
  quick: boolean;
  json: boolean;
  svg?: string;
  concurrency: number;
  'client-neigh'?: string[];
  'max-wait'?: string;
}

function parseFamily(given: number[] | undefined): 4 | 6 {
  const fams = [...new Set(given ?? [4])];
  if (fams.length > 1) throw usageError(`--family ${fams.join(' --family ')}: one family per compare-garp run`, '--family', 'run --family 4 and --family 6 separately (each table is measured on its own)');
  if (fams[0] !== 4 && fams[0] !== 6) throw usageError(`--family ${fams[0]} is not 4 or 6`, '--family', 'write --family 6 for an IPv6 VIP');
  return fams[0];
}

const list = (v: unknown): string[] | undefined => (v === undefined ? undefined : (Array.isArray(v) ? v : [v]).map(String));

function progressText(p: Progress): string {
  const eta = p.etaMs !== undefined ? `, ETA ${Math.ceil(p.etaMs / 60_000)} min` : '';
  const now = p.running.map((r) => `#${r.index} ${r.row}: ${r.text}`).join(' | ');
  return `trial ${Math.min(p.done + 1, p.total)} of ${p.total} (${p.done} done${eta}) — ${now}`;
}

export const compareGarpCommand: CommandModule<object, Args> = {
  command: 'compare-garp',
  describe: 'measure GARP strategies × client behaviours in the lab, next to Heartbeat, keepalived and ucarp, and recommend one',
  builder: (y) =>
    y
      .option('family', { type: 'number', array: true, describe: "the VIP family: 4 (default) or 6 (IPv6 VIP: the IPv6 client profiles, hadiag's IPv6 forms with run-node's default first, heartbeat IPv6addr and keepalived)" })
      .option('strategy', { type: 'string', array: true, describe: `strategy spec for hadiag run-node (repeat; default quick: ${QUICK_STRATEGIES.join(' ')}; --strategy none for no strategy rows; default = run-node's default for the VIP family)` })
      .option('profile', { type: 'string', array: true, describe: 'client profile (repeat; default: every profile of `hadiag lab profiles`)' })
      .option('manager', { type: 'string', array: true, describe: `anchor rows: ${ANCHORS.join('|')} with their own default announcements; NAME+announce[=SPEC] adds the hadiag announce sidecar next to it (repeat; default ${DEFAULT_ANCHORS.join(', ')}; --manager none for no anchors)` })
      .option('reps', { type: 'number', describe: 'trials per row (default 1 with --quick, else 3)' })
      .option('timers', { type: 'string', default: 'classic', describe: 'cluster timers: classic (keepalive 1 s, deadtime 5 s), fast (200 ms / 1 s) or KEEPALIVE/DEADTIME' })
      .option('quick', { type: 'boolean', default: false, describe: 'the default matrix once: main strategies + anchors, all profiles (≤ 5 min on 2 cores)' })
      .option('json', { type: 'boolean', default: false, describe: 'one JSON document on stdout' })
      .option('svg', { type: 'string', describe: 'write a chart (median outage per row, grouped by profile, log scale)' })
      .option('concurrency', { type: 'number', default: 3, describe: 'labs at once' })
      .option('client-neigh', { type: 'string', array: true, describe: 'override a neighbour timer on every client, e.g. base_reachable_time_ms=4000 (tests; default: real timers)' })
      .option('max-wait', { type: 'string', describe: 'give up on a client this long after the fault (default 75s)' })
      .example('hadiag compare-garp --quick', 'the default matrix with real client timers, ~5 min')
      .example('hadiag compare-garp --strategy both:count=10,interval=250ms --strategy directed --profile garp-filtered --manager heartbeat --reps 5', 'Heartbeat vs two strategies on the field report’s client')
      .example('hadiag compare-garp --quick --json --svg captures/compare.svg', 'machine-readable results and a chart')
      .example('hadiag compare-garp --family 6 --quick', "an IPv6 VIP: run-node's IPv6 default and forms next to Heartbeat IPv6addr and keepalived")
      .example('hadiag compare-garp --strategy none --manager keepalived --manager keepalived+announce --profile linux-default --profile garp-filtered', 'keepalived alone vs keepalived with the hadiag announce sidecar')
      .epilogue(
        [
          'Each trial: a fresh lab with two servers running `hadiag run-node --garp SPEC`',
          '(strategy rows) or the real heartbeat / keepalived / ucarp (anchor rows, their own',
          'defaults), one fresh client namespace per profile pinging the VIP every 10 ms',
          "(measure-failover's engine), then link-down of the VIP holder.",
          'Outage = fault -> first answered probe.',
          '',
          'NAME+announce rows run the manager with `hadiag announce` on every server.',
          '',
          'Healthy (exit 0): every profile has a strategy whose median outage is within',
          'deadtime + 100 ms (when strategy rows ran), and with each NAME+announce row every',
          "profile's median is within that row's linux-default median + 100 ms (the stock",
          'client of the same failovers).',
          'Exit 1: either fails. Exit 2: usage / environment.',
          '',
          'JSON: { timers, deadtimeMs, deadlineMs, profiles, rows[{kind,label,spec|manager}],',
          '  reps, cells[{row,profile,n,medianMs,p95Ms,maxMs,withinShare,unrecovered,',
          '  learnedBy,cause}], recommendations[{profile,strategy,medianMs,meetsDeadline,',
          '  bestAnchor}], sidecars[{row,manager,baselineRow,baselineMedianMs,aloneMedianMs,profiles[{profile,',
          '  medianMs,limitMs,ok}],ok}], defaultStrategy, trials, failedTrials, durationMs, healthy }',
          '',
          "--family 6: an IPv6 VIP. Rows: run-node's default IPv6 strategy first, na, directed,",
          'unicast-reply (full: + answer-probes, directed:via=na, na:override=off), heartbeat',
          '(IPv6addr) and keepalived; profiles: the IPv6 ones.',
          'JSON adds family: 6, defaultStrategy = run-node\'s default {strategy, profiles[{profile,',
          '  medianMs,ok}], ok}, bestSelfContained, incompleteAnchors[{row,profile,n,errors}].',
          'Exit 0 then also needs the default within the bar on every profile and every anchor',
          'cell measured (n >= 1, no errors).',
          'Details: docs/compare-garp.md',
        ].join('\n'),
      ),
  handler: async (argv) => {
    const managers = list(argv.manager);
    const neigh: NeighOverrides = {};
    for (const n of list(argv['client-neigh']) ?? []) Object.assign(neigh, parseNeighOverride(n));
    let maxWaitMs: number | undefined;
    if (argv['max-wait']) maxWaitMs = (await import('../core/duration.js')).parseDuration(argv['max-wait'], '--max-wait');
    if (argv.reps !== undefined && !(Number.isInteger(argv.reps) && argv.reps >= 1)) throw usageError(`--reps ${argv.reps} is not a whole number ≥ 1`, '--reps', 'e.g. --reps 3');
    if (!(Number.isInteger(argv.concurrency) && argv.concurrency >= 1 && argv.concurrency <= 8)) throw usageError(`--concurrency ${argv.concurrency} is not 1–8`, '--concurrency', 'e.g. --concurrency 3');
    const family = parseFamily(argv.family);
    const spinner = interactive() && !argv.json ? (await import('ora')).default({ text: 'planning trials', stream: process.stderr }).start() : undefined;
    let lastLine = 0;
    const result = await runCompare({
      family,
      ...(list(argv.strategy) ? { strategies: list(argv.strategy) } : {}),
      ...(list(argv.profile) ? { profiles: list(argv.profile) } : {}),
      ...(managers ? { managers: managers.includes('none') ? [] : managers } : {}),
      ...(argv.reps !== undefined ? { reps: argv.reps } : {}),
      quick: argv.quick,
      timers: argv.timers,
      ...(Object.keys(neigh).length ? { neigh } : {}),
      concurrency: argv.concurrency,
      ...(maxWaitMs ? { maxWaitMs } : {}),
      onProgress: (p) => {
        const text = progressText(p);
        if (spinner) spinner.text = text;
        else if (!argv.json && Date.now() - lastLine > 10_000) {
          lastLine = Date.now();
          process.stderr.write(text + '\n');
        }
      },
    }).finally(() => spinner?.stop());
    const defaultOk = !(result.defaultStrategy && 'ok' in result.defaultStrategy) || result.defaultStrategy.ok;
    const anchorsOk = result.family === 4 || result.incompleteAnchors.length === 0;
    const healthy = result.recommendations.every((r) => r.meetsDeadline) && result.sidecars.every((v) => v.ok) && result.failedTrials.length === 0 && defaultOk && anchorsOk;
    if (argv.svg) writeFileSync(argv.svg, renderCompareSvg(result));
    if (argv.json) printJson({ ...result, healthy });
    else {
      process.stdout.write(`compare-garp${result.family === 6 ? ' (IPv6 VIP)' : ''}: ${result.rows.length} rows × ${result.profiles.length} profiles × ${result.reps} rep(s), timers ${result.timers} (deadtime ${secs(result.deadtimeMs)}), ${secs(result.durationMs)}\n`);
      process.stdout.write(renderMatrix(result) + '\n');
      process.stdout.write(renderTable(result) + '\n');
      if (result.recommendations.length) process.stdout.write(renderRecommendations(result) + '\n');
      if (result.sidecars.length) process.stdout.write(renderSidecars(result) + '\n');
      for (const a of result.family === 6 ? result.incompleteAnchors : []) process.stdout.write(`  anchor cell incomplete: ${a.row} on ${a.profile} (n ${a.n}, ${a.errors} failed)\n`);
      for (const f of result.failedTrials) process.stdout.write(`  trial failed: ${f.row} (rep ${f.rep}): ${f.error}\n`);
      if (argv.svg) process.stdout.write(`chart: ${argv.svg}\n`);
    }
    process.exitCode = healthy ? EXIT_HEALTHY : EXIT_PROBLEM;
  },
};
