import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseHaCf } from '../../src/models/config/hacf.js';
import { parseAuthkeys } from '../../src/models/config/authkeys.js';
import { parseHaresources } from '../../src/models/config/haresources.js';
import { loadConfigDir } from '../../src/effects/config/load.js';
import { HadiagError } from '../../src/core/errors.js';

/**
 * The catalogue of broken files: each one produces exactly this one-line error naming file:line (the file is
 * named "broken/<name>" so the lines do not depend on where the checkout lives).
 */
const CATALOGUE: [string, string][] = [
  ['auth-missing-key.authkeys', "hadiag: auth 3 names a key that is not defined: broken/auth-missing-key.authkeys:1 — add a line \"3 sha1 SECRET\" or write auth 2"],
  ['auto-failback-value.ha.cf', "hadiag: auto_failback \"sometimes\" is not on, off or legacy: broken/auto-failback-value.ha.cf:3 — write auto_failback on (resources go back to their home node) or off"],
  ['bad-ip.haresources', "hadiag: IPaddr address \"10.0.0.300\" is not an IPv4 address: broken/bad-ip.haresources:1 — write the VIP as a.b.c.d, e.g. IPaddr::10.0.0.20/24/eth0"],
  ['bcast-no-iface.ha.cf', "hadiag: bcast needs an interface: broken/bcast-no-iface.ha.cf:2 — write bcast eth0 (the interface heartbeats are broadcast on)"],
  ['continued.haresources', "hadiag: resource \"Filesystem::/dev/sdb1::::ext4\" has an empty argument: broken/continued.haresources:2 — separate arguments with exactly \"::\" and leave none empty"],
  ['crm-on.ha.cf', "hadiag: crm \"yes\" is not supported: broken/crm-on.ha.cf:8 — hadiag runs haresources (v1) clusters: write crm no, or remove the line"],
  ['deadtime-too-short.ha.cf', "hadiag: deadtime (3000ms) must be more than twice keepalive (2000ms): broken/deadtime-too-short.ha.cf:3 — raise deadtime above 4000ms or lower keepalive (Heartbeat refuses this too)"],
  ['deadtime-unit.ha.cf', "hadiag: deadtime \"5s\": broken/deadtime-unit.ha.cf:3 — write seconds (5) or milliseconds (5000ms)"],
  ['directive-typo.ha.cf', "hadiag: unknown directive \"keeplive\": broken/directive-typo.ha.cf:2 — did you mean keepalive? (docs/config.md lists the directives hadiag reads)"],
  ['duplicate-index.authkeys', "hadiag: key 2 is defined twice (also on line 2): broken/duplicate-index.authkeys:3 — keep one line per index"],
  ['duplicate-node.ha.cf', "hadiag: node \"Server1\" is declared twice (also on line 4): broken/duplicate-node.ha.cf:5 — remove one of the two node lines"],
  ['duplicate-vip.haresources', "hadiag: the address 10.0.0.20 is already a resource on line 1: broken/duplicate-vip.haresources:2 — list each VIP once"],
  ['index-range.authkeys', "hadiag: key index 16 is out of range: broken/index-range.authkeys:3 — use an index from 0 to 15"],
  ['initdead-below-deadtime.ha.cf', "hadiag: initdead (20000ms) is less than deadtime (30000ms): broken/initdead-below-deadtime.ha.cf:4 — raise initdead to at least 30000ms (Heartbeat refuses this too)"],
  ['keepalive-zero.ha.cf', "hadiag: keepalive \"0\" must be more than 0: broken/keepalive-zero.ha.cf:2 — write a positive time, e.g. keepalive 1 or keepalive 500ms"],
  ['logfacility.ha.cf', "hadiag: logfacility \"local9\" is not a syslog facility: broken/logfacility.ha.cf:2 — write daemon, local0 … local7, or none"],
  ['mcast-not-multicast.ha.cf', "hadiag: mcast group \"10.0.0.1\" is not an IPv4 multicast address: broken/mcast-not-multicast.ha.cf:2 — use an address in 224.0.0.0/4, e.g. mcast eth0 239.0.0.1 694 1 0"],
  ['mcast-short.ha.cf', "hadiag: mcast needs 5 values, got 3: broken/mcast-short.ha.cf:2 — write mcast IFACE GROUP PORT TTL LOOP, e.g. mcast eth0 239.0.0.1 694 1 0"],
  ['method.authkeys', "hadiag: key 2 method \"sha256\" is not sha1, md5 or crc: broken/method.authkeys:2 — write 2 sha1 SECRET"],
  ['netmask.haresources', "hadiag: IPaddr netmask \"255.0.255.0\" of 10.0.0.20 is not a prefix length (1–32) or a netmask: broken/netmask.haresources:2 — write /24 or /255.255.255.0, e.g. IPaddr::10.0.0.20/24/eth0"],
  ['nice-failback.ha.cf', "hadiag: directive \"nice_failback\" is not supported: broken/nice-failback.ha.cf:3 — write auto_failback on or off instead (nice_failback is obsolete in Heartbeat too)"],
  ['no-auth.authkeys', "hadiag: no auth line: broken/no-auth.authkeys — add \"auth N\" naming the key to send with, e.g. auth 2 above 2 sha1 SECRET"],
  ['no-key.authkeys', "hadiag: key 2 (sha1) has no key text: broken/no-key.authkeys:2 — write 2 sha1 SECRET"],
  ['no-media.ha.cf', "hadiag: no heartbeat medium is declared: broken/no-media.ha.cf — add a bcast, mcast or ucast line, e.g. bcast eth0"],
  ['no-node.haresources', "hadiag: the line starts with \"IPaddr::10.0.0.20/24/eth0\", not a node name: broken/no-node.haresources:1 — start each line with the node that owns the group: server1 IPaddr::10.0.0.20/24"],
  ['no-nodes.ha.cf', "hadiag: no node is declared: broken/no-nodes.ha.cf — add a node line for each cluster member, named as `uname -n` prints it (node server1 / node server2)"],
  ['stonith.ha.cf', "hadiag: directive \"stonith_host\" is not supported: broken/stonith.ha.cf:6 — remove it: hadiag does not fence nodes (STONITH)"],
  ['too-many-parts.haresources', "hadiag: IPaddr argument \"10.0.0.20/24/eth0/10.0.0.255/extra\" has too many parts: broken/too-many-parts.haresources:1 — write IP[/CIDR[/NIC[:LABEL][/BROADCAST]]], e.g. IPaddr::10.0.0.20/24/eth0"],
  ['trailing-comment.haresources', "hadiag: comment \"#the VIP\" follows the resources: broken/trailing-comment.haresources:1 — move it to a line of its own starting with # (Heartbeat would take its words for resources)"],
  ['ucast-hostname.ha.cf', "hadiag: ucast peer \"server2\" is not an IPv4 address: broken/ucast-hostname.ha.cf:2 — write the peer's IPv4 address, e.g. ucast eth0 10.0.0.12"],
  ['udpport-range.ha.cf', "hadiag: udpport \"70000\" is not a UDP port: broken/udpport-range.ha.cf:2 — write a port number from 1 to 65535 (Heartbeat uses 694)"],
  ['warntime-above-deadtime.ha.cf', "hadiag: warntime (10000ms) must be less than deadtime (5000ms): broken/warntime-above-deadtime.ha.cf:4 — lower warntime, e.g. to 2500ms (half of deadtime, the default)"],
];

