/** garp-check's argument errors, in-process through the command handler: one-line HadiagErrors, exit 2. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { garpCheckCommand } from '../../src/commands/garp-check.js';
import { HadiagError } from '../../src/core/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'hadiag-garp-cli-'));
writeFileSync(join(dir, 'notes.pcap'), 'these are my notes\n');
const FIX = new URL('../fixtures/garp-emitters/', import.meta.url).pathname;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const handler = (args: Record<string, unknown>) => (garpCheckCommand.handler as any)({ json: false, _: [], $0: 'hadiag', ...args }) as Promise<void>;

test('usage and file errors name the bad part and the fix', async () => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ vip: '198.18.0.300', iface: 'x' }, /^hadiag: --vip "198\.18\.0\.300" is not an IPv4 or IPv6 address: --vip — e\.g\. --vip 10\.0\.0\.20 or --vip 2001:db8::20$/],
    [{ iface: 'x', vip: '198.18.0.20', send: ['reply:target=all'] }, /strategy "reply:target=all": target "all" is not bcast, zero or own: --send/],
    [{ iface: 'x', send: ['request'] }, /--send needs --vip \(the address to announce\)/],
    [{ read: join(dir, 'notes.pcap') }, /^hadiag: not a pcap file \(it is text, starts with "these are my notes"\): .*notes\.pcap — give a capture/],
    [{ read: join(dir, 'nope.pcap') }, /cannot read capture file: .*nope\.pcap: no such file/],
    [{ iface: 'eth0', read: join(dir, 'notes.pcap') }, /give an interface or --read FILE, not both/],
    [{}, /nothing to check/],
    [{ read: FIX + 'iputils-U.pcap', send: ['request'] }, /--send needs an interface, not --read/],
    [{ read: FIX + 'iputils-U.pcap', duration: '5s' }, /--duration is for live watching/],
    [{ iface: 'x', duration: '30' }, /duration "30" has no unit/],
    [{ iface: 'x', vip: '198.18.0.20', send: ['request'], mac: 'zz' }, /--mac "zz" is not a MAC address/],
  ];
  for (const [args, re] of cases) {
    await assert.rejects(handler(args), (e: unknown) => e instanceof HadiagError && e.exitCode === 2 && re.test(e.render()) && !e.render().includes('\n'), `${JSON.stringify(args)} → ${re}`);
  }
});

test('--read on a fixture: JSON document with the analysis; exit code from the verdict', async () => {
  const chunks: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((c: unknown, ...rest: unknown[]) => (typeof c === "string" ? (chunks.push(c), true) : (write as (...a: unknown[]) => boolean)(c, ...rest))) as typeof process.stdout.write;
  try {
    await handler({ read: FIX + 'heartbeat-IPaddr-takeover.pcap', vip: '198.18.0.20', json: true });
  } finally {
    process.stdout.write = write;
  }
  const doc = JSON.parse(chunks.join(''));
  assert.equal(doc.healthy, true);
  assert.equal(process.exitCode, 0);
  assert.equal(doc.frames.length, 43);
  assert.equal(doc.summary.takeovers.length, 2);
  assert.equal(doc.frames[0].prediction.outcome, 'update');
  assert.equal(doc.frames[0].predictionFor, 'a stock client');
  process.exitCode = 0;
});
