/**
 * Worker process of the services benchmark for NATS JetStream KV (nats.js v2 against nats-server with
 * `-js`): one connection, one bucket (`history: 1`, file storage, direct gets where the server offers
 * them), puts and gets of the Order's protobuf bytes with N in flight.
 */
import { connect, type KV, type NatsConnection } from 'nats';
import { serve } from './overlay-ipc.ts';
import { Driver } from './overlay-load.ts';
import { keyOf, orderBytes } from './services-order.ts';

/** Arguments of the `load` operation: keys 1…keys taken in turn, `concurrency` in flight. */
export interface KvLoadArgs {
  readonly action: 'put' | 'get';
  readonly keys: number;
  readonly concurrency: number;
}

const driver = new Driver();
let nc: NatsConnection | undefined;
let kv: KV | undefined;
/** The value of every key: order bytes of one size (ids of equal length), built once. */
let values: Uint8Array[] = [];

function bucket(): KV {
  if (kv === undefined) throw new Error('no bucket: call `open` first');
  return kv;
}

/** Connects and opens (creating) bucket `name`; answers the mean value size in bytes. */
async function open(a: { port: number; name: string; keys: number }): Promise<number> {
  nc = await connect({ servers: `127.0.0.1:${a.port}`, name: 'bench-kv' });
  kv = await nc.jetstream().views.kv(a.name, { history: 1 });
  values = Array.from({ length: a.keys }, (_, i) => orderBytes(i + 1));
  return Math.round(values.reduce((n, v) => n + v.length, 0) / Math.max(1, values.length));
}

function operation(a: KvLoadArgs): (i: number) => Promise<unknown> {
  const b = bucket();
  if (a.action === 'put') {
    return (i) => {
      const k = keyOf(i, a.keys);
      return b.put(`o.${k}`, values[k - 1] as Uint8Array);
    };
  }
  return async (i) => {
    const e = await b.get(`o.${keyOf(i, a.keys)}`);
    if (e === null) throw new Error('missing key');
  };
}

/** Puts keys 1…count, `concurrency` in flight; answers the ms it took. */
async function preload(a: { count: number; concurrency: number }): Promise<number> {
  const put = operation({ action: 'put', keys: a.count, concurrency: a.concurrency });
  const t0 = performance.now();
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < a.count) await put(next++);
  };
  await Promise.all(Array.from({ length: a.concurrency }, lane));
  return performance.now() - t0;
}

serve({
  open,
  preload,
  load: (a: KvLoadArgs) => {
    const op = operation(a);
    let next = 0;
    driver.requests(() => op(next++), a.concurrency);
  },
  mark: () => driver.mark(),
  stop: () => driver.stop(),
  close: async () => {
    await nc?.close();
  },
});
