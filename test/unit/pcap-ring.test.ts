/** The rolling capture of measure-failover --watch: the last N bytes plus every kept range, segments readable. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PcapRing, parseSize } from '../../src/effects/io/pcap-ring.js';
import { readPcap } from '../../src/effects/io/pcap-file.js';

const frame = Buffer.alloc(100, 7); // 116 bytes a record

test('the ring keeps the last limit bytes, the segments overlapping a kept range, and what is protected', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'hadiag-ring-'));
  try {
    let protectFrom: number | undefined;
    const ring = new PcapRing({ path: join(dir, 'w.pcap'), limitBytes: 10_000, segmentBytes: 2_000, protectFrom: () => protectFrom });
    // 1 record a second for 1000 s: ~116 KB in ~58 segments of 17 records
    for (let t = 0; t < 1000; t++) {
      if (t === 200) protectFrom = 170_000; // an outage begins at 200 s: 30 s before it stay
      if (t === 216) {
        ring.keep(200_000 - 30_000, 210_000 + 30_000); // reported (ended at 210 s): ±30 s kept
        protectFrom = undefined;
      }
      if (t === 600) protectFrom = 550_000; // an outage open since 580 s
      if (t === 800) protectFrom = undefined; // …that turned out not to count
      ring.write(t * 1000, frame);
    }
    ring.close();
    const files = ring.files();
    assert.deepEqual(readdirSync(dir).sort(), files.map((f) => f.path.split('/').pop()).sort(), 'the list is what is on disk');
    const rolling = files.filter((f) => !f.kept);
    const rollingBytes = rolling.reduce((n, f) => n + f.bytes, 0);
    assert.ok(rollingBytes <= 10_000 + 2_200, `rolling part ${rollingBytes} bytes`);
    assert.ok(rolling.some((f) => f.lastTsMs >= 999_000), 'the newest records are on disk');
    const kept = files.filter((f) => f.kept);
    assert.ok(kept.length >= 4, 'the outage ± 30 s is kept');
    assert.ok(kept[0]!.firstTsMs <= 170_000 && kept[kept.length - 1]!.lastTsMs >= 240_000, 'from 30 s before to 30 s after');
    assert.ok(!files.some((f) => f.lastTsMs < 160_000), 'older segments went');
    assert.ok(!files.some((f) => !f.kept && f.lastTsMs > 250_000 && f.lastTsMs < 540_000), 'segments between outages went');
    // every segment is a capture of its own, in time order
    let last = -1;
    for (const f of files) {
      const p = await readPcap(f.path);
      assert.ok(p.records.length > 0);
      assert.ok(p.records[0]!.tsMs > last);
      last = p.records[p.records.length - 1]!.tsMs;
    }
    assert.ok(existsSync(files[0]!.path));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('sizes for --write-limit', () => {
  assert.equal(parseSize('64MB'), 64 * 1024 * 1024);
  assert.equal(parseSize('512KiB'), 512 * 1024);
  assert.equal(parseSize('1.5GB'), 1.5 * 1024 ** 3);
  assert.equal(parseSize('64'), undefined);
  assert.equal(parseSize('lots'), undefined);
});
