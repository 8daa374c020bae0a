/**
 * One command for every benchmark (never part of the test suite; root, a few minutes to an hour):
 *
 *   node --import tsx bench/run.ts [names…] [flags]
 *
 * names: fuzz, capture-rate, footprint, failover, garp-drop, measure-accuracy, capture-scale, scale, announce, watch (default: all, in that order).
 * Each prints its figures and the ratio to the anchor measured in the same run, and writes
 * bench/results/<name>-<time>.json and <name>-latest.json. Flags are passed to every bench (see each file).
 */
import { log } from './lib.js';
import { fuzzBench } from './fuzz.js';
import { captureRateBench } from './capture-rate.js';
import { footprintBench } from './footprint.js';
import { failoverBench } from './failover.js';
import { measureAccuracyBench } from './measure-accuracy.js';
import { captureScaleBench } from './capture-scale.js';

const BENCHES: Record<string, () => Promise<unknown>> = {
  fuzz: fuzzBench,
  'capture-rate': captureRateBench,
  footprint: footprintBench,
  failover: () => failoverBench(),
  'garp-drop': () => failoverBench({ name: 'garp-drop', profile: 'garp-filtered' }),
  'measure-accuracy': measureAccuracyBench,
  'capture-scale': captureScaleBench, // garp-check / measure-failover / hb-inspect --read on a 1-million-frame capture vs tcpdump -nr
  scale: () => import('./scale.js').then((m) => m.scaleBench()), // N client namespaces × managers: time to the last client re-pointed, CPU, RSS
  announce: () => import('./announce.js').then((m) => m.announceBench()), // the announce sidecar: address event → first frame, ip monitor vs netlink
  watch: () => import('./watch.js').then((m) => m.watchBench()), // measure-failover --watch, RSS over --duration (default 1h)
};

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) {
    process.stderr.write('hadiag: bench: needs root (network namespaces): bench/run.ts — run it as root\n');
    process.exit(2);
  }
  const names = process.argv.slice(2).filter((a, i, all) => !a.startsWith('--') && !all[i - 1]?.startsWith('--'));
  const unknown = names.filter((n) => !BENCHES[n]);
  if (unknown.length) {
    process.stderr.write(`hadiag: bench: unknown benchmark ${unknown.join(', ')}: bench/run.ts — use one of ${Object.keys(BENCHES).join(', ')}\n`);
    process.exit(2);
  }
  let failed = 0;
  for (const name of names.length ? names : Object.keys(BENCHES)) {
    log(`\n== ${name} ==`);
    try {
      await BENCHES[name]!();
    } catch (err) {
      failed++;
      log(`  ${name} failed: ${(err as Error).message}`);
    }
  }
  process.exitCode = failed ? 1 : 0;
}

void main();
