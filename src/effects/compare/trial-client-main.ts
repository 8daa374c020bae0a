/**
 * One client's measurement in a compare-garp trial, run inside the client's namespace
 * (`ip netns exec NS node trial-client-main.js VIP INTERVAL_MS TIMEOUT_MS PCAP`): measure-failover's live engine
 * (ping through the client's kernel, capture, neighbour monitor) and its analysis.
 * stdout, JSON lines: {"type":"state",phase,outages} on every change; {"type":"result",...} at the end.
 * stdin lines: `fault TS` (epoch ms of the fault), `stop` (analyze and print the result).
 */
import { createInterface } from 'node:readline';
import { measureLive } from '../measure/live.js';
import { analyze } from '../../models/measure/analyze.js';
import { summarizeClient } from '../../models/compare/client-result.js';

async function main(): Promise<void> {
  const [vip, intervalText, timeoutText, pcap] = process.argv.slice(2);
  if (!vip || !intervalText || !timeoutText || !pcap) {
    process.stderr.write('usage: trial-client-main VIP INTERVAL_MS TIMEOUT_MS PCAP\n');
    process.exit(2);
  }
  const ac = new AbortController();
  let faultTsMs: number | undefined;
  createInterface({ input: process.stdin }).on('line', (line) => {
    const [cmd, arg] = line.trim().split(/\s+/);
    if (cmd === 'fault') faultTsMs = Number(arg);
    if (cmd === 'stop') ac.abort();
  });
  process.on('SIGTERM', () => ac.abort());
  let last = '';
  const res = await measureLive({
    vip,
    intervalMs: Number(intervalText),
    timeoutMs: Number(timeoutText),
    untilRecovered: false,
    writePath: pcap,
    warmupMs: 0,
    signal: ac.signal,
    onState: (s) => {
      const line = JSON.stringify({ type: 'state', phase: s.phase, outages: s.outages, lost: s.lost, neighState: s.neighState });
      if (line !== last) process.stdout.write(line + '\n');
      last = line;
    },
  });
  if (faultTsMs !== undefined) res.input.triggerTsMs = faultTsMs;
  const a = analyze(res.input);
  process.stdout.write(JSON.stringify({ type: 'result', ...summarizeClient(a, faultTsMs), stoppedBy: res.stoppedBy, pcap }) + '\n');
  process.exit(0);
}

main().catch((err: unknown) => {
  process.stdout.write(JSON.stringify({ type: 'error', message: (err as Error).message ?? String(err) }) + '\n');
  process.exit(1);
});