const brokenDir = fileURLToPath(new URL('../fixtures/config/broken/', import.meta.url));

function parserFor(name: string): (text: string, file: string) => unknown {
  if (name.endsWith('.ha.cf')) return parseHaCf;
  if (name.endsWith('.authkeys')) return parseAuthkeys;
  if (name.endsWith('.haresources')) return parseHaresources;
  throw new Error(`no parser for ${name}`);
}

for (const [name, expected] of CATALOGUE) {
  test(`broken/${name}`, () => {
    const text = readFileSync(join(brokenDir, name), 'utf8');
    assert.throws(
      () => parserFor(name)(text, `broken/${name}`),
      (err: unknown) => {
        assert.ok(err instanceof HadiagError, `not a HadiagError: ${String(err)}`);
        assert.equal(err.kind, 'config');
        assert.equal(err.exitCode, 2);
        assert.equal(err.render(), expected);
        assert.ok(!err.render().includes('\n'), 'one line');
        return true;
      },
    );
  });
}

test('every broken file is in the catalogue', () => {
  const files = readdirSync(brokenDir, { withFileTypes: true }).filter((d) => d.isFile()).map((d) => d.name).sort();
  assert.deepEqual(files, CATALOGUE.map(([n]) => n).sort());
  assert.ok(CATALOGUE.length >= 15);
});

/** A private copy of a broken directory (authkeys at mode 600 unless told otherwise). */
function copyDir(from: string, authkeysMode = 0o600): string {
  const dir = mkdtempSync(join(tmpdir(), 'hadiag-broken-'));
  for (const f of ['ha.cf', 'authkeys', 'haresources']) copyFileSync(join(from, f), join(dir, f));
  chmodSync(join(dir, 'authkeys'), authkeysMode);
  return dir;
}

test('broken/node-not-in-hacf/: a haresources node ha.cf does not declare', async () => {
  const dir = copyDir(join(brokenDir, 'node-not-in-hacf'));
  try {
    await assert.rejects(loadConfigDir(dir), (err: unknown) => {
      assert.ok(err instanceof HadiagError);
      assert.equal(err.render(), `hadiag: node "server01" is not declared in ha.cf: ${dir}/haresources:2 — use one of server1, server2, or add "node server01" to ${dir}/ha.cf`);
      return true;
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an authkeys file readable by others is refused with the chmod to run', async () => {
  const dir = copyDir(fileURLToPath(new URL('../fixtures/config/field-report/', import.meta.url)), 0o604);
  try {
    await assert.rejects(loadConfigDir(dir), (err: unknown) => {
      assert.ok(err instanceof HadiagError);
      assert.equal(err.render(), `hadiag: authkeys mode 604 lets group or others access it: ${dir}/authkeys — run chmod 600 ${dir}/authkeys (Heartbeat refuses to start too)`);
      return true;
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
