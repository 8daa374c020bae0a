import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDuration, parseHaCfDuration, formatDuration } from '../../src/core/duration.js';
import { HadiagError } from '../../src/core/errors.js';

test('CLI durations need units', () => {
  assert.equal(parseDuration('5ms'), 5);
  assert.equal(parseDuration('2s'), 2000);
  assert.equal(parseDuration('1.5s'), 1500);
  assert.equal(parseDuration('1m'), 60_000);
  assert.equal(parseDuration('250us'), 0.25);
  assert.throws(() => parseDuration('5', 'interval'), (e: unknown) => e instanceof HadiagError && /has no unit/.test(e.render()) && /5s or 5ms/.test(e.render()));
  assert.throws(() => parseDuration('fast'), /not a duration/);
});

test('ha.cf durations: bare seconds, ms suffix', () => {
  assert.equal(parseHaCfDuration('1', 'keepalive', 'ha.cf:1'), 1000);
  assert.equal(parseHaCfDuration('0.5', 'keepalive', 'ha.cf:1'), 500);
  assert.equal(parseHaCfDuration('200ms', 'keepalive', 'ha.cf:1'), 200);
  assert.throws(
    () => parseHaCfDuration('5s', 'deadtime', 'ha.cf:7'),
    (e: unknown) => e instanceof HadiagError && e.render() === 'hadiag: deadtime "5s": ha.cf:7 — write seconds (5) or milliseconds (5000ms)',
  );
});

test('durations format for humans', () => {
  assert.equal(formatDuration(5210), '5.21 s');
  assert.equal(formatDuration(850), '850 ms');
  assert.equal(formatDuration(0.4), '400 µs');
});
