/**
 * Every directive of Heartbeat 3.0.6's ha.cf and what hadiag does with it: implemented, accepted with a warning
 * saying what hadiag does instead, or refused with a fix. The list is Heartbeat 3.0.6's own: config.c's
 * Directives[] and WLdirectives[] (what `heartbeat -DW` prints, plus the directives without a default), the
 * comm plugins it ships (/usr/lib/heartbeat/plugins/HBcomm: bcast, mcast, mcast6, ucast, ucast6, ping, ping6,
 * ping_group, serial) and hbaping from the sample ha.cf (/usr/share/doc/heartbeat/ha.cf.gz).
 * test/unit/config-hacf-directives.test.ts walks the whole list.
 */

export type Disposition =
  /** hadiag does what Heartbeat does with it */
  | { kind: 'implemented'; what: string }
  /** accepted with a warning on its line: `instead` says what hadiag does */
  | { kind: 'warned'; instead: string; fix: string }
  /** an error on its line, with the fix */
  | { kind: 'refused'; fix: string };

export interface DirectiveEntry {
  disposition: Disposition;
  /** a line using it, as a user would write it (the test parses each one) */
  example: string;
}

const impl = (what: string, example: string): DirectiveEntry => ({ disposition: { kind: 'implemented', what }, example });
const warned = (instead: string, fix: string, example: string): DirectiveEntry => ({ disposition: { kind: 'warned', instead, fix }, example });
const refused = (fix: string, example: string): DirectiveEntry => ({ disposition: { kind: 'refused', fix }, example });

const NO_FENCING = 'remove it: hadiag does not fence nodes (STONITH)';
const NO_COMPRESSION = 'remove it (hadiag never compresses: a haresources cluster sends no message near the 2 KB threshold)';
const CRM_ONLY = 'remove it: it applies to Pacemaker clusters only (pacemaker on), and hadiag runs haresources clusters';

