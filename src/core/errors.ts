/** Exit codes of every hadiag command (docs/cli-conventions: 0 healthy, 1 problem found, 2 usage/config/env). */
export const EXIT_HEALTHY = 0;
export const EXIT_PROBLEM = 1;
export const EXIT_USAGE = 2;

export type ErrorKind = 'usage' | 'config' | 'environment';

/**
 * An error the user can act on. Rendered as one line:
 *   hadiag: <what>: <where> — <how to fix>
 * Never shown with a stack trace unless --debug.
 */
export class HadiagError extends Error {
  readonly kind: ErrorKind;
  readonly where: string | undefined;
  readonly fix: string | undefined;
  constructor(kind: ErrorKind, what: string, where?: string, fix?: string) {
    super(what);
    this.name = 'HadiagError';
    this.kind = kind;
    this.where = where;
    this.fix = fix;
  }
  get exitCode(): number {
    return EXIT_USAGE;
  }
  render(): string {
    let line = `hadiag: ${this.message}`;
    if (this.where) line += `: ${this.where}`;
    if (this.fix) line += ` — ${this.fix}`;
    return line;
  }
}

export const usageError = (what: string, where?: string, fix?: string) => new HadiagError('usage', what, where, fix);
export const configError = (what: string, where?: string, fix?: string) => new HadiagError('config', what, where, fix);
export const envError = (what: string, where?: string, fix?: string) => new HadiagError('environment', what, where, fix);

/** Render any thrown value as hadiag's one-line error. */
export function renderError(err: unknown, debug = false): string {
  if (err instanceof HadiagError) return debug && err.stack ? `${err.render()}\n${err.stack}` : err.render();
  const e = err as { message?: string; stack?: string };
  const msg = `hadiag: internal error: ${e?.message ?? String(err)} — rerun with --debug and report it`;
  return debug && e?.stack ? `${msg}\n${e.stack}` : msg;
}

/** Throws a usage error unless running as root (uid 0). */
export function requireRoot(what: string): void {
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    throw envError(`${what} needs root`, `uid ${process.getuid()}`, 'run it with sudo or as root (raw sockets, namespaces)');
  }
}
