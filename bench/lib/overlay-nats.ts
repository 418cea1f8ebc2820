/**
 * Worker process of the overlay benchmark for nats.js v2 against nats-server: connections that serve
 * requests or count messages with callback subscriptions (the fastest form), a requester using the
 * shared mux inbox (the default request pattern), and a publisher that flushes every FLUSH_EVERY
 * messages so its buffer stays bounded. With `caFile` every connection requires TLS (`tls://`) and
 * verifies the server's certificate against that CA.
 */
import { connect, type Msg, type NatsConnection, type NatsError } from 'nats';
import { PAYLOAD, serve } from './overlay-ipc.ts';
import { Driver, PUMP_WINDOW } from './overlay-load.ts';

/** Arguments of the `connect` operation: `count` connections, each serving `services` (subject → role). */
export interface NatsArgs {
  readonly port: number;
  /** The CA (PEM file) of a server that requires TLS; plaintext when absent. */
  readonly caFile?: string;
  readonly count: number;
  readonly services: Readonly<Record<string, 'echo' | 'sink'>>;
}

const BATCH = PUMP_WINDOW;
const FLUSH_EVERY = 8192;
const driver = new Driver();
const conns: NatsConnection[] = [];
const CALLBACKS: Record<'echo' | 'sink', (err: NatsError | null, msg: Msg) => void> = {
  echo: (_err, msg) => {
    msg.respond(PAYLOAD);
  },
  sink: () => {
    driver.received++;
  },
};

async function open(a: NatsArgs): Promise<void> {
  const tls = a.caFile === undefined ? {} : { tls: { caFile: a.caFile } };
  const servers = `${a.caFile === undefined ? '' : 'tls://'}127.0.0.1:${a.port}`;
  for (let i = 0; i < a.count; i++) {
    const nc = await connect({ servers, name: `bench-${i}`, ...tls });
    for (const [subject, role] of Object.entries(a.services)) nc.subscribe(subject, { callback: CALLBACKS[role] });
    await nc.flush();
    conns.push(nc);
  }
}

function first(): NatsConnection {
  const nc = conns[0];
  if (nc === undefined) throw new Error('no connection in this process');
  return nc;
}

/** Publishes BATCH messages per turn; every FLUSH_EVERY waits for the server to have them all. */
function publisher(nc: NatsConnection, subject: string): () => Promise<number> {
  let sinceFlush = 0;
  return async () => {
    for (let i = 0; i < BATCH; i++) nc.publish(subject, PAYLOAD);
    sinceFlush += BATCH;
    if (sinceFlush >= FLUSH_EVERY) {
      sinceFlush = 0;
      await nc.flush();
    }
    return BATCH;
  };
}

serve({
  connect: open,
  requests: ({ subject, concurrency }: { subject: string; concurrency: number }) => {
    const nc = first();
    driver.requests(() => nc.request(subject, PAYLOAD, { timeout: 10_000 }), concurrency);
  },
  publish: ({ subject }: { subject: string }) => driver.pump(publisher(first(), subject)),
  mark: () => driver.mark(),
  stop: () => driver.stop(),
  close: async () => {
    await Promise.all(conns.map((nc) => nc.close()));
  },
});