/** Heartbeat 3.0.6's ha.cf directives, by name. */
export const HACF_DIRECTIVES: Readonly<Record<string, DirectiveEntry>> = {
  node: impl('cluster members, compared with `uname -n` lower-cased', 'node server3'),
  keepalive: impl('the status message interval', 'keepalive 2'),
  deadtime: impl('a node is dead after this long without a message', 'deadtime 30'),
  warntime: impl('a late-heartbeat warning after this long', 'warntime 10'),
  initdead: impl('deadtime right after start-up', 'initdead 60'),
  deadping: impl('a ping node is dead after this long without an echo reply (default: deadtime)', 'deadping 20'),
  udpport: impl('the port of the bcast/ucast lines after it', 'udpport 694'),
  bcast: impl('UDP broadcast heartbeats on each interface', 'bcast eth1'),
  mcast: impl('UDP multicast heartbeats', 'mcast eth1 239.0.0.1 694 1 0'),
  ucast: impl('UDP unicast heartbeats to one peer', 'ucast eth1 10.0.0.12'),
  udp: warned('udp is the old name of bcast: hadiag broadcasts on these interfaces', 'write bcast instead of udp (Heartbeat warns the same)', 'udp eth1'),
  auto_failback: impl('on/off: nice_failback resource policy; legacy: ip-request at start', 'auto_failback on'),
  logfile: impl('run-node appends its log lines here', 'logfile /var/log/ha-log'),
  logfacility: impl('run-node logs to syslog with this facility', 'logfacility local0'),
  debugfile: impl('run-node appends every log line here, debug ones included', 'debugfile /var/log/ha-debug'),
  use_logd: warned('hadiag does not talk to ha_logd: it writes logfile and syslog (logfacility) itself', 'remove it and set logfile or logfacility', 'use_logd yes'),
  conn_logd_time: warned('hadiag does not talk to ha_logd, so it never reconnects to it', 'remove it', 'conn_logd_time 60'),
  debug: warned("hadiag has no numeric debug level: run-node --debug logs every debug event", 'remove it, or run run-node with --debug', 'debug 1'),
  ping: impl('ping nodes: each address a pseudo-member answering ICMP echo (see deadping)', 'ping 10.0.0.1'),
  ping_group: impl('one pseudo-member alive while any of its addresses answers ICMP echo', 'ping_group group1 10.0.0.1 10.0.0.2'),
  respawn: impl('run and restart a program as Heartbeat does (ipfail: built in)', 'respawn hacluster /usr/bin/true'),
  env: impl('an environment variable for respawned programs', 'env FOO=bar'),
  crm: impl('no/off: a haresources cluster (on is refused)', 'crm no'),
  pacemaker: impl('no/off: a haresources cluster (on is refused)', 'pacemaker off'),
  msgfmt: impl('netstring: the wire format hadiag sends (classic is refused)', 'msgfmt netstring'),
  hbgenmethod: impl('file: the generation is kept in the state directory (time is refused)', 'hbgenmethod file'),
  autojoin: impl('none: only declared nodes are members (other/any are refused)', 'autojoin none'),
  uuidfrom: impl('file: the node uuid is kept in the state directory (nodename is refused)', 'uuidfrom file'),
  apiauth: warned('hadiag has no client API: no program can sign on (ipfail is built in)', 'remove it', 'apiauth ipfail uid=hacluster'),
  hopfudge: warned('hadiag sends ttl 3 and does not forward messages, so hop counts do not apply', 'remove it', 'hopfudge 1'),
  realtime: warned('hadiag raises its priority (nice -10) but cannot run at realtime priority', 'remove it', 'realtime on'),
  rtprio: warned('hadiag raises its priority (nice -10) but cannot run at realtime priority', 'remove it', 'rtprio 5'),
  coredumps: warned('hadiag is a Node.js process: it configures no core dumps', 'remove it', 'coredumps true'),
  coreroot: warned('hadiag is a Node.js process: it configures no core dumps', 'remove it', 'coreroot /var/lib/heartbeat/cores'),
  memreserve: warned('hadiag preallocates no memory', 'remove it', 'memreserve 6500'),
  max_rexmit_delay: warned('hadiag resends a requested message at once, without a random delay', 'remove it', 'max_rexmit_delay 250'),
  log_badpack: warned('hadiag always counts bad packets and logs them (rate-limited)', 'remove it', 'log_badpack false'),
  syslogmsgfmt: warned('hadiag writes its own log line format to logfile', 'remove it', 'syslogmsgfmt true'),
  cluster: warned('hadiag does not use the cluster name', 'remove it', 'cluster linux-ha'),
  normalpoll: warned('hadiag has no poll choice (Node.js event loop)', 'remove it', 'normalpoll true'),
  use_apphbd: warned('hadiag does not register with apphbd', 'remove it', 'use_apphbd no'),
  compression: warned('hadiag never compresses messages', NO_COMPRESSION, 'compression zlib'),
  compression_threshold: warned('hadiag never compresses messages', NO_COMPRESSION, 'compression_threshold 2'),
  traditional_compression: warned('hadiag never compresses messages', NO_COMPRESSION, 'traditional_compression no'),
  record_config_changes: warned('it applies to Pacemaker clusters only: nothing to record', CRM_ONLY, 'record_config_changes on'),
  record_pengine_inputs: warned('it applies to Pacemaker clusters only: nothing to record', CRM_ONLY, 'record_pengine_inputs on'),
  enable_config_writes: warned('it applies to Pacemaker clusters only: nothing to write', CRM_ONLY, 'enable_config_writes on'),
  nice_failback: refused('write auto_failback on or off instead (nice_failback is obsolete in Heartbeat too)', 'nice_failback on'),
  stonith: refused(NO_FENCING, 'stonith baytech /etc/ha.d/conf/stonith.baytech'),
  stonith_host: refused(NO_FENCING, 'stonith_host * baytech 10.0.0.3 mylogin mysecretpassword'),
  watchdog: refused('remove it: hadiag does not drive a watchdog device', 'watchdog /dev/watchdog'),
  serial: refused('remove it: hadiag speaks UDP only (bcast, mcast, ucast)', 'serial /dev/ttyS0'),
  baud: refused('remove it: hadiag speaks UDP only (bcast, mcast, ucast)', 'baud 19200'),
  mcast6: refused('use an IPv4 mcast, bcast or ucast line: hadiag speaks IPv4 only', 'mcast6 eth0 ff02::694 694 1 0'),
  ucast6: refused('use an IPv4 ucast line: hadiag speaks IPv4 only', 'ucast6 eth0 2001:db8::2'),
  ping6: refused('use an IPv4 ping node: hadiag pings IPv4 only', 'ping6 2001:db8::1'),
  hbaping: refused('remove it: hadiag does not implement Fibre Channel HBA pings (use an IPv4 ping node)', 'hbaping qlogic-qla2200-0'),
  quorum_server: refused('remove it: hadiag has no quorum server client (two-node haresources clusters need none)', 'quorum_server 10.0.0.5'),
};

