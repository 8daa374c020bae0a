import type { AnnouncementForm, Cause, Diagnosis, Fix, OutageReport } from './report.js';

export type { Cause, Diagnosis, Fix } from './report.js';

export interface DiagnoseContext {
  vip: string;
  iface?: string | undefined;
  expectMs?: number | undefined;
  acceptWindowMs: number;
  sysctls?: Record<string, number> | undefined;
  haveCapture: boolean;
  haveNeigh: boolean;
}

const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const rel = (o: OutageReport, ts: number) => `${ts - o.refTsMs >= 0 ? '+' : ''}${((ts - o.refTsMs) / 1000).toFixed(2)} s`;
const FORM_PHRASE: Record<AnnouncementForm, string> = {
  'garp-request': 'a gratuitous ARP request',
  'garp-reply': 'a gratuitous ARP reply',
  'directed-request': 'a request from the VIP to this host',
  'unicast-reply': 'an unsolicited unicast ARP reply to this host',
  'unsolicited-na': 'an unsolicited NA',
  'directed-na': 'an NA to this host',
  'directed-ns': 'an NS from the VIP to this host',
  other: 'ARP from the VIP',
};
const msText = (ms: number) => (ms < 1 ? `${ms.toFixed(2)} ms` : ms < 1000 ? `${ms.toFixed(1)} ms` : s(ms));

/** The sysctl.d snippet that bounds a client's stale-MAC time to a few seconds (arp-facts: 4.6–4.7 s measured). */
export function clientSysctlSnippet(iface = 'eth0', dropGratuitous = false): string {
  const lines = [
    `# /etc/sysctl.d/60-vip-failover.conf — apply with: sysctl --system`,
    `# re-check a neighbour after 2.5–7.5 s instead of 15–45 s; probe after 1 s instead of 5 s;`,
    `# skip the unicast probes to a dead MAC and ask by broadcast at once`,
    `net.ipv4.neigh.${iface}.base_reachable_time_ms = 5000`,
    `net.ipv4.neigh.${iface}.delay_first_probe_time = 1`,
    `net.ipv4.neigh.${iface}.ucast_solicit = 0`,
    `net.ipv4.neigh.${iface}.mcast_resolicit = 3`,
  ];
  if (dropGratuitous) lines.push(`# accept gratuitous ARP (sender IP = target IP) again`, `net.ipv4.conf.${iface}.drop_gratuitous_arp = 0`);
  return lines.join('\n');
}

/** IPv6: the same bound for the IPv6 neighbour table (retrans_time_ms instead of ARP's fixed 1 s probes). */
export function clientSysctlSnippet6(iface = 'eth0', dropUnsolicitedNa = false): string {
  const lines = [
    `# /etc/sysctl.d/60-vip-failover.conf — apply with: sysctl --system`,
    `# re-check a neighbour after 2.5–7.5 s instead of 15–45 s; probe after 1 s instead of 5 s;`,
    `# one unicast NUD probe to a dead MAC (250 ms) before asking by multicast`,
    `net.ipv6.neigh.${iface}.base_reachable_time_ms = 5000`,
    `net.ipv6.neigh.${iface}.delay_first_probe_time = 1`,
    `net.ipv6.neigh.${iface}.retrans_time_ms = 250`,
    `net.ipv6.neigh.${iface}.ucast_solicit = 1`,
  ];
  if (dropUnsolicitedNa) lines.push(`# take unsolicited NAs (the takeover node's announcements) again`, `net.ipv6.conf.${iface}.drop_unsolicited_na = 0`);
  return lines.join('\n');
}

const isV6 = (ctx: DiagnoseContext) => ctx.vip.includes(':');
/** the resolution protocol's name in a sentence */
const resolver = (ctx: DiagnoseContext) => (isV6(ctx) ? 'neighbour-discovery' : 'ARP');

/** What one outage's diagnosis is built from. */
interface Facts {
  o: OutageReport;
  ctx: DiagnoseContext;
  iface: string;
  dropGarp: boolean;
  newMac: string | undefined;
  /** announcements of the new MAC, and those before this host switched to it */
  anns: OutageReport['announcements'];
  annsBeforeSwitch: OutageReport['announcements'];
  overExpect: boolean;
  evidence: string[];
}

