/**
 * The GARP helper: a small long-running child of the node daemon that owns the capture handles
 * (announce.ts GarpAnnouncer). Parent -> child over IPC: {type:'announce', vip, iface, addedAtMs} |
 * {type:'cancel', vip} | {type:'peer-clients', clients}; child -> parent: {type:'ready'} | {type:'report', report, final}
 * | {type:'log', level, event, text, data} | {type:'error', text} | {type:'clients', clients} (the clients it learned,
 * checked every second and sent when they change). The announcer is src/announce's (every strategy form), wrapping node/announce.ts.
 * Started as: node garp-helper.js '<json: {spec, ifaces, confirm, captureDir, node, vips}>'.
 */
import type { AnnounceReport, Announcer } from './announce.js';
import { createAnnouncer } from '../announce/announcer.js';
import { parseStrategy } from '../packet/strategy.js';
import { renderError } from '../cli/errors.js';
import { encodeClientList } from '../announce/clients.js';
import type { Client } from '../packet/strategy.js';

import type { HelperConfig } from './helper-announcer.js';

type ParentMsg =
  | { type: 'announce'; vip: string; iface: string; addedAtMs: number }
  | { type: 'cancel'; vip: string }
  | { type: 'peer-clients'; clients: Client[] }
  | { type: 'close' };

/** how often the learned clients are compared with what the node was last told */
const CLIENTS_CHECK_MS = 1000;

function main(): void {
  const send = (m: unknown) => process.send?.(m);
  let announcer: Announcer;
  try {
    const cfg = JSON.parse(process.argv[2] ?? '{}') as HelperConfig;
    announcer = createAnnouncer(parseStrategy(cfg.spec, '--garp'), cfg.ifaces, {
      confirm: cfg.confirm,
      captureDir: cfg.captureDir,
      node: cfg.node,
      vips: cfg.vips,
      onReport: (report: AnnounceReport, final: boolean) => send({ type: 'report', report, final }),
      log: (level, event, text, data) => send({ type: 'log', level, event, text, data }),
    });
  } catch (err) {
    send({ type: 'error', text: renderError(err) });
    setTimeout(() => process.exit(2), 50);
    return;
  }
  process.on('message', (m: ParentMsg) => {
    if (m.type === 'announce') announcer.announce(m.vip, m.iface, m.addedAtMs);
    else if (m.type === 'cancel') announcer.cancel(m.vip);
    else if (m.type === 'peer-clients' && Array.isArray(m.clients)) announcer.addPeerClients?.(m.clients);
    else if (m.type === 'close') {
      announcer.close();
      process.exit(0);
    }
  });
  process.on('disconnect', () => {
    announcer.close();
    process.exit(0);
  });
  for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.removeAllListeners(sig);
  // the node stops us through IPC (close/disconnect); a Ctrl-C to the process group must not come first
  process.on('SIGINT', () => {});
  process.on('SIGTERM', () => {
    announcer.close();
    process.exit(0);
  });
  send({ type: 'ready' });
  let told = '';
  const tell = () => {
    const clients = announcer.learnedClients?.() ?? [];
    const text = encodeClientList(clients);
    if (text === told) return;
    told = text;
    send({ type: 'clients', clients });
  };
  setInterval(tell, CLIENTS_CHECK_MS).unref();
}

main();
