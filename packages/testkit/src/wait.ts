import { withDeadline } from '@layer8/chaos';
import { l8error } from '@layer8/protocol';

/** Options of {@link waitFor}. */
export interface WaitOptions {
  /** Deadline, ms. Default 5000. */
  readonly timeoutMs?: number;
  /** What is awaited, for the timeout message. */
  readonly what?: string;
  /** Poll interval for conditions without an event, ms. Default 5. */
  readonly intervalMs?: number;
}

/**
 * Resolves with the first truthy value of `probe` (checked now, then every `intervalMs`; an async probe
 * is awaited), or rejects with `L8_ERR_TIMEOUT` at the deadline. For state that has no event to listen
 * to; never a fixed sleep.
 */
export async function waitFor<T>(
  probe: () => T | undefined | false | null | Promise<T | undefined | false | null>,
  options: WaitOptions = {},
): Promise<T> {
  const timeout = options.timeoutMs ?? 5000;
  const end = performance.now() + timeout;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false && v !== null) return v;
    if (performance.now() > end)
      throw l8error('L8_ERR_TIMEOUT', `timed out after ${timeout} ms waiting for ${options.what ?? 'a condition'}`);
    await new Promise((r) => setTimeout(r, options.intervalMs ?? 5));
  }
}

/** Resolves when `emitter` emits `event` (with its first argument), or rejects at the deadline. */
export function waitForEvent<T = unknown>(
  emitter: { once(event: string, fn: (arg: T) => void): unknown; off(event: string, fn: (arg: T) => void): unknown },
  event: string,
  timeoutMs = 5000,
): Promise<T> {
  return withDeadline(new Promise<T>((resolve) => emitter.once(event, resolve)), timeoutMs, `event ${event}`);
}

export { withDeadline };
