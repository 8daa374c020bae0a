import { test } from 'node:test';
import assert from 'node:assert/strict';
import { facilityCode, severityOf, priority, formatSyslogLine, parseSyslogTarget, loggerArgs, SYSLOG_TAG } from '../../src/effects/node/syslog.js';
import { HadiagError } from '../../src/core/errors.js';

test('facility names map to the <syslog.h> numbers; none/absent/unknown give no syslog', () => {
  assert.equal(facilityCode('kern'), 0);
  assert.equal(facilityCode('user'), 1);
  assert.equal(facilityCode('daemon'), 3);
  assert.equal(facilityCode('auth'), 4);
  assert.equal(facilityCode('authpriv'), 10);
  assert.equal(facilityCode('local0'), 16);
  assert.equal(facilityCode('local7'), 23);
  assert.equal(facilityCode('LOCAL3'), 19, 'case-insensitive like ha.cf');
  assert.equal(facilityCode('none'), undefined);
  assert.equal(facilityCode(undefined), undefined);
  assert.equal(facilityCode('local8'), undefined);
  assert.equal(facilityCode('toString'), undefined, 'no prototype names');
});

test('levels map to syslog severities and PRI = facility*8 + severity', () => {
  assert.equal(severityOf('error'), 3);
  assert.equal(severityOf('warn'), 4);
  assert.equal(severityOf('info'), 6);
  assert.equal(severityOf('debug'), 7);
  assert.equal(priority(16, 'info'), 134); // local0.info
  assert.equal(priority(3, 'warn'), 28); // daemon.warning
  assert.equal(priority(23, 'error'), 187); // local7.err
  assert.equal(priority(1, 'debug'), 15); // user.debug
});

test('formatSyslogLine: <PRI>node: LEVEL: event: text and one newline, byte-exact', () => {
  assert.equal(formatSyslogLine(16, { level: 'info', event: 'acquired', text: 'holds 198.18.0.20' }, 'server1'), '<134>server1: INFO: acquired: holds 198.18.0.20\n');
  assert.equal(formatSyslogLine(3, { level: 'warn', event: 'peer-late', text: 'server2 late by 700 ms' }, 'server2'), '<28>server2: WARN: peer-late: server2 late by 700 ms\n');
  assert.equal(formatSyslogLine(23, { level: 'error', event: 'x', text: 'y' }, 'n'), '<187>n: ERROR: x: y\n');
  // control characters (a newline would split the record in two syslog messages) become spaces
  assert.equal(formatSyslogLine(16, { level: 'debug', event: 'e', text: 'a\nb\r\tc\x00d\x7f' }, 'n'), '<135>n: DEBUG: e: a b  c d \n');
  assert.equal(Buffer.from(formatSyslogLine(16, { level: 'info', event: 'e', text: 'é' }, 'n')).toString('hex'), Buffer.from('<134>n: INFO: e: \u00e9\n').toString('hex'), 'UTF-8 kept');
});

test('HADIAG_SYSLOG_TARGET: default, udp on loopback, unix; anything else is one HadiagError', () => {
  assert.deepEqual(parseSyslogTarget(undefined), { kind: 'default' });
  assert.deepEqual(parseSyslogTarget(''), { kind: 'default' });
  assert.deepEqual(parseSyslogTarget('udp:127.0.0.1:5514'), { kind: 'udp', host: '127.0.0.1', port: 5514 });
  assert.deepEqual(parseSyslogTarget('unix:/run/x.sock'), { kind: 'unix', path: '/run/x.sock' });
  for (const bad of ['udp:198.18.0.1:514', 'udp:127.0.0.1', 'udp:127.0.0.1:0', 'udp:127.0.0.1:70000', 'udp:127.0.0.300:514', 'tcp:127.0.0.1:514', 'unix:', 'unix:rel', '/dev/log']) {
    assert.throws(
      () => parseSyslogTarget(bad),
      (e: unknown) => e instanceof HadiagError && e.exitCode === 2 && e.render().includes(`HADIAG_SYSLOG_TARGET=${bad}`) && e.render().includes(' — ') && !e.render().includes('\n'),
      bad,
    );
  }
});

test('loggerArgs: one long-running logger reading <PRI>-prefixed lines, RFC 3164, per target', () => {
  assert.equal(SYSLOG_TAG, 'hadiag');
  const base = ['--prio-prefix', '--rfc3164', '--socket-errors=on', '-t', 'hadiag', '--id=4242'];
  assert.deepEqual(loggerArgs({ tag: 'hadiag', pid: 4242, target: { kind: 'default' } }), base);
  assert.deepEqual(loggerArgs({ tag: 'hadiag', pid: 4242, target: { kind: 'udp', host: '127.0.0.1', port: 5514 } }), [...base, '--server', '127.0.0.1', '--port', '5514', '--udp']);
  assert.deepEqual(loggerArgs({ tag: 'hadiag', pid: 4242, target: { kind: 'unix', path: '/tmp/s' } }), [...base, '--socket', '/tmp/s']);
});
