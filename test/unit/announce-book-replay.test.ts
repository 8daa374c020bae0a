import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BookReplayGuard, QUIET_MS } from '../../src/models/announce/book-replay.js';

const part = (boot: string, seq: number, p = 1) => ({ src: 'server2', boot, seq, part: p });

test('book replay guard: later rounds and unseen parts pass, repeats and earlier boots are replays', () => {
  const g = new BookReplayGuard();
  assert.ok(g.admit(part('1000', 1), 0).fresh, 'first datagram of a sender');
  assert.ok(g.admit(part('1000', 2, 1), 10).fresh);
  assert.ok(g.admit(part('1000', 2, 2), 11).fresh, 'another part of the same round');
  const dup = g.admit(part('1000', 2, 2), 12);
  assert.ok(!dup.fresh && /round 2 part 2 .* was seen/.test(dup.detail));
  assert.ok(!g.admit(part('1000', 1), 13).fresh, 'an earlier round');
  assert.ok(g.admit(part('2000', 1), 14).fresh, 'a new start (later boot) restarts seq');
  const older = g.admit(part('1000', 9), 15);
  assert.ok(!older.fresh && /boot 1000 is older/.test(older.detail));
  assert.ok(!g.admit(part('abc', 1), 16).fresh, 'a boot that is not a start time');
  assert.ok(g.admit({ ...part('1000', 1), src: 'server3' }, 17).fresh, 'senders are judged apart');
});

test('book replay guard: an earlier boot is adopted once the current one has been quiet (clock went back)', () => {
  const g = new BookReplayGuard();
  g.admit(part('5000', 3), 0);
  assert.ok(!g.admit(part('4000', 1), QUIET_MS - 1).fresh);
  assert.ok(g.admit(part('4000', 1), QUIET_MS).fresh);
  assert.ok(g.admit(part('4000', 2), QUIET_MS + 1).fresh, 'and followed from then on');
});