/** Derive the cause of one outage from what the run saw, in one sentence, with the evidence and ranked fixes. */
export function diagnose(o: OutageReport, ctx: DiagnoseContext): Diagnosis {
  const newMac = o.macAfter ?? o.broadcastAnswer?.mac ?? o.announcements[0]?.mac;
  const anns = o.announcements.filter((a) => a.mac === newMac);
  const f: Facts = {
    o,
    ctx,
    iface: ctx.iface ?? 'eth0',
    dropGarp: ctx.sysctls?.drop_gratuitous_arp === 1,
    newMac,
    anns,
    annsBeforeSwitch: o.switchTsMs === undefined ? anns : anns.filter((a) => a.tsMs <= o.switchTsMs!),
    overExpect: ctx.expectMs !== undefined && o.durationMs !== undefined && o.durationMs > ctx.expectMs,
    evidence: [],
  };
  f.evidence = evidenceOf(f);
  const d = withDad(f, o.recovered ? diagnoseRecovered(f) : diagnoseUnrecovered(f));
  return o.degraded && o.recovered ? lossyPath(f, d) : d;
}

/**
 * The outage lies in a degraded period: the loss lengthened it. The takeover's own part is how long it took the
 * new MAC to announce or answer (none when the same MAC answered: the path alone); the loss added the rest.
 */
function lossyPath(f: Facts, under: Diagnosis): Diagnosis {
  const { o, anns } = f;
  const dg = o.degraded!;
  const dur = o.durationMs!;
  // the earliest the VIP could have answered by the evidence: the new MAC's first announcement or answer seen
  // here, or the old holder's silence + the timers' takeover time (when the timers are known exactly)
  const t = o.takeover;
  const byTimers = t?.expected && !t.expected.atLeast && t.oldSilentTsMs !== undefined ? t.oldSilentTsMs + t.expected.ms : undefined;
  const seen = [anns[0]?.tsMs, o.broadcastAnswer?.tsMs, o.switchTsMs, byTimers].filter((x): x is number => x !== undefined);
  const ready = o.macBefore && o.macBefore === o.macAfter ? undefined : seen.length ? Math.min(...seen) : undefined;
  const takeover = ready === undefined ? undefined : Math.max(0, ready - o.startTsMs);
  const added = takeover === undefined ? undefined : Math.max(0, dur - takeover);
  // a takeover overruns its timers by some of the manager's own time: only more than a quarter of them counts
  const slack = byTimers !== undefined && ready === byTimers ? Math.max(50, t!.expected!.ms / 4) : 50;
  if (added !== undefined && added < slack) {
    // the loss was around the outage but did not lengthen it: the outage keeps its own cause
    return { ...under, evidence: [...under.evidence, `degraded path around it (${(dg.lossRate * 100).toFixed(1)} % of probes lost from ${rel(o, dg.fromTsMs)} to ${rel(o, dg.toTsMs)}), which did not lengthen it`] };
  }
  const window = `${(dg.lossRate * 100).toFixed(1)} % of probes lost from ${rel(o, dg.fromTsMs)} to ${rel(o, dg.toTsMs)} (${dg.lost} probes in ${dg.lossRuns} runs)`;
  const split = takeover === undefined ? `the same MAC ${o.macAfter ?? '?'} answered before and after: the path alone lost ${s(dur)}` : `the takeover itself took ${s(takeover)}; the loss added ${s(added!)}`;
  const evidence = [...under.evidence, `degraded path: ${window}`, `without the loss (${under.cause}): ${under.sentence}`];
  return {
    cause: 'lossy-path',
    underlying: under.cause,
    problem: true,
    sentence: `Lossy path: ${window}; ${split} (outage ${s(dur)}).`,
    evidence,
    fixes: [
      { rank: 1, side: 'network', title: 'find the loss on the path', detail: 'interface error counters (ip -s link, ethtool -S), duplex mismatch, a saturated link or queue, a flapping port between this host and the VIP' },
      ...under.fixes.map((x) => ({ ...x, rank: x.rank + 1 })),
    ],
  };
}

