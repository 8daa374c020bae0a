/**
 * Command-line entry of the forged-traffic generator, for running inside a lab namespace:
 *
 *   ip netns exec NS node --import tsx src/effects/forge/main.ts --to 198.18.0.255 --port 694 --kind junk \
 *       --rate 10000 --duration 10s [--broadcast] [--member server1 --generation N --seq N --key pass]
 *       [--replay FILE.pcap]
 *
 * Prints one JSON line {kind, sent, errors, durationMs, rate} when done.
 */
import { parseArgs } from 'node:util';
import { flood } from './flood.js';
import { forgeDatagram, parseForgeKind } from './forge.js';
import { replayPayloads } from './replay.js';
import { parseDuration } from '../../core/duration.js';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      to: { type: 'string' },
      port: { type: 'string', default: '694' },
      kind: { type: 'string', default: 'junk' },
      rate: { type: 'string', default: '1000' },
      count: { type: 'string' },
      duration: { type: 'string', default: '5s' },
      broadcast: { type: 'boolean', default: false },
      member: { type: 'string', default: 'server1' },
      generation: { type: 'string', default: '1' },
      seq: { type: 'string', default: '1' },
      key: { type: 'string', default: 'pass' },
      method: { type: 'string', default: 'sha1' },
      index: { type: 'string', default: '2' },
      replay: { type: 'string' },
      'udp-size': { type: 'string' },
    },
    strict: true,
  });
  if (!values.to) throw new Error('--to ADDRESS is required');
  const key = { index: Number(values.index), method: values.method as 'sha1' | 'md5' | 'crc', key: values.key! };
  let payload: (i: number) => Buffer;
  let kind: string = values.kind!;
  if (values.replay) {
    const list = await replayPayloads(values.replay, Number(values.port));
    if (!list.length) throw new Error(`no UDP datagrams to port ${values.port} in ${values.replay}`);
    kind = 'replay';
    payload = (i) => list[i % list.length]!;
  } else if (values['udp-size']) {
    const b = Buffer.alloc(Number(values['udp-size']), 0x61);
    payload = () => b;
  } else {
    const k = parseForgeKind(values.kind!);
    const ctx = { key, member: values.member!, generation: Number(values.generation), seq: Number(values.seq) };
    payload = (i) => forgeDatagram(k, ctx, i);
  }
  const rate = Number(values.rate);
  const durationMs = values.count ? Math.ceil((Number(values.count) / Math.max(rate, 1)) * 1000) : parseDuration(values.duration!, 'duration');
  const r = await flood({ to: values.to, port: Number(values.port), rate, durationMs, payload, broadcast: values.broadcast });
  process.stdout.write(JSON.stringify({ kind, ...r }) + '\n');
}

main().catch((err) => {
  process.stderr.write(`forge: ${(err as Error).message}\n`);
  process.exit(2);
});
