import { configError, HadiagError } from '../../core/errors.js';

/** One finding about a configuration file or the host it is for. */
export interface Diagnostic {
  severity: 'error' | 'warning';
  file: string;
  line?: number;
  message: string;
  fix?: string;
}

/** `file:line` (or just `file` when the finding is about the whole file). */
export function location(file: string, line?: number): string {
  return line === undefined ? file : `${file}:${line}`;
}

/** The `file:line` text of a Diagnostic or of a HadiagError thrown by a config parser. */
export function locationOf(x: Diagnostic | HadiagError): string {
  if (x instanceof HadiagError) return x.where ?? '';
  return location(x.file, x.line);
}

/** Split a HadiagError's `where` ("path:12" or "path") into file and line. */
export function splitLocation(where: string): { file: string; line?: number } {
  const m = /^(.*):(\d+)$/.exec(where);
  return m ? { file: m[1]!, line: Number(m[2]) } : { file: where };
}

/** check-config's line for a finding: `file:line: error: message — fix`. */
export function formatDiagnostic(d: Diagnostic): string {
  return `${location(d.file, d.line)}: ${d.severity}: ${d.message}${d.fix ? ` — ${d.fix}` : ''}`;
}

/** The HadiagError (configuration kind) a parser throws for an error Diagnostic. */
export function diagnosticToError(d: Diagnostic): HadiagError {
  return configError(d.message, location(d.file, d.line), d.fix);
}

/** A HadiagError turned back into a Diagnostic (e.g. one thrown by parseHaCfDuration). */
export function errorToDiagnostic(err: HadiagError, severity: Diagnostic['severity'] = 'error'): Diagnostic {
  const { file, line } = splitLocation(err.where ?? '');
  const d: Diagnostic = { severity, file, message: err.message };
  if (line !== undefined) d.line = line;
  if (err.fix) d.fix = err.fix;
  return d;
}

/** Collects findings while a parser keeps going, so check-config can list every one of them. */
export class DiagnosticSink {
  readonly items: Diagnostic[] = [];
  constructor(readonly file: string) {}

  error(line: number | undefined, message: string, fix?: string): void {
    this.push('error', line, message, fix);
  }

  warning(line: number | undefined, message: string, fix?: string): void {
    this.push('warning', line, message, fix);
  }

  /** Run `fn`; a HadiagError it throws becomes an error finding and `undefined` is returned. */
  attempt<T>(fn: () => T): T | undefined {
    try {
      return fn();
    } catch (err) {
      if (!(err instanceof HadiagError)) throw err;
      this.items.push(errorToDiagnostic(err));
      return undefined;
    }
  }

  get errors(): Diagnostic[] {
    return this.items.filter((d) => d.severity === 'error');
  }

  get warnings(): Diagnostic[] {
    return this.items.filter((d) => d.severity === 'warning');
  }

  /** Throw the first error as a HadiagError (what the throwing parse* functions do). */
  throwFirstError(): void {
    const first = this.errors[0];
    if (first) throw diagnosticToError(first);
  }

  private push(severity: Diagnostic['severity'], line: number | undefined, message: string, fix?: string): void {
    const d: Diagnostic = { severity, file: this.file, message };
    if (line !== undefined) d.line = line;
    if (fix) d.fix = fix;
    this.items.push(d);
  }
}