function evidenceOf({ o, ctx, iface, newMac, anns }: Facts): string[] {
  const ev: string[] = [];
  if (o.durationMs !== undefined) ev.push(`outage ${s(o.durationMs)} (first unanswered probe → first answer), ${o.lostProbes} probes lost`);
  if (o.macBefore || o.macAfter) ev.push(`VIP answered from ${o.macBefore ?? '?'} before and ${o.macAfter ?? '?'} after`);
  if (anns.length) ev.push(`${anns.length} announcement(s) from ${newMac}, first at ${rel(o, anns[0]!.tsMs)} (${anns[0]!.form})`);
  for (const v of verdictLines(o, newMac)) ev.push(v);
  for (const p of (o.dadProbes ?? []).slice(0, 2)) ev.push(`DAD probe (NS from ::) for ${ctx.vip} from ${p.mac} at ${rel(o, p.tsMs)}: that host was adding the VIP with duplicate-address detection`);
  const v6 = isV6(ctx);
  if (o.unicastProbesToOld.length) ev.push(`${o.unicastProbesToOld.length} ${v6 ? 'unicast NS (NUD probes)' : 'unicast ARP probe(s)'} to the old MAC ${o.macBefore}, first at ${rel(o, o.unicastProbesToOld[0]!)}`);
  if (o.broadcastRequests.length) ev.push(`${v6 ? 'multicast NS' : 'broadcast ARP request'} for ${ctx.vip} at ${rel(o, o.broadcastRequests[0]!)}${o.broadcastAnswer ? `, answered by ${o.broadcastAnswer.mac} at ${rel(o, o.broadcastAnswer.tsMs)}` : ', unanswered'}`);
  if (o.switchTsMs !== undefined) ev.push(`switched to ${newMac} at ${rel(o, o.switchTsMs)}: ${o.switchEvidence}`);
  for (const c of o.clusterStops) ev.push(`${c.proto} from ${c.srcIp} stopped at ${rel(o, c.tsMs)}`);
  ev.push(...takeoverEvidenceText(o));
  if (ctx.sysctls) ev.push(`client sysctls on ${iface}: ${Object.entries(ctx.sysctls).map(([k, v]) => `${k}=${v}`).join(' ')}`);
  return ev;
}

/**
 * IPv6: the new holder added the VIP with duplicate-address detection (its DAD probe, an NS from ::, reached
 * this host): the address was tentative — neither answering nor usable — until DAD ended (dad_transmits ×
 * retrans_time, 1 s by default; IPaddr2 can wait up to 10 s). Said in the sentence, the fix first.
 */
function withDad(f: Facts, d: Diagnosis): Diagnosis {
  const { o } = f;
  const probe = o.dadProbes?.find((p) => !f.newMac || p.mac === f.newMac);
  if (!probe || d.cause === 'same-mac' || d.cause === 'first-resolution') return d;
  return {
    ...d,
    sentence: `${d.sentence} The new holder ${probe.mac} ran duplicate-address detection on ${f.ctx.vip} first (DAD probe at ${rel(o, probe.tsMs)}): the address was tentative, neither answering nor announced, until DAD ended.`,
    fixes: [
      { rank: 1, side: 'server', title: 'add the VIP without DAD', detail: `ip -6 addr add ${f.ctx.vip}/PREFIX dev IF nodad (the HA manager's IPv6 resource: nodad / no DAD wait); a duplicate is then found by the cluster, not by a 1–10 s wait` },
      ...d.fixes.map((x) => ({ ...x, rank: x.rank + 1 })),
    ],
  };
}

