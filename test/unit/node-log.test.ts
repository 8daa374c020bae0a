import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NodeLog } from '../../src/effects/node/log.js';

test('--json log lines: an event about a peer keeps the line\'s own node, the peer goes in its own field', async () => {
  const lines: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string) => (lines.push(String(chunk)), true)) as typeof process.stdout.write;
  try {
    const log = new NodeLog({ node: 'server2', json: true, debug: false });
    log.write({ tsMs: 1000.0004, level: 'info', event: 'peer-up', text: 'node server1: status up', data: { peer: 'server1', node: 'server1', healed: true } });
    log.write({ tsMs: 1001, level: 'debug', event: 'rexmit-request', text: 'hidden without --debug' });
    await log.close();
  } finally {
    process.stdout.write = write;
  }
  assert.equal(lines.length, 1);
  assert.deepEqual(JSON.parse(lines[0]!), { tsMs: 1000, node: 'server2', level: 'info', event: 'peer-up', text: 'node server1: status up', peer: 'server1', healed: true });
});
