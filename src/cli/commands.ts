import type { CommandModule } from 'yargs';
import { checkConfigCommand } from '../commands/check-config.js';
import { hbInspectCommand } from '../commands/hb-inspect.js';
import { measureFailoverCommand } from '../commands/measure-failover.js';
import { labCommand } from '../commands/lab.js';
import { runNodeCommand } from '../commands/run-node.js';
import { nodeCommand } from '../commands/node.js';
import { garpCheckCommand } from '../commands/garp-check.js';
import { compareGarpCommand } from '../commands/compare-garp.js';
import { announceCommand } from '../commands/announce.js';

/**
 * Every command hadiag registers. Add a command by importing its module here; register only commands
 * that work.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const commands: CommandModule<any, any>[] = [checkConfigCommand, hbInspectCommand, measureFailoverCommand, labCommand, runNodeCommand, nodeCommand, garpCheckCommand, compareGarpCommand, announceCommand];
