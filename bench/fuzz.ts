/**
 * Bench-size fuzzing: the property tests of every decoder and parser with ≥ 100 000 cases each property
 * (the test suite runs a few thousand). Runs test/unit/fuzz-packet.test.ts (frames, pcap/pcapng),
 * wire-fuzz.test.ts (Heartbeat messages) and config-fuzz.test.ts (ha.cf/authkeys/haresources) with the
 * case count raised through their environment knobs; prints cases, time and the rate per suite.
 *
 *   node --import tsx bench/fuzz.ts [--runs 100000] [--suites fuzz-packet,wire,config]
 */
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { run } from '../src/effects/io/exec.js';
import { REPO, flag, log, progress, writeResult } from './lib.js';

const SUITES = [
  { file: 'test/unit/fuzz-packet.test.ts', what: 'decodeFrame (Ethernet/VLAN/SLL/ARP/IPv4/UDP/ICMP/IPv6 ND) + parsePcap (pcap, pcapng)', properties: 4, env: 'FUZZ_RUNS' },
  { file: 'test/unit/wire-fuzz.test.ts', what: 'Heartbeat decodeMessage/verifyMessage (netstring, classic)', properties: 3, env: 'FUZZ_RUNS' },
  { file: 'test/unit/fuzz-replay-guard.test.ts', what: 'node state machine replay guard vs forged right-key streams (simulated clock; FUZZ_RUNS / 200 cases)', properties: 1, env: 'FUZZ_RUNS' },
  { file: 'test/unit/config-fuzz.test.ts', what: 'ha.cf / authkeys / haresources parsers', properties: 4, env: 'HADIAG_FUZZ_RUNS' },
];

export async function fuzzBench(): Promise<Record<string, unknown>> {
  const runs = Number(flag('runs', '100000'));
  const rows = [];
  const only = flag('suites', '');
  for (const s of SUITES.filter((x) => !only || only.split(',').some((o) => x.file.includes(o)))) {
    progress(`${s.file}: ${runs} cases per property`);
    const t0 = performance.now();
    const r = await run([process.execPath, '--test', '--import', 'tsx', '--test-reporter=tap', s.file], { cwd: REPO, env: { ...process.env, [s.env]: String(runs) } });
    const seconds = (performance.now() - t0) / 1000;
    const pass = Number(/^# pass (\d+)/m.exec(r.stdout)?.[1] ?? 0);
    const fail = Number(/^# fail (\d+)/m.exec(r.stdout)?.[1] ?? 0);
    const failures = [...r.stdout.matchAll(/^not ok \d+ - (.*)$/gm)].map((m) => m[1]);
    const counter = [...r.stdout.matchAll(/Counterexample: (.*)$/gm)].map((m) => m[1]);
    const reasons = [...r.stdout.matchAll(/^\s+error: (.*)$|^\s+(Got error: .*|.*took far too long.*|.*took \d+ ms.*)$/gm)].map((m) => (m[1] ?? m[2] ?? '').trim()).filter((x) => x && x !== "|-").slice(0, 5);
    const cases = s.properties * runs;
    rows.push({ suite: s.file, what: s.what, casesApprox: cases, seconds, casesPerSecond: cases / seconds, pass, fail, failures, counterexamples: counter, reasons });
    log(`  ${s.file.padEnd(32)} ~${cases} cases in ${seconds.toFixed(1)} s (${(cases / seconds).toFixed(0)}/s): ${fail ? `FAILED ${failures.join('; ')} ${counter.join(' | ')} ${reasons.join(' | ')}` : `all ${pass} tests pass`}`);
  }
  const file = writeResult('fuzz', { runsPerProperty: runs, suites: rows });
  log(`  results: ${file}`);
  if (rows.some((r) => r.fail)) process.exitCode = 1;
  return { rows };
}

if (import.meta.url === pathToFileURL(process.argv[1]!).href) {
  log('fuzzing every decoder and parser (value or typed error, no hang, bounded allocation)');
  fuzzBench().catch((err) => {
    process.stderr.write(`bench fuzz: ${(err as Error).message}\n`);
    process.exit(1);
  });
}
