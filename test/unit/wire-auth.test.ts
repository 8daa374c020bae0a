import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { authDigest, heartbeatCrc } from '../../src/codecs/heartbeat/auth.js';

test('HMAC-SHA1 and HMAC-MD5 match the RFC 2202 vectors', () => {
  const data = Buffer.from('what do ya want for nothing?');
  assert.equal(authDigest('sha1', 'Jefe', data), 'effcdf6ae5eb2fa2d27416d5f184df9c259a7c79');
  assert.equal(authDigest('md5', 'Jefe', data), '750c783e6ab0b503eaa86e310a5db738');
  const hiThere = Buffer.from('Hi There');
  assert.equal(authDigest('md5', '\x0b'.repeat(16), hiThere), '9294727a3638bb1c13f48ef8158bfc9d');
});

const hasOpenssl = spawnSync('openssl', ['version']).status === 0;

test('HMACs agree with openssl dgst -hmac', { skip: !hasOpenssl && 'openssl not installed' }, () => {
  const samples = [Buffer.from('t=status\nst=active\n'), Buffer.from([0, 1, 2, 255, 10, 13]), Buffer.alloc(0)];
  for (const method of ['sha1', 'md5'] as const) {
    for (const data of samples) {
      const r = spawnSync('openssl', ['dgst', `-${method}`, '-hmac', 'pass'], { input: data });
      const theirs = /([0-9a-f]+)\s*$/.exec(r.stdout.toString())![1];
      assert.equal(authDigest(method, 'pass', data), theirs);
    }
  }
});

/** POSIX cksum = our CRC over the data followed by its length (least significant octet first, no zeros). */
function posixCksum(data: Buffer): number {
  const len: number[] = [];
  for (let n = data.length; n > 0; n = Math.floor(n / 256)) len.push(n & 0xff);
  return heartbeatCrc(Buffer.concat([data, Buffer.from(len)]));
}

test('crc: CRC-32 poly 0x04C11DB7, init 0, complemented — cksum without the length', () => {
  // cksum of "123456789" is 930766865 (POSIX); of empty input 4294967295.
  assert.equal(posixCksum(Buffer.from('123456789')), 930766865);
  assert.equal(posixCksum(Buffer.alloc(0)), 4294967295);
  assert.equal(heartbeatCrc(Buffer.alloc(0)), 0xffffffff);
  const r = spawnSync('cksum', [], { input: Buffer.from('###\n11:(0)t=status,%%%\n') });
  if (r.status === 0) assert.equal(posixCksum(Buffer.from('###\n11:(0)t=status,%%%\n')), Number(r.stdout.toString().split(' ')[0]));
});

test('crc digests are lowercase hex without leading zeros', () => {
  let found = 0;
  for (let i = 0; found < 3 && i < 10_000; i++) {
    const data = Buffer.from(`msg ${i}`);
    const crc = heartbeatCrc(data);
    const hex = authDigest('crc', 'ignored', data);
    assert.equal(hex, crc.toString(16));
    assert.match(hex, /^[1-9a-f][0-9a-f]*$|^0$/);
    if (crc < 0x10000000) {
      found++;
      assert.ok(hex.length < 8, hex);
    }
  }
  assert.equal(found, 3, 'expected some crcs with leading zeros among 10000 inputs');
  assert.equal(authDigest('crc', 'a', Buffer.from('x')), authDigest('crc', 'b', Buffer.from('x')), 'crc has no key');
});
