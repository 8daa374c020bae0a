import yargs from 'yargs';
import { createRequire } from 'node:module';
import { commands } from './commands.js';
import { EXIT_USAGE, HadiagError, renderError, usageError } from '../core/errors.js';
import { runCleanups } from '../effects/io/cleanup.js';

const require = createRequire(import.meta.url);
const pkg = require('../../package.json') as { version: string };

export async function main(argv: string[]): Promise<void> {
  const debug = argv.includes('--debug');
  const cli = yargs(argv)
    .scriptName('hadiag')
    .usage('hadiag <command> [options]\n\nRun, instrument and benchmark Heartbeat-style HA clusters with a floating IP.')
    .option('debug', { type: 'boolean', describe: 'show stack traces on errors', global: true })
    .strict()
    .demandCommand(1, 'name a command (hadiag --help lists them)')
    .recommendCommands()
    .completion('completion', 'print a bash/zsh completion script (source <(hadiag completion))')
    .version(pkg.version)
    .help()
    .alias('h', 'help')
    .wrap(Math.min(110, process.stdout.columns || 100))
    .epilogue('Exit codes: 0 healthy / done, 1 a problem was found, 2 usage, configuration or environment error.')
    .fail((msg, err) => {
      if (err) throw err;
      throw usageError(msg ?? 'bad usage', 'command line', 'see hadiag --help');
    });
  for (const c of commands) cli.command(c);
  try {
    await cli.parseAsync();
  } catch (err) {
    process.stderr.write(renderError(err, debug) + '\n');
    process.exitCode = err instanceof HadiagError ? err.exitCode : EXIT_USAGE;
  } finally {
    await runCleanups();
  }
}
