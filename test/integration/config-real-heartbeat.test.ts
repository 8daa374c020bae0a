import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Topology, killPid, labMac, netnsPids } from '../../src/effects/io/netns.js';
import { analyzeConfigDir } from '../../src/effects/config/load.js';

/**
 * The real Heartbeat 3.0.6 as the anchor for hadiag's config rules: the daemon reads the same directory inside
 * a namespace of ours (its own mount and UTS namespaces: /etc/ha.d bound to a temp dir, /run and
 * /var/lib/heartbeat on tmpfs, hostname server1), and we compare its verdict with check-config's.
 */
const HEARTBEAT = '/usr/libexec/heartbeat/heartbeat';

interface Case {
  name: string;
  hacf: (iface: string) => string;
  authkeys?: string;
  authkeysMode?: number;
  /** hadiag's error message (undefined: no error expected). */
  hadiagError?: string;
  /** What the real daemon logs: its refusal, or proof of its behaviour. */
  heartbeatLog: RegExp;
  heartbeatStarts: boolean;
}

const tail = (iface: string) => `bcast ${iface}\nauto_failback on\nnode server1\nnode server2\n`;

const CASES: Case[] = [
  {
    name: 'the field report (interface adapted) starts',
    hacf: (i) => `keepalive 1\ndeadtime 5\nbcast ${i}\nudpport 694\nauto_failback on\nnode server1\nnode server2\n`,
    heartbeatLog: /Configuration validated/,
    heartbeatStarts: true,
  },
  {
    name: 'udpport after bcast: both put the bcast on the default port 694',
    hacf: (i) => `keepalive 1\ndeadtime 5\nbcast ${i}\nudpport 1001\nauto_failback on\nnode server1\nnode server2\n`,
    heartbeatLog: /UDP Broadcast heartbeat started on port 694 /,
    heartbeatStarts: true,
  },
  {
    name: 'deadtime not more than twice keepalive is refused by both',
    hacf: (i) => `keepalive 2\ndeadtime 4\n${tail(i)}`,
    hadiagError: 'deadtime (4000ms) must be more than twice keepalive (2000ms)',
    heartbeatLog: /Dead time \[4000\] is too small compared to keeplive \[2000\]/,
    heartbeatStarts: false,
  },
  {
    name: 'initdead below deadtime is refused by both',
    hacf: (i) => `keepalive 1\ndeadtime 30\ninitdead 20\n${tail(i)}`,
    hadiagError: 'initdead (20000ms) is less than deadtime (30000ms)',
    heartbeatLog: /Initial dead time \[20000\] is smaller than deadtime \[30000\]/,
    heartbeatStarts: false,
  },
  {
    name: 'an authkeys file readable by others is refused by both',
    hacf: (i) => `keepalive 1\ndeadtime 5\n${tail(i)}`,
    authkeysMode: 0o644,
    hadiagError: 'authkeys mode 644 lets group or others access it',
    heartbeatLog: /Bad permissions on keyfile/,
    heartbeatStarts: false,
  },
  {
    name: 'a key with spaces: the daemon starts silently, hadiag warns',
    hacf: (i) => `keepalive 1\ndeadtime 5\n${tail(i)}`,
    authkeys: 'auth 5\n5 sha1 m-cast key with spaces\n',
    heartbeatLog: /Configuration validated/,
    heartbeatStarts: true,
  },
];

test('hadiag and the real Heartbeat 3.0.6 agree on the same files', { skip: !existsSync(HEARTBEAT) && `${HEARTBEAT} not installed` }, async () => {
  const topo = await Topology.create({ hosts: [{ name: 'server1', addresses: ['198.18.0.11/24'], mac: labMac(11) }] });
  const host = topo.host('server1');
  try {
    for (const c of CASES) {
      const dir = mkdtempSync(join(tmpdir(), 'hadiag-hbcfg-'));
      try {
        writeFileSync(join(dir, 'ha.cf'), `${c.hacf(host.ifname)}logfile ${'/etc/ha.d/log'}\n`);
        writeFileSync(join(dir, 'authkeys'), c.authkeys ?? 'auth 2\n2 sha1 pass\n');
        chmodSync(join(dir, 'authkeys'), c.authkeysMode ?? 0o600);
        writeFileSync(join(dir, 'haresources'), 'server1 IPaddr::198.18.0.20/24\n');

        const hadiag = await analyzeConfigDir(dir);
        const errors = hadiag.diagnostics.filter((d) => d.severity === 'error').map((d) => d.message);
        if (c.hadiagError) assert.deepEqual(errors, [c.hadiagError], c.name);
        else assert.deepEqual(errors, [], c.name);

        const script = `hostname server1 && mount --bind ${dir} /etc/ha.d && mount -t tmpfs hadiag /run && mount -t tmpfs hadiag /var/lib/heartbeat && exec ${HEARTBEAT}`;
        const r = await topo.exec('server1', ['unshare', '-m', '-u', '--propagation', 'private', 'sh', '-c', script], { timeoutMs: 15_000 });
        // Give a started daemon a moment to log its media, then end every process it left in our namespace.
        if (r.code === 0) await new Promise((res) => setTimeout(res, 1500));
        for (const pid of await netnsPids(host.netns)) await killPid(pid, 500);
        const log = r.stdout + r.stderr + (existsSync(join(dir, 'log')) ? readFileSync(join(dir, 'log'), 'utf8') : '');
        assert.match(log, c.heartbeatLog, `${c.name}: heartbeat said:\n${log}`);
        assert.equal(r.code === 0, c.heartbeatStarts, `${c.name}: heartbeat exit ${r.code}`);
        if (c.name.startsWith('udpport')) {
          assert.deepEqual(hadiag.hacf.media.map((m) => m.port), [694]);
          assert.equal(hadiag.hacf.udpport, 1001);
        }
        if (c.authkeys) assert.equal(hadiag.authkeys!.active.key, 'm-cast');
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
  } finally {
    await topo.teardown();
  }
});