/** IPv6: the kernel's verdict on the new MAC's announcements, one line per distinct reason. */
function verdictLines(o: OutageReport, newMac: string | undefined): string[] {
  const by = new Map<string, { n: number; first: OutageReport['announcements'][number] }>();
  for (const a of o.announcements) {
    if (a.mac !== newMac || !a.verdict) continue;
    const key = `${a.verdict.accepted ? 'taken' : 'not taken'}: ${a.verdict.reason}`;
    const x = by.get(key);
    if (x) x.n++;
    else by.set(key, { n: 1, first: a });
  }
  return [...by].map(([key, { n, first }]) => `kernel's verdict on ${n} ${first.form} (first at ${rel(o, first.tsMs)}, entry ${first.verdict!.entryBefore} before it) — ${key}`);
}

function done(f: Facts, cause: Cause, problem: boolean, sentence: string, fixes: Fix[]): Diagnosis {
  return { cause, problem: problem || f.overExpect, sentence: f.overExpect ? `${sentence} That exceeds the expected ${s(f.ctx.expectMs!)}.` : sentence, evidence: f.evidence, fixes };
}

const timerFix = (f: Facts, rank: number): Fix => ({
  rank,
  side: 'client',
  title: 'shrink this host’s neighbour timers',
  detail: 'bounds the time a dead MAC is kept to ~3–5 s whatever the servers send (measured 4.6–4.7 s with GARPs dropped)',
  snippet: isV6(f.ctx) ? clientSysctlSnippet6(f.iface, f.ctx.sysctls?.drop_unsolicited_na === 1) : clientSysctlSnippet(f.iface, f.dropGarp),
});
const naFormsFix = (rank: number): Fix => ({
  rank,
  side: 'server',
  title: 'announce with NAs Linux takes, and an NS from the VIP',
  detail: 'unsolicited NAs to ff02::1 with the override flag set and the target link-layer option (hadiag garp-check IF --vip VIP --send na; resource-agents send_ua), plus an NS from the VIP to each client (--send directed): it moves the entry whatever drop_unsolicited_na says, and repairs a FAILED or missing one',
});
const vmacFix = (rank: number): Fix => ({
  rank,
  side: 'server',
  title: 'move a virtual MAC with the VIP',
  detail: 'keepalived use_vmac (with arp_announce=2 on the servers) keeps the VIP’s MAC, so no client ARP entry has to change (switch learns the port from the first frame)',
});
const acceptedFormsFix = (rank: number): Fix => ({
  rank,
  side: 'server',
  title: 'announce with frames this host accepts',
  detail: 'a unicast ARP reply to each known client, or a directed request (broadcast, target IP = the client) — both pass drop_gratuitous_arp and sender-IP=target-IP filters (hadiag run-node --garp directed / unicast)',
});

function diagnoseUnrecovered(f: Facts): Diagnosis {
  const { o, ctx, anns, iface, dropGarp } = f;
  if (anns.length && o.switchTsMs === undefined) {
    return done(f, 'never-recovered', true, `The VIP did not answer again while measuring: announcements from ${f.newMac} arrived from ${rel(o, anns[0]!.tsMs)} but this host kept ${o.macBefore ?? 'the old MAC'}${dropGarp ? ' (drop_gratuitous_arp=1)' : ''}.`, [
      { rank: 1, side: 'client', title: 'let this host take the announcements', detail: dropGarp ? `net.ipv4.conf.${iface}.drop_gratuitous_arp=0` : 'look for an ARP filter dropping sender IP = target IP (nft list ruleset; arptables -L)' },
      acceptedFormsFix(2),
      timerFix(f, 3),
    ]);
  }
  if (o.broadcastRequests.length && !o.broadcastAnswer) {
    return done(f, 'never-recovered', true, `The VIP did not answer again while measuring: this host asked for ${ctx.vip} by broadcast at ${rel(o, o.broadcastRequests[0]!)} and nobody answered — no node holds the VIP, or the path to it is cut.`, [
      { rank: 1, side: 'server', title: 'check that a node took over the VIP', detail: 'ip addr show on each node; the cluster manager’s log (detection, resource start errors)' },
      { rank: 2, side: 'network', title: 'check the path', detail: 'the VIP owner’s link, VLAN and switch port (STP blocking, partition)' },
    ]);
  }
  return done(f, 'never-recovered', true, `The VIP did not answer again while measuring (${o.lostProbes} probes lost${o.durationMs === undefined ? '' : ''}); ${ctx.haveCapture ? 'no announcement and no ARP answer for it reached this interface.' : 'no capture to tell why.'}`, [
    { rank: 1, side: 'server', title: 'check that a node took over the VIP', detail: 'ip addr show on each node; the cluster manager’s log' },
    { rank: 2, side: 'client', title: 'measure longer', detail: 'raise --timeout or use --until-recovered' },
  ]);
}

