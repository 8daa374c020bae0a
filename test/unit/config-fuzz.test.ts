import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { analyzeHaCf, parseHaCf } from '../../src/models/config/hacf.js';
import { analyzeAuthkeys, parseAuthkeys } from '../../src/models/config/authkeys.js';
import { analyzeHaresources, parseHaresources } from '../../src/models/config/haresources.js';
import { HadiagError } from '../../src/core/errors.js';

const fixture = (p: string) => readFileSync(new URL(`../fixtures/config/${p}`, import.meta.url), 'utf8');

/** A parser may return a value or throw a one-line configuration HadiagError naming the file — nothing else. */
function valueOrTypedError(fn: () => unknown): void {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof HadiagError, `untyped error: ${String(err)}`);
    assert.equal(err.kind, 'config');
    assert.ok(err.where?.startsWith('f'), `error without the file: ${err.render()}`);
    assert.ok(!err.render().includes('\n'), `not one line: ${err.render()}`);
  }
}

/** Mutations of a valid file: lines dropped, duplicated, swapped, characters inserted. */
function mutated(seed: string): fc.Arbitrary<string> {
  const lines = seed.split('\n');
  const words = ['keepalive', 'deadtime', 'warntime', 'initdead', 'udpport', 'bcast', 'mcast', 'ucast', 'node', 'auth', 'sha1', 'crc',
    'IPaddr::', '/', '::', '#', '\\', '5s', '0', '-1', '65536', '255.255.255.0', '10.0.0.20', '\r', '\t', ' ', 'é', '\u0000'];
  return fc
    .array(
      fc.oneof(
        fc.constantFrom(...lines),
        fc.tuple(fc.constantFrom(...lines), fc.constantFrom(...words), fc.nat()).map(([l, w, n]) => {
          const at = n % (l.length + 1);
          return l.slice(0, at) + w + l.slice(at);
        }),
        fc.string({ maxLength: 40 }),
      ),
      { maxLength: 14 },
    )
    .map((ls) => ls.join('\n'));
}

test('fuzz: ha.cf, authkeys and haresources parsers end in a value or a typed one-line error', () => {
  const runs = Number(process.env.HADIAG_FUZZ_RUNS ?? 1500);
  fc.assert(
    fc.property(mutated(fixture('field-report/ha.cf') + fixture('heartbeat-3.0.6/ha.cf')), (text) => {
      valueOrTypedError(() => parseHaCf(text, 'f/ha.cf'));
      const a = analyzeHaCf(text, 'f/ha.cf');
      for (const d of a.diagnostics) assert.ok(d.line === undefined || (d.line >= 1 && d.line <= text.split('\n').length));
    }),
    { numRuns: runs },
  );
  fc.assert(
    fc.property(mutated('auth 2\n2 sha1 pass\n1 md5 other key\n3 crc\n'), (text) => {
      valueOrTypedError(() => parseAuthkeys(text, 'f/authkeys'));
      analyzeAuthkeys(text, 'f/authkeys');
    }),
    { numRuns: runs },
  );
  fc.assert(
    fc.property(mutated('server1 IPaddr::10.0.0.20/255.255.255.0 \\\n  IPaddr2::10.0.0.21/24/eth0:0/10.0.0.255\nserver2 10.0.0.30 httpd::a\n'), (text) => {
      valueOrTypedError(() => parseHaresources(text, 'f/haresources'));
      analyzeHaresources(text, 'f/haresources');
    }),
    { numRuns: runs },
  );
});

test('fuzz: arbitrary text never throws anything but a typed error', () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 300, unit: 'binary' }), (text) => {
      valueOrTypedError(() => parseHaCf(text, 'f/ha.cf'));
      valueOrTypedError(() => parseAuthkeys(text, 'f/authkeys'));
      valueOrTypedError(() => parseHaresources(text, 'f/haresources'));
    }),
    { numRuns: Number(process.env.HADIAG_FUZZ_RUNS ?? 1500) },
  );
});
