import { l8error } from '@layer8/protocol';

/** Rejects with `L8_ERR_TIMEOUT` if `promise` does not settle within `ms`. */
export function withDeadline<T>(promise: Promise<T>, ms: number, what = 'an operation'): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(l8error('L8_ERR_TIMEOUT', `${what} did not finish within ${ms} ms`)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}
