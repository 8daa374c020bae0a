/**
 * Send forged Heartbeat packets (run inside a lab namespace): node --import tsx node-forge.ts KIND COUNT DEST
 * KIND: wrong-key | unknown-node | higher-gen | junk | flood (COUNT = datagrams per second, for 4th arg ms)
 */
import dgram from 'node:dgram';
import { buildMessage } from '../../src/codecs/heartbeat/message.js';
import { encodeMessage } from '../../src/codecs/heartbeat/codec.js';

const [kind = 'junk', countText = '5', dest = '198.18.0.255'] = process.argv.slice(2);
const count = Number(countText);
const key = { index: 2, method: 'sha1' as const, key: kind === 'wrong-key' ? 'not-the-key' : 'pass' };
const src = kind === 'unknown-node' ? 'mallory' : 'server1';
const hg = kind === 'higher-gen' ? 'fffffff0' : '1';
const sock = dgram.createSocket('udp4');
sock.bind(0, () => {
  sock.setBroadcast(true);
  if (kind === 'flood') {
    const durationMs = Number(process.argv[5] ?? '5000');
    const junk = Buffer.from('###\n12:(0)t=status,junk-junk-junk');
    const start = Date.now();
    let sent = 0;
    const tick = () => {
      const due = Math.floor(((Date.now() - start) / 1000) * count);
      while (sent < due) {
        sock.send(junk, 694, dest);
        sent++;
      }
      if (Date.now() - start < durationMs) setTimeout(tick, 5);
      else setTimeout(() => sock.close(), 100);
    };
    tick();
    return;
  }
  let sent = 0;
  const next = () => {
    if (sent >= count) return sock.close();
    sent++;
    const msg = buildMessage([
      ['t', 'status'], ['st', 'active'], ['dt', '3e8'], ['protocol', '1'], ['src', src], ['srcuuid', Buffer.alloc(16, 7)],
      ['seq', sent.toString(16)], ['hg', hg], ['ts', Math.floor(Date.now() / 1000).toString(16)], ['ld', '0.00 0.00 0.00 1/1 1'], ['ttl', '3'],
    ]);
    const buf = kind === 'junk' ? Buffer.from(`###\n${'x'.repeat(sent % 50)}garbage`) : encodeMessage(msg, key);
    sock.send(buf, 694, dest, () => setTimeout(next, 5));
  };
  next();
});
