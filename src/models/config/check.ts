import type { Diagnostic } from './diagnostics.js';
import type { Medium } from './hacf.js';
import type { HostFacts, HostInterface } from './host.js';
import { inSubnet } from '../../codecs/ipv4-address.js';
import type { ConfigAnalysis } from './analysis.js';
import { describePlan } from './plan.js';
import { ipv6Full, ipv6InPrefix, type Resource } from './haresources.js';

/** One named check of check-config and whether it passed. */
export interface Check {
  name: 'files' | 'node-name' | 'interfaces' | 'udp-port' | 'vip-subnet' | 'authkeys-mode' | 'authkeys-key' | 'ping-nodes';
  ok: boolean;
  detail: string;
}

export interface CheckConfigReport {
  ok: boolean;
  dir: string;
  /** null when not checked (--no-host without --node). */
  node: string | null;
  /** Whether this host was checked (interfaces, ports, VIP subnets). */
  hostChecked: boolean;
  errors: Diagnostic[];
  warnings: Diagnostic[];
  checks: Check[];
  /** what run-node will do with ping nodes, ipfail and respawn lines (one sentence each) */
  plan: string[];
}

/**
 * Pure: compare a parsed configuration directory with the host it is meant for. The findings of the files
 * themselves come first, then the host's, each with file:line and a fix.
 */
export function checkConfigAgainstHost(dir: string, a: ConfigAnalysis, host: HostFacts | undefined, node: string | undefined): CheckConfigReport {
  const findings: Diagnostic[] = [...a.diagnostics];
  const checks: Check[] = [];
  const hostFindings: Diagnostic[] = [];
  const add = (d: Diagnostic) => hostFindings.push(d);
  const { hacf, paths } = a;

  // 1. The files themselves (authkeys mode and key spaces are reported as checks of their own).
  const isMode = (d: Diagnostic) => d.file === paths.authkeys && d.line === undefined && d.message.startsWith('authkeys mode');
  const isSpaces = (d: Diagnostic) => d.file === paths.authkeys && / has spaces: /.test(d.message);
  const fileErrors = a.diagnostics.filter((d) => d.severity === 'error' && !isMode(d));
  const resources = a.haresources.reduce((n, g) => n + g.resources.length, 0);
  checks.push({
    name: 'files',
    ok: fileErrors.length === 0,
    detail: fileErrors.length
      ? `${fileErrors.length} error${fileErrors.length === 1 ? '' : 's'} in the files`
      : `${hacf.nodes.length} nodes, ${hacf.media.length} medi${hacf.media.length === 1 ? 'um' : 'a'}, keepalive ${haTime(hacf.keepaliveMs)}, deadtime ${haTime(hacf.deadtimeMs)}, ${resources} resource${resources === 1 ? '' : 's'}`,
  });
  const modeFinding = a.diagnostics.find(isMode);
  checks.push({ name: 'authkeys-mode', ok: !modeFinding, detail: modeFinding ? modeFinding.message : 'authkeys is readable by its owner only' });
  const spaces = a.diagnostics.filter(isSpaces);
  checks.push({
    name: 'authkeys-key',
    ok: spaces.length === 0,
    detail: spaces.length ? spaces.map((d) => d.message).join('; ') : a.authkeys ? `auth ${a.authkeys.active.index} (${a.authkeys.active.method})` : 'no usable key',
  });

  // 2. This node's name (skipped with --no-host and no --node).
  const me = node?.toLowerCase();
  if (me !== undefined) {
    if (hacf.nodes.length > 0 && !hacf.nodes.includes(me)) {
      add({
        severity: 'error',
        file: paths.hacf,
        message: `this node "${node}" is not declared in ha.cf (nodes: ${hacf.nodes.join(', ')})`,
        fix: `add "node ${me}" or check with --node NAME: Heartbeat names a node by \`uname -n\``,
      });
      checks.push({ name: 'node-name', ok: false, detail: `"${node}" is not one of ${hacf.nodes.join(', ')}` });
    } else {
      checks.push({ name: 'node-name', ok: hacf.nodes.length > 0, detail: hacf.nodes.length ? `"${me}" is declared on line ${hacf.nodeLines[me]}` : 'no node declared' });
    }
  }

  if (host) hostChecks(a, host, add, checks);

  findings.push(...hostFindings);
  const errors = findings.filter((d) => d.severity === 'error');
  const warnings = findings.filter((d) => d.severity === 'warning');
  return { ok: errors.length === 0, dir, node: me ?? null, hostChecked: host !== undefined, errors, warnings, checks, plan: describePlan(hacf) };
}

