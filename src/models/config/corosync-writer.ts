/**
 * corosync.conf for a small Corosync 3 cluster over knet (the lab's Pacemaker row). Pure: text out.
 * A value the file cannot hold (a name with space, brace or colon, a timer that is not a whole positive
 * number of milliseconds) is refused rather than written wrong.
 */

export interface CorosyncNode {
  name: string;
  nodeid: number;
  ring0Addr: string;
}

export interface CorosyncTotemTimers {
  /** totem token timeout (Corosync's default 3000 ms); left out = Corosync's default */
  tokenMs?: number;
  /** consensus timeout (default 1.2 × token); left out = Corosync's default */
  consensusMs?: number;
  /** knet's per-link heartbeat on link 0 (default derived from token); both or neither */
  knetPingIntervalMs?: number;
  knetPingTimeoutMs?: number;
}

export interface CorosyncSettings {
  comment?: string[];
  clusterName: string;
  nodes: CorosyncNode[];
  timers: CorosyncTotemTimers;
  /** votequorum's two_node (implies wait_for_all at first start) */
  twoNode: boolean;
  /** where corosync writes its log (inside the node's mount namespace) */
  logfile: string;
}

const SAFE_WORD = /^[A-Za-z0-9._-]+$/;

function word(value: string, what: string): string {
  if (!SAFE_WORD.test(value)) throw new Error(`corosync.conf cannot hold ${what} "${value}"`);
  return value;
}

function ms(value: number, what: string): number {
  if (!Number.isInteger(value) || value <= 0) throw new Error(`corosync.conf: ${what} must be a whole positive number of milliseconds, not ${value}`);
  return value;
}

export function writeCorosyncConf(s: CorosyncSettings): string {
  const t = s.timers;
  if ((t.knetPingIntervalMs === undefined) !== (t.knetPingTimeoutMs === undefined)) throw new Error('corosync.conf: knet ping interval and timeout go together');
  const totem = [
    'version: 2',
    `cluster_name: ${word(s.clusterName, 'cluster name')}`,
    'transport: knet',
    'crypto_cipher: none',
    'crypto_hash: none',
    ...(t.tokenMs !== undefined ? [`token: ${ms(t.tokenMs, 'token')}`] : []),
    ...(t.consensusMs !== undefined ? [`consensus: ${ms(t.consensusMs, 'consensus')}`] : []),
  ];
  const link =
    t.knetPingIntervalMs !== undefined
      ? ['interface {', `  linknumber: 0`, `  knet_ping_interval: ${ms(t.knetPingIntervalMs, 'knet_ping_interval')}`, `  knet_ping_timeout: ${ms(t.knetPingTimeoutMs!, 'knet_ping_timeout')}`, '}']
      : [];
  const nodes = s.nodes.flatMap((n) => ['node {', `  ring0_addr: ${word(n.ring0Addr, 'address')}`, `  name: ${word(n.name, 'node name')}`, `  nodeid: ${ms(n.nodeid, 'nodeid')}`, '}']);
  const block = (name: string, lines: string[]): string[] => [`${name} {`, ...lines.map((l) => `  ${l}`), '}', ''];
  return [
    ...(s.comment ?? []).map((c) => `# ${c}`),
    ...block('totem', [...totem, ...link]),
    ...block('nodelist', nodes),
    ...block('quorum', ['provider: corosync_votequorum', ...(s.twoNode ? ['two_node: 1'] : [])]),
    ...block('logging', ['to_logfile: yes', `logfile: ${s.logfile}`, 'to_stderr: no', 'to_syslog: no', 'timestamp: hires']),
  ].join('\n');
}
