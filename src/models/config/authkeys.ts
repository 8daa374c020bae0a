import { configError } from '../../core/errors.js';
import { DiagnosticSink, type Diagnostic } from './diagnostics.js';

export type AuthMethod = 'sha1' | 'md5' | 'crc';

export interface AuthKey {
  index: number;
  method: AuthMethod;
  /** The first token of the key text only: that is all Heartbeat uses. Empty for crc. */
  key: string;
  line: number;
}

export interface Authkeys {
  /** The key `auth N` selects for sending. */
  active: AuthKey;
  /** Every key by index: a receiver accepts any of them. */
  keys: Map<number, AuthKey>;
  warnings: Diagnostic[];
}

const METHODS = new Set<AuthMethod>(['sha1', 'md5', 'crc']);
/** Heartbeat keeps at most 16 keys (indexes 0–15). */
const MAX_INDEX = 15;

export interface AuthkeysAnalysis {
  authkeys?: Authkeys;
  diagnostics: Diagnostic[];
}

/**
 * Parse authkeys (`auth N` plus `N sha1|md5|crc [KEY]` lines; `#` lines are comments) and keep going after
 * errors. Like Heartbeat, only the first word of a key is used: the rest is reported as a warning.
 */
export function analyzeAuthkeys(text: string, file = 'authkeys'): AuthkeysAnalysis {
  const sink = new DiagnosticSink(file);
  const keys = new Map<number, AuthKey>();
  let auth: { index: number; line: number } | undefined;
  const badIndexes = new Set<number>(); // indexes whose line had an error: no second error for auth N

  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    const body = lines[i]!.replace(/\r$/, '').trim();
    if (!body || body.startsWith('#')) continue;
    const tokens = body.split(/\s+/);
    const first = tokens[0]!;

    if (first === 'auth') {
      if (tokens.length !== 2 || !isIndex(tokens[1]!)) {
        sink.error(lineNo, `auth line "${body}" is not "auth N"`, `write auth and the index (0–${MAX_INDEX}) of the key to send with, e.g. auth 2`);
        continue;
      }
      if (auth) {
        sink.error(lineNo, `auth is given twice (also on line ${auth.line})`, 'keep one auth line');
        continue;
      }
      auth = { index: Number(tokens[1]), line: lineNo };
      continue;
    }

    if (!/^\d+$/.test(first)) {
      sink.error(lineNo, `line not understood "${body}"`, 'write "auth N" or "N sha1|md5|crc KEY", e.g. auth 2 / 2 sha1 SECRET');
      continue;
    }
    if (!isIndex(first)) {
      sink.error(lineNo, `key index ${first} is out of range`, `use an index from 0 to ${MAX_INDEX}`);
      continue;
    }
    const index = Number(first);
    badIndexes.add(index); // until the line proves good
    const method = tokens[1];
    if (!method) {
      sink.error(lineNo, `key ${index} has no method`, `write ${index} sha1 SECRET (methods: sha1, md5, crc)`);
      continue;
    }
    if (!METHODS.has(method as AuthMethod)) {
      sink.error(lineNo, `key ${index} method "${method}" is not sha1, md5 or crc`, `write ${index} sha1 SECRET`);
      continue;
    }
    const rest = tokens.slice(2);
    let key = '';
    if (method === 'crc') {
      if (rest.length > 0 && !rest[0]!.startsWith('#')) {
        sink.warning(lineNo, `key ${index} is crc, which takes no key: "${rest.join(' ')}" is ignored`, `write ${index} crc, or use sha1 with that secret`);
      }
    } else {
      if (rest.length === 0 || rest[0]!.startsWith('#')) {
        sink.error(lineNo, `key ${index} (${method}) has no key text`, `write ${index} ${method} SECRET`);
        continue;
      }
      key = rest[0]!;
      const ignored = rest.slice(1);
      if (ignored.length > 0 && !ignored[0]!.startsWith('#')) {
        sink.warning(
          lineNo,
          `key ${index} has spaces: only "${key}" is used, "${ignored.join(' ')}" is ignored`,
          'write the key as one word (Heartbeat silently uses only the first word, so both nodes must agree on it)',
        );
      }
    }
    if (keys.has(index)) {
      sink.error(lineNo, `key ${index} is defined twice (also on line ${keys.get(index)!.line})`, 'keep one line per index');
      continue;
    }
    keys.set(index, { index, method: method as AuthMethod, key, line: lineNo });
    badIndexes.delete(index);
  }

  let active: AuthKey | undefined;
  if (!auth) {
    sink.error(undefined, 'no auth line', 'add "auth N" naming the key to send with, e.g. auth 2 above 2 sha1 SECRET');
  } else {
    active = keys.get(auth.index);
    if (!active && badIndexes.has(auth.index)) {
      // the key's own line already has an error
    } else if (!active) {
      const have = [...keys.keys()];
      sink.error(
        auth.line,
        `auth ${auth.index} names a key that is not defined`,
        have.length ? `add a line "${auth.index} sha1 SECRET" or write auth ${have[0]}` : `add a line "${auth.index} sha1 SECRET"`,
      );
    } else if (active.method === 'crc') {
      sink.warning(active.line, 'the active key is crc, which is not authentication: anyone on the LAN can forge heartbeats', `use ${active.index} sha1 SECRET`);
    }
  }
  sink.items.sort((a, b) => (a.line ?? Infinity) - (b.line ?? Infinity));
  if (!active || sink.errors.length > 0) return { diagnostics: sink.items };
  return { authkeys: { active, keys, warnings: sink.warnings }, diagnostics: sink.items };
}

function isIndex(text: string): boolean {
  return /^\d{1,2}$/.test(text) && Number(text) <= MAX_INDEX;
}

/** Parse authkeys; throws a HadiagError (configuration) naming file:line for the first error. */
export function parseAuthkeys(text: string, file = 'authkeys'): Authkeys {
  const { authkeys, diagnostics } = analyzeAuthkeys(text, file);
  const first = diagnostics.find((d) => d.severity === 'error');
  if (first || !authkeys) {
    const sink = new DiagnosticSink(file);
    sink.items.push(...diagnostics);
    sink.throwFirstError();
  }
  return authkeys!;
}

/** Quote a path for a shell command line when it needs it. */
function shellQuote(path: string): string {
  return /^[A-Za-z0-9_./@%+=:,-]+$/.test(path) ? path : `'${path.replace(/'/g, `'\\''`)}'`;
}

/**
 * The finding for an authkeys file whose mode lets group or others in (Heartbeat refuses to start then),
 * with the chmod to run; undefined when the mode is fine.
 */
export function authkeysModeDiagnostic(path: string, mode: number): Diagnostic | undefined {
  const perm = mode & 0o777;
  if ((perm & 0o077) === 0) return undefined;
  return {
    severity: 'error',
    file: path,
    message: `authkeys mode ${perm.toString(8).padStart(3, '0')} lets group or others access it`,
    fix: `run chmod 600 ${shellQuote(path)} (Heartbeat refuses to start too)`,
  };
}
