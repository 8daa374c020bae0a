/**
 * The neighbour-discovery acceptance model against the table measured on Linux 6.18 in namespaces
 * (test/fixtures/nd/linux-6.18-nd-table.txt, written by test/integration/garp-ipv6.test.ts): every row — NA
 * variant × entry state × client sysctls — reproduced from the state before the frame. Then the rules no row
 * exercises (DAD, hop limit, multicast solicited, accept_untracked_na=2, an old kernel), the classification of
 * NA/NS, garp-check's analysis of an IPv6 takeover, the audit and the `ip monitor` parser.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { buildNa, buildNs, solicitedNode } from '../../src/codecs/nd.js';
import { decodeFrame } from '../../src/codecs/decode.js';
import { encodeEthernet, ETHERTYPE_IPV6 } from '../../src/codecs/ethernet.js';
import { encodeIpv6 } from '../../src/codecs/ipv6.js';
import { predictNd, inPrefix6, type HostNdState } from '../../src/models/resolution/nd-accept-model.js';
import { classifyNd } from '../../src/models/resolution/classify.js';
import { GarpAnalyzer } from '../../src/models/resolution/garp-watch.js';
import { HostModel, stockClientVerdicts } from '../../src/models/resolution/host-model.js';
import { buildAudit6 } from '../../src/models/resolution/audit.js';
import { parseNeigh6Line, type NdSysctls } from '../../src/models/resolution/host-state.js';
import type { NeighState } from '../../src/models/resolution/accept-model.js';

const OLD = '02:00:00:00:00:11';
const NEW = '02:48:44:00:00:12';
const C1 = { ip: '2001:db8::5', mac: '02:48:44:00:00:05' };
const VIP = '2001:db8::20';

const FORMS: Record<string, (vip: string) => Buffer> = {
  'unsolicited NA [O] TLL (na)': (vip) => buildNa({ vip, mac: NEW }),
  'unsolicited NA [-] TLL (override=off)': (vip) => buildNa({ vip, mac: NEW, override: false }),
  'unsolicited NA [O] SLL (lladdr=source)': (vip) => buildNa({ vip, mac: NEW, option: 'source' }),
  'unsolicited NA [O] no option': (vip) => buildNa({ vip, mac: NEW, option: 'none' }),
  'unsolicited NA [RO] TLL (router=on)': (vip) => buildNa({ vip, mac: NEW, router: true }),
  'solicited NA [SO] to c1 (unicast-reply)': (vip) => buildNa({ vip, mac: NEW, solicited: true, dst: C1.ip, ethDst: C1.mac }),
  'NA [O] to c1 (directed,via=na)': (vip) => buildNa({ vip, mac: NEW, dst: C1.ip, ethDst: C1.mac }),
  'NS from the VIP to c1 (directed)': (vip) => buildNs({ src: vip, target: C1.ip, mac: NEW, dst: C1.ip, ethDst: C1.mac }),
  "NS from the VIP to c1's group (directed, no MAC)": (vip) => buildNs({ src: vip, target: C1.ip, mac: NEW, dst: solicitedNode(C1.ip) }),
  'solicited NA [SO] to c2 (unicast-reply)': (vip) => buildNa({ vip, mac: NEW, solicited: true, dst: '2001:db8::6', ethDst: '02:48:44:00:00:06' }),
  'NS from the VIP to c2 (directed)': (vip) => buildNs({ src: vip, target: '2001:db8::6', mac: NEW, dst: '2001:db8::6', ethDst: '02:48:44:00:00:06' }),
};
const CLIENTS: Record<string, Omit<HostNdState, 'entry'>> = {
  c1: { hostMac: C1.mac, hostIps: [C1.ip], forwarding: false, dropUnsolicitedNa: false, acceptUntrackedNa: 0 },
  c2: { hostMac: '02:48:44:00:00:06', hostIps: ['2001:db8::6'], forwarding: false, dropUnsolicitedNa: true, acceptUntrackedNa: 0 },
  c3: { hostMac: '02:48:44:00:00:07', hostIps: ['2001:db8::7'], forwarding: true, dropUnsolicitedNa: false, acceptUntrackedNa: 1, sourceOnLink: true },
  c4: { hostMac: '02:48:44:00:00:08', hostIps: ['2001:db8::8'], forwarding: false, dropUnsolicitedNa: false, acceptUntrackedNa: 1, sourceOnLink: true },
};
const ENTRY: Record<string, HostNdState['entry']> = {
  REACHABLE: { state: 'REACHABLE', mac: OLD },
  ROUTER: { state: 'REACHABLE', mac: OLD, router: true },
  STALE: { state: 'STALE', mac: OLD },
  NONE: { state: 'NONE' },
  INCOMPLETE: { state: 'INCOMPLETE' },
  FAILED: { state: 'FAILED' },
};

test('every row of the table measured on Linux 6.18 (11 frame forms × 6 entry states × 4 clients) is what the model predicts', () => {
  const text = readFileSync(fileURLToPath(new URL('../fixtures/nd/linux-6.18-nd-table.txt', import.meta.url)), 'utf8');
  const rows = text.split('\n').filter((l) => l && !l.startsWith('#'));
  assert.equal(rows.length, 264);
  const seen = new Set<string>();
  for (const row of rows) {
    const [form, client, before, after] = row.split(' | ');
    const f = decodeFrame(FORMS[form!]!('2001:db8::100'));
    const p = predictNd(f.nd!, f.ipv6!, f.eth!.dst, { ...CLIENTS[client!]!, entry: ENTRY[before!]! });
    const show = p.stateAfter === 'NONE' ? 'none' : `${p.stateAfter}${p.macAfter ? ' ' + (p.macAfter === OLD ? 'old' : p.macAfter === NEW ? 'new' : p.macAfter) : ''}${p.routerAfter ? ' router' : ''}`;
    assert.equal(show, after, `${row}: the model says ${show} (${p.reason})`);
    seen.add(p.outcome);
  }
  assert.deepEqual([...seen].sort(), ['create', 'ignore', 'refresh', 'update']);
});

const host = (entry: HostNdState['entry'], extra: Partial<HostNdState> = {}): HostNdState => ({ ...CLIENTS.c1!, entry, ...extra });
const na = (o: Parameters<typeof buildNa>[0]) => {
  const f = decodeFrame(buildNa(o));
  return (h: HostNdState) => predictNd(f.nd!, f.ipv6!, f.eth!.dst, h);
};

test('rules the table does not exercise: DAD, hop limit, multicast solicited, accept_untracked_na=2, an old kernel, another host, static entries', () => {
  const reach = { state: 'REACHABLE' as NeighState, mac: OLD };
  // an NA for this host's own tentative address fails its DAD; for a settled one it is ignored
  assert.equal(na({ vip: C1.ip, mac: NEW })(host({ state: 'NONE' }, { tentativeIps: [C1.ip] })).dadFailure, C1.ip);
  assert.match(na({ vip: C1.ip, mac: NEW })(host({ state: 'NONE' })).reason, /own address/);
  // a DAD probe for our tentative address fails our DAD; for a settled one we defend it and learn nothing
  const dad = decodeFrame(buildNs({ src: '::', target: C1.ip, mac: NEW }));
  assert.equal(predictNd(dad.nd!, dad.ipv6!, dad.eth!.dst, host({ state: 'NONE' }, { tentativeIps: [C1.ip] })).dadFailure, C1.ip);
  assert.match(predictNd(dad.nd!, dad.ipv6!, dad.eth!.dst, host({ state: 'NONE' })).reason, /defends it/);
  assert.equal(dad.nd!.sourceLinkAddr, undefined, 'a DAD probe carries no source link-layer option');
  // hop limit 64, solicited to a group, to another host's MAC, to a group we did not join
  assert.match(na({ vip: VIP, mac: NEW, hopLimit: 64 })(host(reach)).reason, /hop limit 64/);
  assert.match(na({ vip: VIP, mac: NEW, solicited: true })(host(reach)).reason, /solicited flag on an NA to a multicast address/);
  assert.match(na({ vip: VIP, mac: NEW, dst: C1.ip, ethDst: '02:48:44:00:00:99' })(host(reach)).reason, /another host's MAC/);
  assert.match(na({ vip: VIP, mac: NEW, dst: 'ff02::1:ff00:99' })(host(reach)).reason, /does not listen to/);
  // accept_untracked_na=2 creates only for a source on a prefix of the interface; no sysctl on an old kernel
  const fwd = { forwarding: true, acceptUntrackedNa: 2 };
  assert.equal(na({ vip: VIP, mac: NEW })(host({ state: 'NONE' }, { ...fwd, sourceOnLink: true })).outcome, 'create');
  assert.match(na({ vip: VIP, mac: NEW })(host({ state: 'NONE' }, { ...fwd, sourceOnLink: false })).reason, /not on a prefix/);
  assert.match(na({ vip: VIP, mac: NEW })(host({ state: 'NONE' }, { acceptUntrackedNa: undefined })).reason, /no accept_untracked_na/);
  assert.match(na({ vip: VIP, mac: NEW })(host({ state: 'NONE' }, { acceptUntrackedNa: 1 })).reason, /only when the interface forwards/);
  // drop_unsolicited_na wins over accept_untracked_na
  assert.match(na({ vip: VIP, mac: NEW })(host({ state: 'NONE' }, { ...fwd, acceptUntrackedNa: 1, dropUnsolicitedNa: true })).reason, /drop_unsolicited_na=1/);
  assert.match(na({ vip: VIP, mac: NEW })(host({ state: 'PERMANENT', mac: OLD })).reason, /static/);
  // a REACHABLE router entry confirmed by a solicited NA without R loses the router flag
  const p = na({ vip: VIP, mac: OLD, solicited: true, dst: C1.ip, ethDst: C1.mac })(host({ state: 'STALE', mac: OLD, router: true }));
  assert.deepEqual([p.outcome, p.stateAfter, p.routerAfter], ['refresh', 'REACHABLE', false]);
  assert.match(p.reason, /routes through it are dropped/);
  assert.equal(inPrefix6('2001:db8::5', '2001:db8::1', 64), true);
  assert.equal(inPrefix6('2001:db9::5', '2001:db8::1', 32), false);
});

test('classifyNd: unsolicited, directed and solicited NAs, DAD / directed / unicast / resolution NSs, and what makes one fail on Linux', () => {
  const k = (b: Buffer, vip?: string) => classifyNd(decodeFrame(b), { vip })!;
  assert.deepEqual([k(buildNa({ vip: VIP, mac: NEW })).kind, k(buildNa({ vip: VIP, mac: NEW })).problems], ['unsolicited-na', []]);
  assert.equal(k(buildNa({ vip: VIP, mac: NEW, dst: C1.ip, ethDst: C1.mac })).kind, 'directed-na');
  assert.equal(k(buildNa({ vip: VIP, mac: NEW, solicited: true, dst: C1.ip, ethDst: C1.mac })).kind, 'solicited-na');
  assert.equal(k(buildNs({ src: '::', target: VIP, mac: NEW })).kind, 'dad-ns');
  assert.equal(k(buildNs({ src: VIP, target: C1.ip, mac: NEW }), VIP).kind, 'directed-ns');
  assert.equal(k(buildNs({ src: C1.ip, target: VIP, mac: C1.mac, dst: VIP, ethDst: OLD })).kind, 'unicast-ns');
  assert.equal(k(buildNs({ src: C1.ip, target: VIP, mac: C1.mac })).kind, 'ns');
  assert.match(k(buildNa({ vip: VIP, mac: NEW, override: false })).problems.join(), /without the override flag/);
  assert.match(k(buildNa({ vip: VIP, mac: NEW, option: 'source' })).problems.join(), /source link-layer option instead of the target/);
  assert.match(k(buildNa({ vip: VIP, mac: NEW, hopLimit: 1 })).problems.join(), /hop limit 1/);
  assert.equal(k(buildNa({ vip: VIP, mac: NEW, router: true })).label, `unsolicited NA for ${VIP} [RO]`);
  // a zero-length option: the kernel drops the whole message
  const bad = Buffer.from(buildNa({ vip: VIP, mac: NEW }));
  bad[14 + 40 + 25] = 0;
  assert.match(k(bad).problems.join(), /length 0/);
});

test('garp-check on an IPv6 VIP: the takeover by unsolicited NAs, the client that kept probing the dead MAC with NSs, the stock verdicts', () => {
  const a = new GarpAnalyzer({ vip: VIP });
  const t0 = 1_700_000_000_000;
  const ping = (dstMac: string) => encodeEthernet({ dst: dstMac, src: C1.mac, ethertype: ETHERTYPE_IPV6 }, encodeIpv6({ src: C1.ip, dst: VIP, nextHeader: 58, hopLimit: 64 }, Buffer.from('80000000', 'hex')));
  for (let i = 0; i < 5; i++) a.add(t0 + i * 100, decodeFrame(ping(OLD)));
  const f = decodeFrame(buildNa({ vip: VIP, mac: NEW }));
  const r = a.add(t0 + 1000, f, stockClientVerdicts(f)!.withEntry, 'a stock client')!;
  assert.deepEqual([r.proto, r.kind, r.op, r.gratuitous, r.senderMac, r.targetIp], ['nd', 'unsolicited-na', 'NA [O]', true, NEW, VIP]);
  assert.equal(r.prediction!.stateAfter, 'STALE');
  assert.equal(r.prediction!.macAfter, NEW);
  // the client keeps sending to the old MAC and probes it with unicast NSs: it ignored the NA
  for (let i = 0; i < 3; i++) a.add(t0 + 2000 + i * 1000, decodeFrame(buildNs({ src: C1.ip, target: VIP, mac: C1.mac, dst: VIP, ethDst: OLD })));
  a.add(t0 + 2500, decodeFrame(ping(OLD)));
  const s = a.summary();
  assert.equal(s.takeovers.length, 1);
  assert.deepEqual([s.takeovers[0]!.mac, s.takeovers[0]!.previousMac], [NEW, undefined]);
  assert.equal(s.clients[0]!.oldMac, OLD);
  assert.equal(s.clients[0]!.verdict, 'ignored');
  assert.match(s.clients[0]!.conclusion, /3 unicast NS probe\(s\)/);
  // an NA without the override flag is a malformed announcement
  const b = new GarpAnalyzer({ vip: VIP });
  b.add(t0, decodeFrame(buildNa({ vip: VIP, mac: NEW, override: false })));
  assert.equal(b.summary().warnings[0]!.code, 'malformed');
  // an IPv4 VIP: ND is not reported
  assert.equal(new GarpAnalyzer({ vip: '198.18.0.20' }).add(t0, f), undefined);
  // stock verdicts (garp-check --send's table): NA updates an entry, creates none; an NS from the VIP creates one
  const ns = stockClientVerdicts(decodeFrame(buildNs({ src: VIP, target: C1.ip, mac: NEW })))!;
  assert.deepEqual([ns.withEntry.outcome, ns.noEntry.outcome, ns.noEntry.stateAfter], ['update', 'create', 'DELAY']);
  assert.equal(stockClientVerdicts(f)!.noEntry.outcome, 'ignore');
});

test('HostModel tracks IPv6 entries with their router flag; subjectOf is the NA target / the NS source', () => {
  const m = new HostModel({ iface: 'eth0', mac: C1.mac, ipv4: [], arpAccept: 0, arpIgnore: 0, dropGratuitousArp: false, locktimeMs: 1000, ipv6: [{ ip: C1.ip, prefixLen: 64 }], nd: { forwarding: false, dropUnsolicitedNa: false, acceptUntrackedNa: 0 } });
  m.observe(VIP, { state: 'REACHABLE', mac: OLD, router: true }, 0);
  const f = decodeFrame(buildNa({ vip: VIP, mac: NEW }));
  assert.equal(m.subjectOf(f), VIP);
  const p = m.predict(f, 10)!;
  m.apply(VIP, p, 10);
  assert.deepEqual(m.entry(VIP), { state: 'STALE', mac: NEW, router: false, changedMs: 10, readMs: 0 });
  assert.equal(m.subjectOf(decodeFrame(buildNs({ src: VIP, target: C1.ip, mac: NEW }))), VIP);
  // without IPv6 facts no ND prediction
  assert.equal(new HostModel({ iface: 'eth0', mac: C1.mac, ipv4: [], arpAccept: 0, arpIgnore: 0, dropGratuitousArp: false, locktimeMs: 1000 }).predict(f, 0), undefined);
});

test('the IPv6 audit and the ip monitor parser', () => {
  const s: NdSysctls = { iface: 'eth0', disableIpv6: false, forwarding: false, dropUnsolicitedNa: true, acceptUntrackedNa: 1, ndiscNotify: false, acceptDad: 1, dadTransmits: 1, forceTllao: false, baseReachableTimeMs: 30_000, delayFirstProbeTimeMs: 5000, retransTimeMs: 1000, ucastSolicit: 3, mcastSolicit: 3, mcastResolicit: 0, gcStaleTimeMs: 60_000 };
  const a = buildAudit6({ sysctls: s, iface: { iface: 'eth0', mac: C1.mac, up: true, ipv4: [] }, addrs: [{ ip: VIP, prefixLen: 64, tentative: true }, { ip: '2001:db8::21', prefixLen: 64, dadfailed: true }], vip: VIP, entry: { ip: VIP, state: 'FAILED' } });
  const all = [...a.risks, ...a.notes].join('\n');
  assert.match(all, /drop_unsolicited_na=1/);
  assert.match(all, /accept_untracked_na=1 has no effect here/);
  assert.match(all, /up to 53 s/);
  assert.match(all, /2001:db8::20 is tentative/);
  assert.match(all, /2001:db8::21 is dadfailed/);
  assert.match(all, /FAILED: no NA repairs it/);
  assert.match(all, /ndisc_notify=0/);
  assert.deepEqual(parseNeigh6Line('[2026-12-07T23:33:17.119806] 2001:db8::32 dev eth0 lladdr 02:00:00:00:00:11 router REACHABLE', 0), { ip: '2001:db8::32', state: 'REACHABLE', mac: OLD, router: true, deleted: false, tsMs: Date.UTC(2026, 11, 7, 23, 33, 17) + 119.806 });
  assert.equal(parseNeigh6Line('[2026-12-07T23:33:17.126354] Deleted 2001:db8::32 dev eth0 router FAILED', 0)!.state, 'NONE');
  assert.equal(parseNeigh6Line('198.18.0.20 dev eth0 lladdr 02:00:00:00:00:11 REACHABLE', 0), undefined);
});

test('fuzz: any mutated NA/NS frame is classified, predicted, analysed and answered without throwing', async () => {
  const fc = (await import('fast-check')).default;
  const { answerFor } = await import('../../src/models/strategy/probe-answer.js');
  const seeds = Object.values(FORMS).map((f) => f(VIP));
  const held = new Map([[VIP, NEW]]);
  const a = new GarpAnalyzer({ vip: VIP });
  fc.assert(
    fc.property(fc.integer({ min: 0, max: seeds.length - 1 }), fc.array(fc.tuple(fc.nat(), fc.nat(255)), { maxLength: 8 }), fc.nat(90), (i, flips, cut) => {
      const b = Buffer.from(seeds[i]!);
      for (const [at, v] of flips) b[14 + (at % (b.length - 14))] = v;
      const frame = b.subarray(0, b.length - (cut % b.length));
      const f = decodeFrame(frame);
      if (f.nd && f.ipv6) {
        const p = predictNd(f.nd, f.ipv6, f.eth?.dst ?? '', { ...CLIENTS.c3!, entry: ENTRY.REACHABLE! });
        assert.ok(['create', 'update', 'refresh', 'ignore'].includes(p.outcome));
        classifyNd(f, { vip: VIP });
        stockClientVerdicts(f);
      }
      a.add(1_700_000_000_000, f);
      answerFor(frame, held);
    }),
    { numRuns: Number(process.env.FUZZ_RUNS ?? 2000) },
  );
});

test("a DAD probe for the VIP defended by another MAC is a split brain: the prober's copy is dadfailed", () => {
  const a = new GarpAnalyzer({ vip: VIP });
  const t0 = 1_700_000_000_000;
  const probe = a.add(t0, decodeFrame(buildNs({ src: '::', target: VIP, mac: NEW })))!;
  assert.equal(probe.kind, 'dad-ns');
  a.add(t0 + 3, decodeFrame(buildNa({ vip: VIP, mac: OLD })));
  const w = a.summary().warnings.find((x) => x.code === 'split-brain');
  assert.ok(w);
  assert.match(w.message, new RegExp(`${OLD} defended ${VIP} against the DAD probe of ${NEW} 3 ms earlier`));
  // the prober's own NA after DAD is no conflict
  const b = new GarpAnalyzer({ vip: VIP });
  b.add(t0, decodeFrame(buildNs({ src: '::', target: VIP, mac: NEW })));
  b.add(t0 + 1000, decodeFrame(buildNa({ vip: VIP, mac: NEW })));
  assert.equal(b.summary().warnings.length, 0);
});
