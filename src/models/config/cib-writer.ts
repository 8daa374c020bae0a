/**
 * A Pacemaker CIB (cib.xml) for a two-node cluster with one floating IP: cluster options, the nodes, one
 * ocf:heartbeat:IPaddr2 primitive and an optional preferred node. Pure: text out. Written before the cluster
 * starts (its on-disk CIB), so the cluster does not have to be configured by hand after it settles.
 */

export interface CibNode {
  id: number;
  uname: string;
}

export interface CibVip {
  id: string;
  ip: string;
  cidrNetmask: number;
  nic: string;
  /** IPaddr2 parameters beyond ip/cidr_netmask/nic (none = the agent's defaults: arp_count 5 …) */
  extra?: Record<string, string>;
  /** monitor interval in ms (none = no recurring monitor) */
  monitorMs?: number;
  /** node preferred, with this score, while it is up */
  prefers?: { node: string; score: number };
}

export interface CibSettings {
  /** cluster properties, e.g. stonith-enabled=false, no-quorum-policy=ignore, dc-deadtime=2s */
  properties: Record<string, string>;
  nodes: CibNode[];
  vip: CibVip;
  /** the schema the file validates with (Pacemaker 2.1.5 knows up to pacemaker-3.9) */
  validateWith?: string;
}

export function xmlAttr(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

const ID = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

function id(value: string): string {
  if (!ID.test(value)) throw new Error(`"${value}" is not a valid CIB id`);
  return value;
}

function nvpairs(prefix: string, values: Record<string, string>): string[] {
  return Object.entries(values).map(([name, value]) => `<nvpair id="${id(`${prefix}-${name}`)}" name="${xmlAttr(name)}" value="${xmlAttr(value)}"/>`);
}

const indent = (lines: string[], n: number): string[] => lines.map((l) => ' '.repeat(n) + l);

export function writeCib(s: CibSettings): string {
  const v = s.vip;
  const params = { ip: v.ip, cidr_netmask: String(v.cidrNetmask), nic: v.nic, ...(v.extra ?? {}) };
  const ops = v.monitorMs !== undefined ? ['<operations>', `  <op id="${id(`${v.id}-monitor`)}" name="monitor" interval="${v.monitorMs}ms"/>`, '</operations>'] : [];
  const primitive = [
    `<primitive id="${id(v.id)}" class="ocf" provider="heartbeat" type="IPaddr2">`,
    `  <instance_attributes id="${id(`${v.id}-instance_attributes`)}">`,
    ...indent(nvpairs(`${v.id}-instance_attributes`, params), 4),
    '  </instance_attributes>',
    ...indent(ops, 2),
    '</primitive>',
  ];
  const constraints = v.prefers ? [`<rsc_location id="${id(`${v.id}-prefers-${v.prefers.node}`)}" rsc="${v.id}" node="${xmlAttr(v.prefers.node)}" score="${v.prefers.score}"/>`] : [];
  const configuration = [
    '<crm_config>',
    '  <cluster_property_set id="cib-bootstrap-options">',
    ...indent(nvpairs('cib-bootstrap-options', s.properties), 4),
    '  </cluster_property_set>',
    '</crm_config>',
    '<nodes>',
    ...indent(s.nodes.map((n) => `<node id="${n.id}" uname="${xmlAttr(n.uname)}"/>`), 2),
    '</nodes>',
    '<resources>',
    ...indent(primitive, 2),
    '</resources>',
    constraints.length ? '<constraints>' : '<constraints/>',
    ...(constraints.length ? [...indent(constraints, 2), '</constraints>'] : []),
  ];
  return [
    `<cib validate-with="${xmlAttr(s.validateWith ?? 'pacemaker-3.9')}" admin_epoch="0" epoch="1" num_updates="0">`,
    '  <configuration>',
    ...indent(configuration, 4),
    '  </configuration>',
    '  <status/>',
    '</cib>',
    '',
  ].join('\n');
}
