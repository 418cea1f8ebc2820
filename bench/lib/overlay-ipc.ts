/**
 * The worker side of the overlay benchmark's IPC: a worker script registers its operations with
 * {@link serve}; the parent (bench/lib/overlay-proc.ts) calls them by name and awaits the answer.
 * A worker exits when its parent goes away, so no child outlives a crashed benchmark.
 */

/** A command from the parent: run operation `op` with `args` and answer with the same `id`. */
export interface Command {
  readonly id: number;
  readonly op: string;
  readonly args: unknown;
}

/** A worker's answer to a {@link Command}; id 0 is the unsolicited "ready" sent once at start. */
export type Reply =
  | { readonly id: number; readonly ok: true; readonly value: unknown }
  | { readonly id: number; readonly ok: false; readonly error: string };

/** Operations a worker offers; each receives the JSON arguments the parent sent. */
export type Ops = Record<string, (args: never) => unknown>;

/** Answers the parent's commands with `ops` (plus `exit`) and says ready. */
export function serve(ops: Ops): void {
  process.on('disconnect', () => process.exit(0));
  process.on('message', (msg: Command) => void run(ops, msg));
  send({ id: 0, ok: true, value: 'ready' });
}

async function run(ops: Ops, { id, op, args }: Command): Promise<void> {
  if (op === 'exit') {
    send({ id, ok: true, value: null });
    setImmediate(() => process.exit(0));
    return;
  }
  const fn = ops[op];
  try {
    if (fn === undefined) throw new Error(`unknown operation ${op}`);
    send({ id, ok: true, value: (await fn(args as never)) ?? null });
  } catch (err) {
    const e = err as { code?: string; message?: string };
    send({ id, ok: false, error: `${e.code ?? 'Error'}: ${e.message ?? String(err)}` });
  }
}

function send(reply: Reply): void {
  process.send?.(reply);
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Resolves in the check phase of this event-loop turn, after I/O and queued flushes. */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Polls `probe` every 10 ms until it is true; rejects after `timeoutMs` with `what` in the message. */
export async function until(probe: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = performance.now() + timeoutMs;
  while (!probe()) {
    if (performance.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(10);
  }
}

/** The 100-byte payload every case sends (binary where the system carries bytes). */
export const PAYLOAD = new Uint8Array(100).fill(0x61);
