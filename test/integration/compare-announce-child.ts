/**
 * Helper for compare-frames.test.ts, run inside the sending namespace:
 *   node --import tsx compare-announce-child.ts SPEC IFACE VIP/PREFIX HOLD_MS
 * Opens the node's announcer (start-up), prints {"ready":true}; on the stdin line `announce` adds the VIP
 * and announces it, prints {"announced":..,"clients":[..]}, keeps holding it HOLD_MS (0: until the stdin line `close`; answer-probes), exits.
 */
import { createInterface } from 'node:readline';
import { runOk } from '../../src/effects/io/exec.js';
import { createAnnouncer } from '../../src/effects/announce/node-announcer.js';
import { parseStrategy } from '../../src/models/strategy/language.js';

const [spec, iface, vipCidr, holdText] = process.argv.slice(2) as [string, string, string, string];
const vip = vipCidr.split('/')[0]!;
const reports: unknown[] = [];
const events: string[] = [];
const a = createAnnouncer(parseStrategy(spec, '--garp'), [iface], {
  confirm: false,
  captureDir: '/tmp',
  node: 'test',
  vips: [vip],
  neighPollMs: 500,
  onReport: (r, final) => final && reports.push(r),
  log: (_l, ev, text) => events.push(`${ev}: ${text}`),
});
process.stdout.write(JSON.stringify({ ready: true }) + '\n');
const finish = () => {
  a.close();
  process.stdout.write(JSON.stringify({ done: true, reports, events }) + '\n');
  process.exit(0);
};
createInterface({ input: process.stdin }).on('line', async (line) => {
  if (line.trim() === 'close') return finish();
  if (line.trim() !== 'announce') return;
  await runOk(['ip', 'addr', 'add', vipCidr, 'dev', iface]);
  const clients = (a as unknown as { clients(): unknown[] }).clients();
  a.announce(vip, iface, performance.timeOrigin + performance.now());
  process.stdout.write(JSON.stringify({ announced: true, clients }) + '\n');
  if (Number(holdText) > 0) setTimeout(finish, Number(holdText));
});
