/**
 * garp-check --send knows every strategy form through its own imports: this file imports garp-check only
 * (node --test runs each file in its own process), never compare-garp.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { garpCheckCommand } from '../../src/commands/garp-check.js';
import { HadiagError } from '../../src/core/errors.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const handler = (args: Record<string, unknown>) => (garpCheckCommand.handler as any)({ json: false, _: [], $0: 'hadiag', ...args }) as Promise<void>;
const send = (spec: string) => handler({ iface: 'hdnothere0', vip: '198.18.0.20', send: [spec] });

test('garp-check --send vmac / answer-probes parse: the run gets past the specs (to the missing interface)', async () => {
  for (const spec of ['vmac', 'vmac:00:00:5e:00:01:14,count=2', 'answer-probes', 'answer-probes:count=1', 'arping:A', 'send_arp']) {
    await assert.rejects(send(spec), (e: unknown) => e instanceof HadiagError && !e.render().includes('strategy "'), spec);
  }
});

test('garp-check --send with an unknown form: the error names every form', async () => {
  await assert.rejects(
    send('bogus'),
    (e: unknown) =>
      e instanceof HadiagError &&
      e.exitCode === 2 &&
      e.render() === 'hadiag: strategy "bogus": unknown form "bogus": --send — use one of: request, reply, both, directed, unicast-reply, answer-probes, vmac, arping, send_arp, na',
  );
});
