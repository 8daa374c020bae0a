/**
 * Process-wide cleanup registry: what hadiag built (namespaces, addresses, child processes) is undone on
 * normal exit, on error and on Ctrl-C / SIGTERM. Handlers run once, newest first.
 */
type Handler = () => Promise<void> | void;

const handlers = new Map<number, { label: string; fn: Handler }>();
let nextId = 1;
let installed = false;
let running: Promise<void> | undefined;

export function onCleanup(label: string, fn: Handler): () => void {
  install();
  const id = nextId++;
  handlers.set(id, { label, fn });
  return () => void handlers.delete(id);
}

export function runCleanups(): Promise<void> {
  if (running) return running;
  running = (async () => {
    const list = [...handlers.entries()].reverse();
    handlers.clear();
    for (const [, h] of list) {
      try {
        await h.fn();
      } catch (err) {
        process.stderr.write(`hadiag: cleanup of ${h.label} failed: ${(err as Error).message}\n`);
      }
    }
  })().finally(() => {
    running = undefined;
  });
  return running;
}

function install(): void {
  if (installed) return;
  installed = true;
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      process.stderr.write(`\nhadiag: ${sig}: cleaning up\n`);
      void runCleanups().finally(() => process.exit(sig === 'SIGINT' ? 130 : 143));
    });
  }
}
