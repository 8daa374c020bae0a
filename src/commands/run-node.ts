import type { Argv, CommandModule } from 'yargs';
import { runNode } from '../effects/node/main.js';
import { NODE_OPTIONS, toNodeOptions, type NodeOptionValues } from '../effects/node/options.js';

type Args = NodeOptionValues;

export const runNodeCommand: CommandModule<object, Args> = {
  command: 'run-node',
  describe: 'run a Heartbeat node (haresources mode) from ha.cf/authkeys/haresources, wire-compatible with Heartbeat 3.0.x, announcing the VIP with a chosen GARP strategy',
  builder: (y) =>
    (NODE_OPTIONS.filter((o) => !o.daemonOnly)
      .reduce((yy, o) => yy.option(o.name, o.default === undefined ? { type: o.type, describe: o.description } : { type: o.type, default: o.default, describe: o.description }), y) as Argv<Args>)
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
    process.exitCode = await runNode(toNodeOptions(argv));
  },
};
