import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { analyzeHaresources, parseHaresources } from '../../src/models/config/haresources.js';
import { formatDiagnostic } from '../../src/models/config/diagnostics.js';
import { HadiagError } from '../../src/core/errors.js';

const fixture = (p: string) => readFileSync(new URL(`../fixtures/config/${p}`, import.meta.url), 'utf8');

function errorOf(text: string): string {
  try {
    parseHaresources(text, '/etc/ha.d/haresources');
  } catch (err) {
    assert.ok(err instanceof HadiagError);
    return err.render();
  }
  assert.fail('no error thrown');
}

test("the field report's haresources: a netmask becomes prefixLen 24", () => {
  assert.deepEqual(parseHaresources(fixture('field-report/haresources')), [
    { node: 'server1', line: 1, resources: [{ kind: 'ip', agent: 'IPaddr', ip: '10.0.0.20', prefixLen: 24, raw: 'IPaddr::10.0.0.20/255.255.255.0' }] },
  ]);
});

test("the real daemon's haresources", () => {
  assert.deepEqual(parseHaresources(fixture('heartbeat-3.0.6/haresources'))[0]!.resources[0], {
    kind: 'ip', agent: 'IPaddr', ip: '198.18.0.20', prefixLen: 24, nic: 'hbA-eth0', raw: 'IPaddr::198.18.0.20/24/hbA-eth0',
  });
});

test('every form of the IP argument, bare IPs, scripts, continuations', () => {
  const groups = parseHaresources(
    [
      '# comment',
      'server1 10.0.0.20 IPaddr2::10.0.0.21/24/eth0:vip/10.0.0.255 \\',
      '   Filesystem::/dev/sdb1::/data::ext4 httpd',
      'Server2 IPaddr::10.0.1.5/16//10.0.255.255 10.0.2.1/255.255.255.128/eth1',
      '',
    ].join('\n'),
  );
  assert.equal(groups.length, 2);
  assert.equal(groups[0]!.line, 2);
  assert.deepEqual(groups[0]!.resources, [
    { kind: 'ip', agent: 'IPaddr', ip: '10.0.0.20', raw: '10.0.0.20' },
    { kind: 'ip', agent: 'IPaddr2', ip: '10.0.0.21', prefixLen: 24, nic: 'eth0', label: 'vip', broadcast: '10.0.0.255', raw: 'IPaddr2::10.0.0.21/24/eth0:vip/10.0.0.255' },
    { kind: 'script', name: 'Filesystem', args: ['/dev/sdb1', '/data', 'ext4'], raw: 'Filesystem::/dev/sdb1::/data::ext4' },
    { kind: 'script', name: 'httpd', args: [], raw: 'httpd' },
  ]);
  assert.equal(groups[1]!.node, 'server2');
  assert.equal(groups[1]!.line, 4);
  assert.deepEqual(groups[1]!.resources[0], { kind: 'ip', agent: 'IPaddr', ip: '10.0.1.5', prefixLen: 16, broadcast: '10.0.255.255', raw: 'IPaddr::10.0.1.5/16//10.0.255.255' });
  assert.deepEqual(groups[1]!.resources[1], { kind: 'ip', agent: 'IPaddr', ip: '10.0.2.1', prefixLen: 25, nic: 'eth1', raw: '10.0.2.1/255.255.255.128/eth1' });
});

test('errors name file:line with the fix', () => {
  assert.equal(errorOf('server1 IPaddr::10.0.0.20/255.255.0.255\n'), 'hadiag: IPaddr netmask "255.255.0.255" of 10.0.0.20 is not a prefix length (1–32) or a netmask: /etc/ha.d/haresources:1 — write /24 or /255.255.255.0, e.g. IPaddr::10.0.0.20/24/eth0');
  assert.equal(errorOf('server1 IPaddr::10.0.0.256\n'), 'hadiag: IPaddr address "10.0.0.256" is not an IPv4 address: /etc/ha.d/haresources:1 — write the VIP as a.b.c.d, e.g. IPaddr::10.0.0.20/24/eth0');
  assert.equal(errorOf('IPaddr::10.0.0.20/24\n'), 'hadiag: the line starts with "IPaddr::10.0.0.20/24", not a node name: /etc/ha.d/haresources:1 — start each line with the node that owns the group: server1 IPaddr::10.0.0.20/24');
  assert.equal(errorOf('server1 10.0.0.20\nserver2 10.0.0.20\n'), 'hadiag: the address 10.0.0.20 is already a resource on line 1: /etc/ha.d/haresources:2 — list each VIP once');
  assert.equal(errorOf('server1 IPaddr\n'), 'hadiag: IPaddr needs one argument, got 0 in "IPaddr": /etc/ha.d/haresources:1 — write IPaddr::IP[/CIDR[/NIC[:LABEL][/BROADCAST]]], e.g. IPaddr::10.0.0.20/24/eth0');
  assert.equal(errorOf('server1 10.0.0.20 # the VIP\n'), 'hadiag: comment "# the VIP" follows the resources: /etc/ha.d/haresources:1 — move it to a line of its own starting with # (Heartbeat would take its words for resources)');
});

test('a node with no resources is a warning', () => {
  const { diagnostics } = analyzeHaresources('server1\n', 'haresources');
  assert.deepEqual(diagnostics.map(formatDiagnostic), ['haresources:1: warning: node server1 has no resources on this line — add its resources, e.g. server1 IPaddr::10.0.0.20/24, or remove the line']);
});