/**
 * Ping nodes: each host should be on a subnet of this host's interfaces (the client side), else its echoes follow
 * the default route; one on the interface of a heartbeat medium cannot tell the client link from the heartbeats.
 */
function pingChecks(a: ConfigAnalysis, host: HostFacts, add: (d: Diagnostic) => void, checks: Check[]): void {
  const { hacf, paths } = a;
  if (!hacf.pingNodes.length) return;
  const media = new Set(hacf.media.map((m) => m.iface));
  const details: string[] = [];
  for (const p of hacf.pingNodes) {
    for (const h of p.hosts) {
      const iface = host.interfaces.find((i) => i.name !== 'lo' && i.ipv4.some((x) => inSubnet(h, x.address, x.prefixLen)));
      if (!iface) {
        add({ severity: 'warning', file: paths.hacf, line: p.line, message: `ping node ${h} is on no subnet of this host's interfaces: its echoes follow the default route`, fix: 'ping a host on the client-facing subnet (e.g. its router), so a dead client link is seen' });
        details.push(`${h} via the default route`);
        continue;
      }
      details.push(`${h} via ${iface.name}`);
      if (media.has(iface.name) && media.size > 1) {
        add({ severity: 'warning', file: paths.hacf, line: p.line, message: `ping node ${h} is reached over ${iface.name}, a heartbeat medium`, fix: 'with a dedicated heartbeat link, ping a host on the client-facing side instead' });
      }
    }
  }
  checks.push({ name: 'ping-nodes', ok: true, detail: details.join(', ') });
}

