/**
 * Entry point of the node daemon without the CLI's libraries (yargs, ora, cli-table3 stay out of its
 * import path so the daemon stays small):
 *
 *   node dist/effects/node/main.js [--config-dir /etc/ha.d] [--node NAME] [--state-dir /var/lib/hadiag]
 *                          [--garp SPEC] [--capture] [--capture-dir DIR] [--json] [--debug]
 *
 * `hadiag run-node` delegates here.
 */
import { parseArgs } from 'node:util';
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { HadiagError, renderError, requireRoot, usageError, EXIT_USAGE } from '../../core/errors.js';
import { NodeDaemon, DEFAULT_GARP, DEFAULT_STATE_DIR, type NodeOptions } from './daemon.js';

export const NODE_USAGE = `usage: hadiag run-node [--config-dir /etc/ha.d] [--node NAME] [--state-dir ${DEFAULT_STATE_DIR}]
                       [--garp SPEC] [--capture] [--capture-dir DIR] [--json] [--debug]`;

export function parseNodeArgs(argv: string[]): NodeOptions {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        'config-dir': { type: 'string', default: '/etc/ha.d' },
        node: { type: 'string' },
        'state-dir': { type: 'string', default: DEFAULT_STATE_DIR },
        garp: { type: 'string', default: DEFAULT_GARP },
        capture: { type: 'boolean', default: false },
        'capture-dir': { type: 'string' },
        json: { type: 'boolean', default: false },
        debug: { type: 'boolean', default: false },
        'no-check-mode': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw usageError((err as Error).message.split('\n')[0]!, 'command line', NODE_USAGE.replace(/\s+/g, ' '));
  }
  if (values.help) {
    process.stdout.write(NODE_USAGE + '\n');
    process.exit(0);
  }
  const o: NodeOptions = {
    configDir: values['config-dir']!,
    stateDir: values['state-dir']!,
    garp: values.garp!,
    capture: !!values.capture,
    json: !!values.json,
    debug: !!values.debug,
    checkMode: !values['no-check-mode'],
  };
  if (values.node) o.node = values.node;
  if (values['capture-dir']) o.captureDir = values['capture-dir'];
  return o;
}

/** Run a node until it stops; returns the exit code (errors are rendered as one line). */
export async function runNode(opts: NodeOptions): Promise<number> {
  try {
    requireRoot('run-node');
    const d = new NodeDaemon(opts);
    return await d.run();
  } catch (err) {
    process.stderr.write(renderError(err, !!opts.debug) + '\n');
    return err instanceof HadiagError ? err.exitCode : EXIT_USAGE;
  }
}

/** The daemon's command line (`node dist/effects/node/main.js ARGS`, or `hadiag run-node ARGS` through bin/hadiag.js). */
export async function main(argv: string[]): Promise<void> {
  let opts: NodeOptions;
  try {
    opts = parseNodeArgs(argv);
  } catch (err) {
    process.stderr.write(renderError(err) + '\n');
    process.exit(EXIT_USAGE);
  }
  const code = await runNode(opts);
  process.exit(code);
}

const self = fileURLToPath(import.meta.url);
let invoked = '';
try {
  invoked = process.argv[1] ? realpathSync(process.argv[1]) : '';
} catch {
  /* not a file */
}
if (invoked === self) void main(process.argv.slice(2));