function diagnoseRecovered(f: Facts): Diagnosis {
  const { o, ctx } = f;
  const dur = o.durationMs!;
  if (o.conflicts?.length) return splitBrain(f);
  if (o.macBefore && o.macAfter && o.macBefore === o.macAfter) {
    return done(f, 'same-mac', false, `The VIP answered from the same MAC ${o.macAfter} before and after a ${s(dur)} outage: not an ARP problem — the path or the node dropped traffic (loss, partition, STP delay, a restart, or a virtual MAC takeover of ${s(dur)}).`, [
      { rank: 1, side: 'network', title: 'look at the path', detail: 'switch ports (STP: make server ports edge/portfast), link flaps, loss' },
      { rank: 2, side: 'server', title: 'if the VIP moved with a virtual MAC, this is the takeover time', detail: 'lower the cluster’s failure detection (Heartbeat keepalive/deadtime, keepalived advert_int)' },
    ]);
  }
  if (!ctx.haveCapture && !ctx.haveNeigh) {
    return done(f, 'unknown', false, `Outage of ${s(dur)}; nothing was captured, so the cause cannot be told.`, [{ rank: 1, side: 'client', title: 'capture', detail: 'run as root with the interface up so ARP can be captured' }]);
  }
  if (o.takeover?.pathBlockedMs !== undefined && f.newMac && f.newMac !== o.macBefore) return portNotForwarding(f);
  if (o.learnedBy === 'announcement') return diagnoseTakenAnnouncement(f);
  if (o.lastOkSeq === undefined && !o.macBefore && f.anns.length === 0) return diagnoseFirstResolution(f);
  return diagnoseOwnResolution(f);
}

/** This host switched on an announcement: only the cluster's detection time is left. */
function diagnoseTakenAnnouncement(f: Facts): Diagnosis {
  const { o, ctx, annsBeforeSwitch, newMac } = f;
  const first = annsBeforeSwitch[0]!;
  const takeover = first.tsMs - o.refTsMs;
  const lat = o.acceptLatencyMs ?? o.switchTsMs! - first.tsMs;
  const tookFirst = o.switchTsMs! - first.tsMs <= ctx.acceptWindowMs;
  const sentence = tookFirst
    ? `Takeover itself took ${s(takeover)} (detection); this host switched to ${newMac} ${msText(lat)} after the first announcement (${FORM_PHRASE[first.form]}).`
    : `Takeover took ${s(takeover)} to the first announcement; this host switched to ${newMac} only ${msText(o.switchTsMs! - first.tsMs)} later, after announcement ${annsBeforeSwitch.length} (${o.switchEvidence}).`;
  return done(f, 'detection-bound', false, sentence, [
    { rank: 1, side: 'server', title: 'detect the failure sooner', detail: 'the ARP side is already fast here: only the cluster’s detection time is left (Heartbeat keepalive/deadtime, e.g. keepalive 500ms / deadtime 2; keepalived advert_int)' },
    { rank: 2, side: 'server', title: 'keep announcing from the long-running node', detail: 'announcements from an already running process reach clients within ~10 ms of the move; a freshly spawned helper adds ~0.1 s' },
  ]);
}

/** The run began unanswered and this host had no MAC for the VIP yet: its first probes waited for its own resolution. */
function diagnoseFirstResolution(f: Facts): Diagnosis {
  const { o, ctx } = f;
  const asked = o.broadcastRequests.length
    ? `: it asked for ${ctx.vip} by broadcast at ${rel(o, o.broadcastRequests[0]!)}${o.broadcastAnswer ? ` and ${o.broadcastAnswer.mac} answered at ${rel(o, o.broadcastAnswer.tsMs)}` : ''}`
    : '';
  return done(f, 'first-resolution', false, `The run began with ${o.lostProbes} unanswered probe${o.lostProbes === 1 ? '' : 's'} while this host first resolved ${ctx.vip}${asked}; the first answer came at ${rel(o, o.endTsMs!)}: the start of the run, not a failover.`, [
    { rank: 1, side: 'client', title: 'start measuring with the VIP resolved', detail: 'ping the VIP once before the capture (the live run waits for answers before its trigger)' },
  ]);
}