/** Checks 3–5: media interfaces, UDP ports, VIP subnets, against the host's facts. */
function hostChecks(a: ConfigAnalysis, host: HostFacts, add: (d: Diagnostic) => void, checks: Check[]): void {
  pingChecks(a, host, add, checks);
  const { hacf, paths } = a;
  // 3. Media interfaces.
  const byName = new Map(host.interfaces.map((i) => [i.name, i]));
  const names = host.interfaces.filter((i) => i.name !== 'lo').map((i) => i.name).join(', ');
  let mediaOk = true;
  for (const m of hacf.media) {
    const iface = byName.get(m.iface);
    if (!iface) {
      mediaOk = false;
      add({ severity: 'error', file: paths.hacf, line: m.line, message: `interface "${m.iface}" does not exist on this host`, fix: names ? `use one of ${names}` : 'this host has no interface besides lo: create or name the right one' });
      continue;
    }
    if (!iface.up) {
      add({ severity: 'warning', file: paths.hacf, line: m.line, message: `interface "${m.iface}" is down`, fix: `bring it up: ip link set ${m.iface} up` });
    }
    if (iface.ipv4.length === 0) {
      mediaOk = false;
      add({ severity: 'error', file: paths.hacf, line: m.line, message: `interface "${m.iface}" has no IPv4 address (Heartbeat's media stay IPv4)`, fix: `add one: ip addr add ADDRESS/PREFIX brd + dev ${m.iface}; the VIP may still be IPv6` });
      continue;
    }
    if (m.kind === 'bcast' && !iface.ipv4.some((x) => x.broadcast)) {
      mediaOk = false;
      add({
        severity: 'error',
        file: paths.hacf,
        line: m.line,
        message: `interface "${m.iface}" has no IPv4 broadcast address: Heartbeat would send its heartbeats to 0.0.0.0 and both nodes would take the VIP (split brain)`,
        fix: `re-add the address with a broadcast (ip addr replace cannot add one): ip addr del ${cidr(iface)} dev ${m.iface} && ip addr add ${cidr(iface)} brd + dev ${m.iface}, and make it permanent in the interface's configuration; or use ucast`,
      });
    }
  }
  checks.push({
    name: 'interfaces',
    ok: mediaOk && hacf.media.length > 0,
    detail: hacf.media.length ? hacf.media.map((m) => describeMedium(m, byName.get(m.iface))).join(', ') : 'no medium declared',
  });

  // 4. UDP ports.
  let portsOk = true;
  const seen = new Set<number>();
  for (const m of hacf.media) {
    if (seen.has(m.port)) continue;
    seen.add(m.port);
    const state = host.ports[m.port];
    if (state === 'in-use') {
      portsOk = false;
      add({
        severity: 'error',
        file: paths.hacf,
        line: m.kind === 'mcast' ? m.line : (hacf.lines.udpport ?? m.line),
        message: `UDP port ${m.port} is already in use on this host (is heartbeat running?)`,
        fix: `find the owner with ss -ulpn 'sport = :${m.port}' and stop it, or choose another udpport on every node`,
      });
    } else if (state !== 'free') {
      add({ severity: 'warning', file: paths.hacf, line: m.line, message: `could not test whether UDP port ${m.port} is free`, fix: 'run check-config as root' });
    }
  }
  checks.push({ name: 'udp-port', ok: portsOk, detail: seen.size ? [...seen].map((p) => `${p} ${host.ports[p] ?? 'unknown'}`).join(', ') : 'no port in use by the media' });

  // 5. VIPs: an interface must hold the VIP's subnet when no nic is given; the VIP must not already be up here.
  let vipOk = true;
  const vips: string[] = [];
  for (const g of a.haresources) {
    for (const r of g.resources) {
      if (r.kind !== 'ip') continue;
      vips.push(r.ip);
      if (r.ip.includes(':')) {
        if (!ipv6VipChecks(r, g.line, a, host, add)) vipOk = false;
        continue;
      }
      if (r.nic) {
        if (!byName.has(r.nic)) {
          vipOk = false;
          add({ severity: 'error', file: paths.haresources, line: g.line, message: `interface "${r.nic}" of ${r.ip} does not exist on this host`, fix: names ? `use one of ${names}` : 'this host has no interface besides lo: create or name the right one' });
        }
      } else {
        const match = findSubnet(host.interfaces, r.ip);
        if (!match) {
          vipOk = false;
          add({
            severity: 'error',
            file: paths.haresources,
            line: g.line,
            message: `no interface has a subnet that contains ${r.ip}, so IPaddr cannot choose one`,
            fix: `name the interface: ${r.agent}::${r.ip}/${r.prefixLen ?? 24}/eth0, or give this host an address in ${r.ip}'s subnet`,
          });
        } else if (r.prefixLen !== undefined && r.prefixLen !== match.prefixLen) {
          add({
            severity: 'warning',
            file: paths.haresources,
            line: g.line,
            message: `${r.ip}/${r.prefixLen} differs from ${match.iface}'s subnet /${match.prefixLen}`,
            fix: `write ${r.ip}/${match.prefixLen} unless the other prefix is intended`,
          });
        }
      }
      const holder = host.interfaces.find((i) => i.ipv4.some((x) => x.address === r.ip));
      if (holder) {
        add({
          severity: 'warning',
          file: paths.haresources,
          line: g.line,
          message: `${r.ip} is already configured on ${holder.name}`,
          fix: `the cluster adds it; remove it (ip addr del ${r.ip}/${holder.ipv4.find((x) => x.address === r.ip)!.prefixLen} dev ${holder.name}) unless the cluster is running here`,
        });
      }
    }
  }
  checks.push({ name: 'vip-subnet', ok: vipOk, detail: vips.length ? vips.join(', ') : 'no IP resource' });
}

/**
 * An IPv6 VIP against this host: its interface exists (or one has a prefix that contains it), the prefix agrees,
 * and the address is on no other interface (the node adds it to its own: two copies answer ND on two links).
 * A copy on its own interface is reported as IPv4's is, a `dadfailed` one with what run-node does with it.
 */