/** Whether a word is one of Heartbeat 3.0.6's ha.cf directives. */
export const isHaCfDirective = (word: string): boolean => Object.hasOwn(HACF_DIRECTIVES, word);

/**
 * Heartbeat 3.0.6's resource.d scripts (/etc/ha.d/resource.d) and what hadiag does with each as a haresources
 * resource. Any other name is run as Heartbeat runs it: resource.d/NAME, else /etc/init.d/NAME.
 */
export const HARESOURCES_TYPES: Readonly<Record<string, Disposition>> = {
  IPaddr: { kind: 'implemented', what: 'built in: ip addr add/del, announced by run-node' },
  IPaddr2: { kind: 'implemented', what: 'built in: ip addr add/del, announced by run-node' },
  IPv6addr: { kind: 'implemented', what: 'built in: ip -6 addr add … nodad / del, announced by run-node (neighbour discovery)' },
  SendArp: { kind: 'warned', instead: "run as the resource.d script: run-node already announces its VIPs (--garp), so clients get both", fix: 'remove SendArp and choose the announcement with run-node --garp' },
  IPsrcaddr: { kind: 'implemented', what: 'run as the resource.d script' },
  Filesystem: { kind: 'implemented', what: 'run as the resource.d script' },
  AudibleAlarm: { kind: 'implemented', what: 'run as the resource.d script' },
  Delay: { kind: 'implemented', what: 'run as the resource.d script' },
  ICP: { kind: 'implemented', what: 'run as the resource.d script' },
  LVM: { kind: 'implemented', what: 'run as the resource.d script' },
  LinuxSCSI: { kind: 'implemented', what: 'run as the resource.d script' },
  MailTo: { kind: 'implemented', what: 'run as the resource.d script' },
  OCF: { kind: 'implemented', what: 'run as the resource.d script (it runs the OCF agent)' },
  Raid1: { kind: 'implemented', what: 'run as the resource.d script' },
  ServeRAID: { kind: 'implemented', what: 'run as the resource.d script' },
  WAS: { kind: 'implemented', what: 'run as the resource.d script' },
  WinPopup: { kind: 'implemented', what: 'run as the resource.d script' },
  Xinetd: { kind: 'implemented', what: 'run as the resource.d script' },
  apache: { kind: 'implemented', what: 'run as the resource.d script' },
  db2: { kind: 'implemented', what: 'run as the resource.d script' },
  ids: { kind: 'implemented', what: 'run as the resource.d script' },
  portblock: { kind: 'implemented', what: 'run as the resource.d script' },
  'hto-mapfuncs': { kind: 'refused', fix: 'remove it: hto-mapfuncs is a helper library of resource.d, not a resource' },
};

/** Programs a `respawn` line may name that need Heartbeat's client API (they sign on to heartbeat): refused. */
export const API_CLIENTS: Readonly<Record<string, string>> = {
  ccm: 'the consensus membership layer (for Pacemaker/OCFS2)',
  dopd: "DRBD's outdate-peer daemon",
  'drbd-peer-outdater': "DRBD's outdate-peer helper (talks to dopd)",
  cib: 'a Pacemaker daemon',
  crmd: 'a Pacemaker daemon',
  attrd: 'a Pacemaker daemon',
  stonithd: 'a Pacemaker daemon',
  lrmd: 'the local resource manager of Pacemaker',
  pengine: 'a Pacemaker daemon',
  pingd: 'a Pacemaker ping daemon',
  mgmtd: 'the Linux-HA management daemon',
  hbagent: 'the Linux-HA SNMP agent',
  'lha-snmpagent': 'the Linux-HA SNMP agent',
  api_test: "Heartbeat's API test client",
};