/** " (3 unicast probes to the dead MAC, then broadcast)": how this host resolved the VIP itself. */
function ownResolutionText(o: OutageReport, v6 = false): string {
  const parts: string[] = [];
  if (o.unicastProbesToOld.length) parts.push(`${o.unicastProbesToOld.length} unicast probe${o.unicastProbesToOld.length > 1 ? 's' : ''} to the dead MAC`);
  if (o.broadcastRequests.length) parts.push(v6 ? 'then a multicast NS' : 'then broadcast');
  return parts.length ? ` (${parts.join(', ')})` : '';
}

/** This host found the new MAC by its own ARP resolution: was that the takeover's fault or ARP's? */
function diagnoseOwnResolution(f: Facts): Diagnosis {
  const { o, ctx, anns, annsBeforeSwitch, newMac } = f;
  const own = o.broadcastAnswer ?? (o.switchTsMs !== undefined ? { tsMs: o.switchTsMs, mac: newMac ?? '?' } : undefined);
  const recoveredAt = own ? rel(o, own.tsMs) : rel(o, o.endTsMs!);
  // Asked by broadcast and nobody answered at first: no node held the VIP yet, so the takeover, not ARP, bound it.
  const unansweredAsks = o.broadcastAnswer ? Math.max(0, o.broadcastRequests.filter((t) => t <= o.broadcastAnswer!.tsMs).length - 1) : 0;
  if (!annsBeforeSwitch.length && o.learnedBy === 'own-resolution' && unansweredAsks >= 1) return diagnoseSlowTakeover(f, unansweredAsks);
  if (annsBeforeSwitch.length) return diagnoseIgnoredAnnouncements(f, recoveredAt);
  if (anns.length) {
    return done(f, 'late-announcement', true, `This host found ${newMac} through its own ${resolver(ctx)} resolution at ${recoveredAt}${ownResolutionText(o, isV6(ctx))}, before the first announcement arrived at ${rel(o, anns[0]!.tsMs)}: the announcement came too late to help.`, [
      { rank: 1, side: 'server', title: 'announce as soon as the VIP is up', detail: 'send from the long-running node right after adding the address, not from a helper started later' },
      timerFix(f, 2),
      vmacFix(3),
    ]);
  }
  return done(f, 'no-announcement', true, `No announcement for ${ctx.vip} reached this interface: the takeover node did not send one, or the path dropped it; this host recovered through its own ${resolver(ctx)} timeout at ${recoveredAt}${ownResolutionText(o, isV6(ctx))}.`, [
    isV6(ctx)
      ? { rank: 1, side: 'server', title: 'make the takeover node announce the VIP', detail: 'unsolicited NAs (override set, target link-layer option) right after adding the address: IPv6addr/IPaddr2 send_ua, keepalived VRRPv3, hadiag garp-check IF --vip VIP --send na; check that multicast reaches this segment (MLD snooping, VLAN)' }
      : { rank: 1, side: 'server', title: 'make the takeover node announce the VIP', detail: 'IPaddr/IPaddr2 send_arp, keepalived garp_master_*, hadiag run-node --garp; check that broadcasts reach this segment (VLAN, switch filters)' },
    isV6(ctx) ? naFormsFix(2) : acceptedFormsFix(2),
    vmacFix(3),
    timerFix(f, 4),
  ]);
}