function ipv6VipChecks(r: Extract<Resource, { kind: 'ip' }>, line: number, a: ConfigAnalysis, host: HostFacts, add: (d: Diagnostic) => void): boolean {
  const file = a.paths.haresources;
  const byName = new Map(host.interfaces.map((i) => [i.name, i]));
  const names = host.interfaces.filter((i) => i.name !== 'lo').map((i) => i.name).join(', ');
  let ok = true;
  let iface = r.nic;
  if (r.nic && !byName.has(r.nic)) {
    add({ severity: 'error', file, line, message: `interface "${r.nic}" of ${r.ip} does not exist on this host`, fix: names ? `use one of ${names}` : 'this host has no interface besides lo: create or name the right one' });
    ok = false;
  } else if (r.nic && byName.get(r.nic)!.ipv6 && byName.get(r.nic)!.ipv6!.length === 0) {
    add({ severity: 'error', file, line, message: `interface "${r.nic}" of ${r.ip} has no IPv6 (IPv6 disabled on it?)`, fix: `enable IPv6 on it: sysctl -w net.ipv6.conf.${r.nic}.disable_ipv6=0` });
    ok = false;
  } else if (!r.nic) {
    const match = host.interfaces.flatMap((i) => (i.ipv6 ?? []).filter((x) => x.scope !== 'link' && x.address !== r.ip && x.prefixLen < 128 && ipv6InPrefix(r.ip, x.address, x.prefixLen)).map((x) => ({ iface: i.name, prefixLen: x.prefixLen })))[0];
    if (!match) {
      add({ severity: 'error', file, line, message: `no interface has an IPv6 prefix that contains ${r.ip}, so ${r.agent} cannot choose one`, fix: `name the interface: ${r.agent}::${ipv6Full(r.ip)}/${r.prefixLen ?? 64}/eth0, or give this host an address in ${r.ip}'s prefix` });
      ok = false;
    } else {
      iface = match.iface;
      if (r.prefixLen !== undefined && r.prefixLen !== match.prefixLen) {
        add({ severity: 'warning', file, line, message: `${r.ip}/${r.prefixLen} differs from ${match.iface}'s prefix /${match.prefixLen}`, fix: `write ${r.ip}/${match.prefixLen} unless the other prefix is intended` });
      }
    }
  }
  for (const i of host.interfaces) {
    const copy = (i.ipv6 ?? []).find((x) => x.address === r.ip);
    if (!copy) continue;
    if (iface !== undefined && i.name !== iface) {
      add({ severity: 'error', file, line, message: `${r.ip} is already configured on ${i.name}, not on ${iface} where the cluster adds it`, fix: `remove it: ip -6 addr del ${r.ip}/${copy.prefixLen} dev ${i.name} (one interface answers neighbour discovery for a VIP)` });
      ok = false;
    } else if (copy.dadfailed) {
      add({ severity: 'warning', file, line, message: `${r.ip} is on ${i.name} in state dadfailed (another host answered its DAD probe: a split brain, or a copy left behind)`, fix: `run-node replaces a dadfailed copy when it takes the VIP; find who else holds it (hadiag garp-check ${i.name} --vip ${r.ip})` });
    } else {
      add({ severity: 'warning', file, line, message: `${r.ip} is already configured on ${i.name}${copy.tentative ? ' (tentative: in DAD)' : ''}`, fix: `the cluster adds it (with nodad); remove it (ip -6 addr del ${r.ip}/${copy.prefixLen} dev ${i.name}) unless the cluster is running here` });
    }
  }
  return ok;
}

const cidr = (i: HostInterface) => `${i.ipv4[0]!.address}/${i.ipv4[0]!.prefixLen}`;

/** A duration the way ha.cf would write it: 5s, 1.5s, 200ms. */
function haTime(ms: number): string {
  return ms % 100 === 0 && ms >= 1000 ? `${ms / 1000}s` : `${ms}ms`;
}

/** `bcast eth0 → 10.0.0.255:694`: where the heartbeats of a medium go on this host. */
function describeMedium(m: Medium, iface: HostInterface | undefined): string {
  if (!iface) return `${m.kind} ${m.iface} (missing)`;
  if (m.kind === 'mcast') return `mcast ${m.iface} → ${m.group}:${m.port}`;
  if (m.kind === 'ucast') return `ucast ${m.iface} → ${m.peer}:${m.port}`;
  const brd = iface?.ipv4.find((a) => a.broadcast)?.broadcast;
  return `bcast ${m.iface} → ${brd ?? '0.0.0.0 (no broadcast address)'}:${m.port}`;
}

function findSubnet(interfaces: HostInterface[], ip: string): { iface: string; prefixLen: number } | undefined {
  for (const i of interfaces) {
    for (const a of i.ipv4) {
      if (a.prefixLen < 32 && inSubnet(ip, a.address, a.prefixLen)) return { iface: i.name, prefixLen: a.prefixLen };
    }
  }
  return undefined;
}
