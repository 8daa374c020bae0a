import type { CommandModule } from 'yargs';
import { DEFAULT_GARP, DEFAULT_STATE_DIR } from '../effects/node/daemon.js';
import { runNode } from '../effects/node/main.js';

interface Args {
  'config-dir': string;
  node?: string;
  'state-dir': string;
  garp: string;
  capture: boolean;
  'capture-dir'?: string;
  json: boolean;
  debug?: boolean;
}

export const runNodeCommand: CommandModule<object, Args> = {
  command: 'run-node',
  describe: 'run a Heartbeat node (haresources mode) from ha.cf/authkeys/haresources, wire-compatible with Heartbeat 3.0.x, announcing the VIP with a chosen GARP strategy',
  builder: (y) =>
    y
      .option('config-dir', { type: 'string', default: '/etc/ha.d', describe: 'directory with ha.cf, authkeys (mode 600) and haresources' })
      .option('node', { type: 'string', describe: "this node's name (default: `uname -n`, as Heartbeat)" })
      .option('state-dir', { type: 'string', default: DEFAULT_STATE_DIR, describe: 'generation, uuid, address ledger and the control socket live here' })
      .option('garp', { type: 'string', default: DEFAULT_GARP, describe: 'announcement strategy after taking an IP (spec language of garp-check --send)' })
      .option('capture', { type: 'boolean', default: false, describe: 'confirm each announcement on the wire with a second capture handle and keep a pcap' })
      .option('capture-dir', { type: 'string', describe: 'where --capture writes its pcap (default ./captures, or STATE_DIR/captures when run from /)' })
      .option('json', { type: 'boolean', default: false, describe: 'log as JSON lines on stdout' })
      .example('hadiag run-node', 'run this host as the node named by `uname -n` from /etc/ha.d')
      .example('hadiag run-node --config-dir ./ha.d --node server2 --capture', 'a node from a copy of the files, proving its GARPs hit the wire')
      .example("hadiag run-node --garp 'both:count=5,interval=200ms' --json", 'another announcement strategy, JSON-lines log')
      .epilogue(
        [
          'Runs until SIGTERM/SIGINT, then gives up its resources, sends shutdone (the peer takes over at',
          'once) and exits 0. `hadiag node status|standby|takeover` talk to it (control socket in the state dir).',
          'The daemon itself is `node dist/effects/node/main.js` with the same options (no CLI libraries loaded).',
          '',
          'Healthy: it runs and exits 0 on SIGTERM. Exit 2: bad configuration (file:line), missing interface,',
          'an interface without a broadcast address for bcast, port in use, not root, authkeys mode.',
          '',
          '--json: one JSON object per line: {tsMs, node, level, event, text, ...}; events include start, comm-up,',
          'peer-up, late-heartbeat, peer-dead, takeover, acquired, released, resource, garp, garp-seen, standby,',
          'auth-failed, generation-rejected, replay-rejected, shutdone, exit.',
        ].join('\n'),
      ),
  handler: async (argv) => {
    const opts: Parameters<typeof runNode>[0] = {
      configDir: argv['config-dir'],
      stateDir: argv['state-dir'],
      garp: argv.garp,
      capture: argv.capture,
      json: argv.json,
      debug: !!argv.debug,
    };
    if (argv.node) opts.node = argv.node;
    if (argv['capture-dir']) opts.captureDir = argv['capture-dir'];
    process.exitCode = await runNode(opts);
  },
};