function diagnoseSlowTakeover(f: Facts, unansweredAsks: number): Diagnosis {
  const { o, ctx, anns } = f;
  const answer = o.broadcastAnswer!;
  const later = anns.length ? `; the first announcement followed at ${rel(o, anns[0]!.tsMs)}` : '; no announcement was seen';
  f.evidence.push(`${unansweredAsks} broadcast request(s) for ${ctx.vip} went unanswered before ${answer.mac} answered`);
  return done(f, 'detection-bound', false, `Takeover itself took ${rel(o, answer.tsMs).slice(1)}: this host had already dropped the dead MAC and was asking for ${ctx.vip} by broadcast (${unansweredAsks} unanswered) until ${answer.mac} answered at ${rel(o, answer.tsMs)}${later}.`, [
    { rank: 1, side: 'server', title: 'take over sooner', detail: 'the VIP was not held by any node while this host asked: shorten failure detection and resource start (Heartbeat deadtime, IPaddr start time; keepalived advert_int)' },
    { rank: 2, side: 'server', title: 'announce as soon as the VIP is up', detail: 'so clients that still hold the dead MAC switch at once (they were not the bottleneck this time)' },
  ]);
}

function diagnoseIgnoredAnnouncements(f: Facts, recoveredAt: string): Diagnosis {
  const { o, iface, dropGarp, annsBeforeSwitch } = f;
  if (isV6(f.ctx)) return ignoredNdAnnouncements(f, recoveredAt);
  const why = dropGarp ? 'drop_gratuitous_arp=1' : annsBeforeSwitch.every((a) => a.form === 'garp-request' || a.form === 'garp-reply') ? 'an ARP filter dropping sender IP = target IP, or drop_gratuitous_arp' : 'a filter, or the neighbour locktime';
  return done(f, 'announcements-ignored', true, `Announcements arrived at ${rel(o, annsBeforeSwitch[0]!.tsMs)} but this host ignored them (${why}): it recovered only through its own ARP timeout at ${recoveredAt}${ownResolutionText(o)}.`, [
    { rank: 1, side: 'client', title: 'let this host take gratuitous ARP', detail: dropGarp ? `sysctl -w net.ipv4.conf.${iface}.drop_gratuitous_arp=0` : 'remove the rule dropping ARP with sender IP = target IP (nft list ruleset; arptables -L); check drop_gratuitous_arp' },
    acceptedFormsFix(2),
    vmacFix(3),
    timerFix(f, 4),
  ]);
}

/** IPv6: the announcements arrived; the acceptance model says why the kernel kept the old MAC. */
function ignoredNdAnnouncements(f: Facts, recoveredAt: string): Diagnosis {
  const { o, iface, annsBeforeSwitch } = f;
  const reasons = [...new Set(annsBeforeSwitch.filter((a) => a.verdict && !a.verdict.accepted).map((a) => a.verdict!.reason))];
  const why = reasons.length ? reasons.join('; ') : 'a filter on this host (the model says Linux would have taken them: ip6tables/nft, or the neighbour locktime)';
  const dropNa = f.ctx.sysctls?.drop_unsolicited_na === 1;
  return done(f, 'announcements-ignored', true, `Announcements arrived at ${rel(o, annsBeforeSwitch[0]!.tsMs)} but this host's kernel did not take them (${why}): it recovered only through its own neighbour discovery at ${recoveredAt}${ownResolutionText(o, true)}.`, [
    dropNa
      ? { rank: 1, side: 'client', title: 'let this host take unsolicited NAs', detail: `sysctl -w net.ipv6.conf.${iface}.drop_unsolicited_na=0` }
      : naFormsFix(1),
    ...(dropNa ? [naFormsFix(2)] : []),
    vmacFix(dropNa ? 3 : 2),
    timerFix(f, dropNa ? 4 : 3),
  ]);
}

/** The takeover evidence as lines: the old holder's silence, the timers' takeover time, the new holder heard or not. */
function takeoverEvidenceText(o: OutageReport): string[] {
  const t = o.takeover;
  if (!t) return [];
  const ev: string[] = [];
  if (t.oldSilentTsMs !== undefined) ev.push(`the old holder's cluster traffic fell silent after ${rel(o, t.oldSilentTsMs)}`);
  if (t.expected) ev.push(`the cluster's timers say a takeover takes ${t.expected.atLeast ? 'more than ' : ''}${s(t.expected.ms)}: ${t.expected.from}`);
  const n = t.newHolder;
  if (n?.silentFromTsMs !== undefined) ev.push(`nothing from the new holder ${n.srcIp} (${n.proto}${n.rhythmMs ? ` every ${s(n.rhythmMs)}` : ''}) reached this host from ${rel(o, n.silentFromTsMs)} to ${rel(o, n.silentToTsMs!)}`);
  else if (n?.firstTsMs !== undefined) ev.push(`the new master ${n.srcIp}'s first VRRP advert reached this host at ${rel(o, n.firstTsMs)}`);
  else if (n) ev.push(`the new holder ${n.srcIp}'s ${n.proto} traffic kept arriving through the outage`);
  if (t.bothKeptSpeaking) ev.push('both nodes’ cluster traffic kept arriving through the outage: a slow takeover is the manager’s own time (a restart, slow resource scripts), not the path');
  return ev;
}

/** Several MACs answered for the VIP inside the outage's window. */
function splitBrain(f: Facts): Diagnosis {
  const { o, ctx } = f;
  const c = o.conflicts![0]!;
  return done(f, 'split-brain', true, `Split brain during the outage: ${c.macs.join(' and ')} both answered for ${ctx.vip} at ${rel(o, c.tsMs)} (${c.evidence}); this host followed whichever spoke last.`, [
    { rank: 1, side: 'server', title: 'restore the cluster link and fence', detail: 'both nodes hold the VIP: check the heartbeat/VRRP path between them (partition), and configure fencing (STONITH) so a node that loses its peer cannot keep the VIP' },
    { rank: 2, side: 'server', title: 'more than one cluster path', detail: 'Heartbeat: a second medium (bcast on another interface, serial); keepalived: unicast peers on two networks' },
  ]);
}

/** Nothing from the new holder reached this host for well past the moment the timers say it took over: the path. */
function portNotForwarding(f: Facts): Diagnosis {
  const { o, anns, newMac } = f;
  const t = o.takeover!;
  const n = t.newHolder!;
  const heard = n.silentToTsMs ?? n.firstTsMs!;
  const e = t.expected;
  const due = e && !e.atLeast && t.oldSilentTsMs !== undefined ? `, although by its timers — ${e.from} after the old holder fell silent — it took over at ${rel(o, t.oldSilentTsMs + e.ms)}` : e ? `, although its timers say a takeover takes more than ${s(e.ms)}` : '';
  const what = n.proto === 'vrrp' ? `The new master ${n.srcIp}'s first VRRP advert reached this host only at ${rel(o, heard)}${due}` : `Nothing from the new holder ${n.srcIp} (its ${n.proto} every ${s(n.rhythmMs ?? 1000)}) reached this host for ${s(heard - n.silentFromTsMs!)}, from ${rel(o, n.silentFromTsMs!)} to ${rel(o, heard)}${due}`;
  const after = anns.length
    ? `Its first announcement to get through arrived at ${rel(o, anns[0]!.tsMs)}; the outage lasted ${s(o.durationMs!)}.`
    : `None of its announcements got through, so this host kept the dead MAC until its own ${resolver(f.ctx)} timeout: recovered at ${rel(o, o.endTsMs!)}${ownResolutionText(o, isV6(f.ctx))}, an outage of ${s(o.durationMs!)}.`;
  const sentence = `${what}: the path to ${newMac} was not forwarding (STP listening/learning on its switch port, or a port that came up late). ${after}`;
  return done(f, 'port-not-forwarding', true, sentence, [
    { rank: 1, side: 'network', title: 'make the servers’ switch ports edge ports', detail: 'spanning-tree portfast / edge port on every server port, so a port forwards at once instead of after 2 × forward delay (Linux bridge: STP off on the server ports or a shorter forward_delay)' },
    { rank: 2, side: 'server', title: 'announce for longer than the port blocks', detail: 'repeat the announcements past 2 × forward delay (e.g. hadiag run-node --garp with a count and interval spanning 30 s), so a later burst reaches the clients' },
    timerFix(f, 3),
  ]);
}
